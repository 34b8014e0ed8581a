import { createRequire } from 'node:module';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type Docker from 'dockerode';
import { GociError, isGociError } from '../common/errors.js';

export interface DockerLoadOptions {
  /**
   * The Docker daemon's unix socket. Default: the path of `DOCKER_HOST` when it is
   * `unix://<path>`, else /var/run/docker.sock.
   */
  socketPath?: string;
  /**
   * More names for the loaded image: a docker archive names one (`repo:tag`), and docker load
   * tags only that; `goci build --load --tags 1.2.3,latest` wants both.
   */
  alsoTag?: { repository: string; tag: string }[];
}

export interface DockerLoadResult {
  /** `sha256:<hex>`: the image ID (the digest of its config) as the daemon reports it. */
  imageId: string;
  /** The `<repository>:<tag>` names the daemon reported loading. */
  tags: string[];
}

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** How long to wait for `/_ping`: a daemon that is up answers in milliseconds. */
const PING_TIMEOUT_MS = 1500;
const UNREACHABLE_HINT = 'start dockerd, or set DOCKER_HOST=unix:///path/to/docker.sock to point at a running one';

/** The socket to use: the option, else `DOCKER_HOST` (unix:// only), else /var/run/docker.sock. */
export function dockerSocketPath(options: DockerLoadOptions = {}, env: NodeJS.ProcessEnv = process.env): string {
  if (options.socketPath !== undefined && options.socketPath !== '') return options.socketPath;
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return DEFAULT_DOCKER_SOCKET;
  if (host.startsWith('unix://')) return host.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET;
  throw new GociError(
    'BAD_ARGUMENT',
    `DOCKER_HOST=${host} is not a unix socket; goci loads images into Docker over a unix socket only`,
    {
      hint: 'set DOCKER_HOST=unix:///path/to/docker.sock, or unset it to use /var/run/docker.sock',
    },
  );
}

/**
 * Loads a docker-archive tarball (such as images/tarball.ts writes) into a Docker daemon, as
 * `docker load -i` does, and reports the image ID and the tags it got.
 *
 * It pings the daemon first, once, with a short timeout, so an unreachable daemon fails in
 * well under two seconds with a one-line GociError that names the socket. Errors the daemon
 * reports while loading (in the HTTP status or inside the progress stream) become GociErrors.
 */
export async function loadIntoDocker(tarballPath: string, options: DockerLoadOptions = {}): Promise<DockerLoadResult> {
  const socketPath = dockerSocketPath(options);
  const tarball = await stat(tarballPath).catch((error: NodeJS.ErrnoException) => error);
  if (tarball instanceof Error) {
    if (tarball.code === 'ENOENT') throw new GociError('NOT_FOUND', `image tarball ${tarballPath} does not exist`);
    throw new GociError('IO_FAILED', `cannot read image tarball ${tarballPath}: ${tarball.message}`, {
      cause: tarball,
    });
  }
  if (!tarball.isFile()) throw new GociError('BAD_ARGUMENT', `image tarball ${tarballPath} is not a regular file`);

  const docker = await connectToDocker(socketPath);

  try {
    const response = (await docker.loadImage(createReadStream(tarballPath), { quiet: true })) as NodeJS.ReadableStream;
    const messages = await readMessages(response);
    const result = parseLoadMessages(messages, tarballPath, socketPath);
    if (result.imageId === '') {
      // `Loaded image: repo:tag` names the image but not its ID: ask for it.
      const info = await docker.getImage(result.tags[0]!).inspect();
      result.imageId = info.Id;
    }
    for (const { repository, tag } of options.alsoTag ?? []) {
      await docker.getImage(result.imageId).tag({ repo: repository, tag });
      result.tags.push(`${repository}:${tag}`);
    }
    return result;
  } catch (error) {
    if (isGociError(error)) throw error;
    throw new GociError(
      'IO_FAILED',
      `docker load of ${tarballPath} into ${socketPath} failed: ${oneLine(daemonMessage(error))}`,
      { cause: error },
    );
  }
}

