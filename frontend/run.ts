import { isGociError } from '../common/errors.js';
import { buildResult } from './build.js';
import { Gateway, type UnaryTransport } from './gateway.js';
import type { Result } from './gen/gateway_pb.js';
import { readFrontendOptions } from './options.js';

/** gRPC's UNKNOWN: BuildKit shows the message to the user as the build's error. */
const STATUS_UNKNOWN = 2;

function describeFailure(error: unknown): string {
  if (isGociError(error)) return `goci: ${error.message}${error.hint ? ` (${error.hint})` : ''}`;
  return `goci: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * One frontend run inside BuildKit: build, then Return the result, or the failure as one goci
 * line. Everything but protocol frames goes to stderr; BuildKit shows it in the build log.
 */
export async function runFrontend(transport: UnaryTransport, env: NodeJS.ProcessEnv): Promise<void> {
  const gateway = new Gateway(transport);
  let current = 'starting';
  // Each step goes to stderr too: BuildKit writes a frontend's stderr to its own log.
  const progress = {
    get step(): string {
      return current;
    },
    set step(value: string) {
      current = value;
      process.stderr.write(`goci frontend: ${value}\n`);
    },
  };
  progress.step = 'starting';
  // If nothing is left to wait for before a result was returned, say where that happened
  // instead of leaving BuildKit with "frontend grpc server closed unexpectedly".
  const emptied = (): void => {
    void gateway.return(undefined, {
      code: STATUS_UNKNOWN,
      message: `goci: the frontend stopped without a result while ${progress.step}`,
    });
  };
  process.once('beforeExit', emptied);
  let result: Result;
  try {
    result = await buildResult(gateway, readFrontendOptions(env), progress);
  } catch (error) {
    const message = describeFailure(error);
    process.stderr.write(`${message}\n`);
    process.removeListener('beforeExit', emptied);
    await gateway.return(undefined, { code: STATUS_UNKNOWN, message });
    return;
  }
  process.removeListener('beforeExit', emptied);
  try {
    await gateway.return(result);
    progress.step = 'returned';
  } catch (error) {
    process.stderr.write(
      `goci frontend: Return failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    throw error;
  }
}
