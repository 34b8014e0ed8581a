import { Command, CommanderError } from 'commander';
import { buildCommand } from './commands/build.js';
import { checkCommand } from './commands/check.js';
import { compileCommand } from './commands/compile.js';
import { frontendCommand } from './commands/frontend.js';
import { buildArgsCommand } from './commands/build-args.js';
import { keygenCommand } from './commands/keygen.js';
import { signCommand } from './commands/sign.js';
import { verifyCommand } from './commands/verify.js';
import { builderImageCommand } from './commands/builder-image.js';
import { frontendImageCommand } from './commands/frontend-image.js';
import { initCommand } from './commands/init.js';
import { inspectCommand } from './commands/inspect.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { publishCommand } from './commands/publish.js';
import { pushCommand } from './commands/push.js';
import { resolveCommand } from './commands/resolve.js';
import { schemaCommand } from './commands/schema.js';
import { releaseCommand } from './commands/release.js';
import { reportError, writeJsonFailure } from './report-error.js';
import { GOCI_VERSION } from '../common/goci-version.js';
import { handleStopSignals } from '../common/interrupt.js';
import { holdKeyPassword } from '../common/key-password.js';

const outputError = (text: string, write: (text: string) => void): void => write(text.replace(/^error: /, 'goci: '));

const program = new Command('goci')
  .description('build reproducible, multi-arch container images for Go programs, no Docker daemon needed')
  .version(GOCI_VERSION, '-V, --version', "print goci's own version")
  // Program options only before a command: `goci build --version 1.2.3` is build's own --version.
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ outputError })
  .addCommand(buildCommand())
  .addCommand(publishCommand())
  .addCommand(resolveCommand())
  .addCommand(compileCommand())
  .addCommand(releaseCommand())
  .addCommand(inspectCommand())
  .addCommand(pushCommand())
  .addCommand(frontendCommand(), { hidden: true })
  .addCommand(loginCommand())
  .addCommand(logoutCommand())
  .addCommand(frontendImageCommand())
  .addCommand(builderImageCommand())
  .addCommand(buildArgsCommand())
  .addCommand(signCommand())
  .addCommand(verifyCommand())
  .addCommand(keygenCommand())
  .addCommand(initCommand())
  .addCommand(checkCommand())
  .addCommand(schemaCommand());

// addCommand does not pass settings down: each command's usage errors also read `goci: …`.
for (const command of program.commands) command.exitOverride().configureOutput({ outputError });

/** `--json` given to a command that has it: its failures are printed as JSON on stdout too. */
function jsonRequested(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  const flags = end >= 0 ? args.slice(0, end) : args;
  const name = flags.find((arg) => program.commands.some((candidate) => candidate.name() === arg));
  const command = program.commands.find((candidate) => candidate.name() === name);
  const hasJson = command?.options.some((option) => option.long === '--json') ?? false;
  return hasJson && flags.includes('--json');
}
/**
 * Runs goci with `argv` (node, the script, then goci's arguments) and exits. lib/goci.cjs (cli/launcher.ts)
 * calls it from the bundle this module is the entry of.
 */
export async function runCli(argv: string[]): Promise<void> {
  // SIGINT/SIGTERM: stop go, remove goci's temporary files, exit 130/143 with one line.
  handleStopSignals();
  holdKeyPassword();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const json = jsonRequested(argv);
    if (error instanceof CommanderError) {
      // Help and version exit 0; every usage mistake has already been printed by commander.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      if (json && error.exitCode !== 0) {
        const message = error.message.replace(/^error: /, '');
        writeJsonFailure({ code: 'BAD_ARGUMENT', message, hint: null, exitCode: 2 });
      }
    } else {
      process.exitCode = reportError(error, argv.includes('--verbose') || argv.includes('-v'), json);
    }
  }
  // Idle keep-alive connections and pool timers of the HTTP client would hold the process open
  // for a while after the work is done; once both streams have flushed there is nothing left to wait for.
  await Promise.all(
    [process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))),
  );
  process.exit();
}
