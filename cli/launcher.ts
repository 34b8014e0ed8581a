import { loadBundle } from '../common/code-cache.js';

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
