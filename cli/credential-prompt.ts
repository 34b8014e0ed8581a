import { createInterface } from 'node:readline/promises';
import { GociError } from '../common/errors.js';
import type { CommandIo } from './command-io.js';

/** All of stdin, without the one line ending `echo` or a file adds. */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buffer.length;
    if (total > 1024 * 1024) throw new GociError('BAD_ARGUMENT', 'the password on stdin is longer than 1 MiB');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function promptVisible(question: string, io: Required<CommandIo>): Promise<string> {
  const reader = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    return (await reader.question(question)).trim();
  } finally {
    reader.close();
  }
}

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string, io: Required<CommandIo>): Promise<string> {
  const input = io.stdin as NodeJS.ReadStream;
  io.stderr.write(question);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const cleanup = (): void => {
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      io.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          cleanup();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          cleanup();
          reject(new GociError('BAD_ARGUMENT', 'login cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
  });
}

/**
 * The user and password for `goci login`: the user from -u or a visible prompt, the password from
 * stdin (--password-stdin) or a hidden prompt, never from a flag.
 */
export async function askCredentials(
  flags: { username?: string; passwordStdin?: boolean },
  streams: Required<CommandIo>,
): Promise<{ username: string; password: string }> {
  const terminal = (streams.stdin as { isTTY?: boolean }).isTTY === true && !flags.passwordStdin;
  let username = flags.username?.trim();
  if (!username) {
    if (!terminal)
      throw new GociError(
        'BAD_ARGUMENT',
        flags.passwordStdin
          ? 'goci login --password-stdin needs -u USER'
          : 'goci login needs -u USER when stdin is not a terminal',
      );
    username = await promptVisible('Username: ', streams);
    if (!username) throw new GociError('BAD_ARGUMENT', 'no user name given');
  }
  let password: string;
  if (flags.passwordStdin) password = await readAll(streams.stdin);
  else if (terminal) password = await promptHidden('Password: ', streams);
  else
    throw new GociError(
      'BAD_ARGUMENT',
      'goci login needs the password on stdin (--password-stdin) or a terminal to ask on',
    );
  if (password === '') throw new GociError('BAD_ARGUMENT', 'the password is empty');
  return { username, password };
}
