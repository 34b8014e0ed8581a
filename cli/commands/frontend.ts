import { Command } from 'commander';
import { GrpcClient } from '../../frontend/grpc/client.js';
import { runFrontend } from '../../frontend/run.js';

export function frontendCommand(): Command {
  return new Command('frontend')
    .description('run as a BuildKit gateway frontend (the entrypoint of the goci frontend image; BuildKit starts it)')
    .action(async () => {
      // The connection is deliberately left open: BuildKit treats a connection closed before the
      // process has exited as a crash ("frontend grpc server closed unexpectedly") and discards the
      // result already returned. The process exits right after Return's answer (cli/main.ts).
      await runFrontend(GrpcClient.overStdio(), process.env);
    });
}
