import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { gociCacheDir } from '../common/cache-dir.js';

/** A log this long is rewritten with one line per blob. */
const COMPACT_AT = 4 * 1024 * 1024;
const LINE = /^(sha256:[0-9a-f]{64}) (\S+)$/;
/** Repositories remembered per blob, the latest kept. */
const PER_BLOB = 4;

/** `repositories` with `repository` moved (or added) to the end, at most PER_BLOB of them. */
function latest(repositories: readonly string[] | undefined, repository: string): string[] {
  return [...(repositories ?? []).filter((item) => item !== repository), repository].slice(-PER_BLOB);
}

/**
 * Which repositories of one registry goci pushed (or found) each blob in, as skopeo's blob-info
 * cache records it: a push to a new repository there mounts those blobs instead of uploading
 * them. Only a hint: a mount the registry refuses falls back to an upload, and the registry
 * checks the digest either way. One append-only log per registry, one line per record (small
 * O_APPEND writes), so goci processes pushing at once never corrupt it; a broken line is skipped.
 */
export class PushedBlobs {
  private constructor(
    private readonly path: string,
    private readonly repositories: Map<string, string[]>,
    private readonly size: number,
  ) {}

  static async open(registry: string, cacheDir = gociCacheDir()): Promise<PushedBlobs> {
    const name = createHash('sha256').update(registry).digest('hex').slice(0, 32);
    const path = join(cacheDir, 'pushed-blobs', `${name}.log`);
    const text = await readFile(path, 'utf8').catch(() => '');
    const repositories = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const match = LINE.exec(line);
      if (!match) continue;
      const [, digest, repository] = match as unknown as [string, string, string];
      repositories.set(digest, latest(repositories.get(digest), repository));
    }
    return new PushedBlobs(path, repositories, text.length);
  }

  /** A repository other than `target` that the blob was last seen in, if any. */
  sourceFor(digest: string, target: string): string | undefined {
    return (this.repositories.get(digest) ?? []).filter((repository) => repository !== target).at(-1);
  }

  /** Remembers that `repository` holds these blobs now (best effort: a cache that cannot be written is no error). */
  async record(repository: string, digests: readonly string[]): Promise<void> {
    const fresh = digests.filter((digest) => this.repositories.get(digest)?.at(-1) !== repository);
    if (fresh.length === 0) return;
    for (const digest of fresh) this.repositories.set(digest, latest(this.repositories.get(digest), repository));
    await mkdir(join(this.path, '..'), { recursive: true })
      .then(() =>
        this.size > COMPACT_AT
          ? writeFileAtomic(this.path, this.lines([...this.repositories.keys()]))
          : appendFile(this.path, fresh.map((digest) => `${digest} ${repository}\n`).join('')),
      )
      .catch(() => undefined);
  }

  /** One line per repository a blob is in, the latest last. */
  private lines(digests: string[]): string {
    return digests
      .flatMap((digest) => (this.repositories.get(digest) ?? []).map((repository) => `${digest} ${repository}\n`))
      .join('');
  }
}
