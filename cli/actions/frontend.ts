import { GrpcClient } from '../../frontend/grpc/client.js';
import { runFrontend } from '../../frontend/run.js';

/** `goci frontend`: serve BuildKit's gateway over stdio. */
export async function frontend(): Promise<void> {
  // The connection is deliberately left open: BuildKit treats a connection closed before the
  // process has exited as a crash ("frontend grpc server closed unexpectedly") and discards the
  // result already returned. The process exits right after Return's answer (cli/main.ts).
  await runFrontend(GrpcClient.overStdio(), process.env);
}
