import { availableParallelism } from 'node:os';
import { loadBundle } from '../common/code-cache.js';

// libuv sizes its thread pool when it is first used, which is after this line: a thread per core
// for deflate (images/piecewise-deflate.ts) and two more, so file operations never wait behind it.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 2));

/** The command, for the code cache: `build`, `push`, …; `goci` for options alone (`goci --help`). */
function commandOf(argv: string[]): string {
  const first = argv[2] ?? '';
  return /^[a-z][a-z-]{0,30}$/.test(first) ? first : 'goci';
}

/**
 * The `goci` command (bundled into lib/goci.cjs, CommonJS: Node starts an ES module entry 6 ms
 * slower): runs the CLI bundle beside it, lib/cli.cjs, whose entry is cli/main.ts, through V8's
 * code cache (common/code-cache.ts), one cache per command.
 */
const cli = loadBundle(new URL('cli.cjs', import.meta.url), commandOf(process.argv)) as {
  runCli(argv: string[]): Promise<void>;
};
void cli.runCli(process.argv);