/**
 * A client for the daemon at `socketPath`, after one short ping: `goci build --load` calls it
 * before compiling, so an unreachable daemon fails fast and nothing is written.
 */
export async function connectToDocker(socketPath: string): Promise<Docker> {
  // Loaded only here: the CLI bundle keeps dockerode external, and most commands never need it. It
  // is CommonJS, and required rather than imported: the bundle runs in vm.Script, which has no import().
  const DockerClient = createRequire(import.meta.url)('dockerode') as typeof Docker;
  let docker: Docker;
  try {
    // `host: undefined` keeps a tcp:// DOCKER_HOST (which docker-modem reads itself) from winning over the socket.
    docker = new DockerClient({ socketPath, host: undefined });
  } catch (error) {
    throw new GociError(
      'BAD_ARGUMENT',
      `cannot set up a Docker client for ${socketPath}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  await ping(docker, socketPath);
  return docker;
}

async function ping(docker: Docker, socketPath: string): Promise<void> {
  try {
    // dockerode accepts an abort signal here; its type declarations do not list the options.
    const pingWithOptions = docker.ping as unknown as (
      this: Docker,
      options: { abortSignal: AbortSignal },
    ) => Promise<unknown>;
    await pingWithOptions.call(docker, { abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const name = (error as Error).name;
    const why =
      code === 'ENOENT'
        ? 'no such socket'
        : code === 'ECONNREFUSED'
          ? 'connection refused'
          : code === 'EACCES'
            ? 'permission denied'
            : name === 'AbortError' || name === 'TimeoutError' || code === 'ABORT_ERR'
              ? `no answer to /_ping within ${PING_TIMEOUT_MS / 1000} s`
              : oneLine(daemonMessage(error));
    throw new GociError('DOCKER_UNREACHABLE', `cannot reach the Docker daemon at unix://${socketPath} (${why})`, {
      hint:
        code === 'EACCES'
          ? 'run as a user in the docker group, or set DOCKER_HOST to a socket you can use'
          : UNREACHABLE_HINT,
      cause: error,
    });
  }
}

/** The JSON messages of a progress stream: one object per line (Docker ends each with "\r\n"). */
async function readMessages(stream: NodeJS.ReadableStream): Promise<unknown[]> {
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>)
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  const messages: unknown[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    try {
      messages.push(JSON.parse(trimmed));
    } catch {
      messages.push({ stream: trimmed });
    }
  }
  return messages;
}

interface LoadMessage {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

export function parseLoadMessages(messages: unknown[], tarballPath: string, socketPath: string): DockerLoadResult {
  const tags: string[] = [];
  let imageId = '';
  for (const raw of messages) {
    const message = (raw ?? {}) as LoadMessage;
    const error = message.errorDetail?.message ?? message.error;
    if (error !== undefined) {
      throw new GociError('IO_FAILED', `docker load of ${tarballPath} into ${socketPath} failed: ${oneLine(error)}`);
    }
    for (const line of (message.stream ?? '').split('\n')) {
      const id = /^Loaded image ID: (sha256:[0-9a-f]{64})\s*$/.exec(line);
      if (id !== null) {
        imageId = id[1]!;
        continue;
      }
      const tag = /^Loaded image: (\S+)\s*$/.exec(line);
      if (tag !== null && !tags.includes(tag[1]!)) tags.push(tag[1]!);
    }
  }
  if (imageId === '' && tags.length === 0) {
    throw new GociError('IO_FAILED', `docker load of ${tarballPath} into ${socketPath} reported no loaded image`, {
      detail: JSON.stringify(messages),
    });
  }
  return { imageId, tags };
}

/** What the daemon said: dockerode puts the decoded error body in `json`. */
function daemonMessage(error: unknown): string {
  const json = (error as { json?: unknown }).json;
  if (json !== null && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  if (typeof json === 'string' && json.trim() !== '') return json;
  return (error as Error).message ?? String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
