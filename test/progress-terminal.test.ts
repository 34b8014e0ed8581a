import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { CLI, goci } from './support/goci.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 14, point 3: the live display in a real terminal (tmux, 80 columns): lines longer than
 * the terminal (an image digest) once wrapped, and each redraw then left stale pieces above the
 * block. Afterwards the screen holds the summary and nothing of the display.
 */

const BUILD = ['build', '--platform', 'linux/amd64,linux/arm64', '--version', '1.2.3', '--sbom', 'none'];
const PROGRESS_LINE = /^(goci: )?(compiling|compiled|assembling|assembled|wrote) /;

let work: string;
let repo: string;

before(async () => {
  work = await temporaryDirectory('terminal');
  repo = await exampleRepository('hello', 'terminal-hello');
});
after(() => Promise.all([work, repo].map(removeDirectory)));

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `command` in a detached 80×24 tmux session of its own server and returns the pane's
 * lines once it exits (wrapped lines joined, as the terminal wrapped them), ending with
 * `[exit N]`.
 */
async function inTerminal(name: string, command: string[]): Promise<string[]> {
  const socket = join(work, `${name}.sock`);
  const tmux = (...args: string[]) => execa('tmux', ['-S', socket, ...args], { cwd: repo });
  const line = `${command.map(quote).join(' ')}; echo "[exit $?]"; tmux -S ${quote(socket)} wait-for -S done; sleep 600`;
  await tmux('new-session', '-d', '-x', '80', '-y', '24', '-s', name, 'sh', '-c', line);
  try {
    await tmux('wait-for', 'done');
    const { stdout } = await tmux('capture-pane', '-p', '-J', '-t', name);
    return stdout.split('\n').map((text) => text.trimEnd());
  } finally {
    await tmux('kill-server').catch(() => undefined);
  }
}

describe('the progress display in an 80-column terminal', () => {
  test('leaves the summary alone on the screen: no wrapped or stale progress lines', async () => {
    const pane = await inTerminal('live', [process.execPath, CLI, ...BUILD, '--dist', 'dist-live']);
    assert.equal(pane.filter((text) => PROGRESS_LINE.test(text)).length, 0, pane.join('\n'));
    // The same build, its output not a terminal: the summary it prints is what the pane shows.
    const plain = await goci([...BUILD, '--dist', 'dist-live'], { cwd: repo });
    assert.equal(plain.exitCode, 0, plain.stderr);
    const shown = pane.filter((text) => text !== '');
    assert.deepEqual(shown, [...plain.stdout.split('\n').filter((text) => text !== ''), '[exit 0]']);
  });

  test('TERM=dumb prints plain lines there instead of redrawing', async () => {
    const pane = await inTerminal('dumb', ['env', 'TERM=dumb', process.execPath, CLI, ...BUILD, '--dist', 'dist-dumb']);
    assert.ok(pane.includes('goci: compiling hello linux/amd64'), pane.join('\n'));
    assert.ok(
      pane.some((text) => /^goci: assembled hello:1\.2\.3 sha256:[0-9a-f]{64}$/.test(text)),
      pane.join('\n'),
    );
    assert.equal(pane.filter((text) => text !== '').at(-1), '[exit 0]');
  });
});
