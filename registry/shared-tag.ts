import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gociCacheDir } from '../common/cache-dir.js';
import { GociError } from '../common/errors.js';
import { withLock } from '../common/lock.js';
import type { RegistryClient } from './client.js';
import { isRegistryFailure } from './http.js';

/** A manifest that several writers add entries to: a referrers fallback index, a cosign `.sig` image. */
export interface SharedTag {
  repository: string;
  tag: string;
  /** The type goci puts; `accept` also lists the types others store the same document as. */
  mediaType: string;
  accept: readonly string[];
  /**
   * The document to put, given the entries there now (the tag's manifest, parsed; undefined when it
   * is absent), once any blob it names is in the repository.
   */
  merged(current: unknown): Buffer | Promise<Buffer>;
  /** Whether what the tag holds already has this writer's entry. */
  holds(current: unknown): boolean;
}

/** After writing, a tag is read back this many times to find the entry overwritten by a writer on another machine. */
const ATTEMPTS = 3;

/**
 * Adds an entry to a tag other writers add to, by read, merge and put. The registry API has no
 * compare-and-swap, so goci processes sharing a cache (one machine, one CI runner) take turns
 * under a lock keyed by registry, repository and tag; a writer elsewhere can still put between
 * our read and our put, so the tag is read back and the merge redone if our entry is gone.
 */
export async function addToSharedTag(client: RegistryClient, shared: SharedTag): Promise<void> {
  const key = createHash('sha256').update(`${client.registry}\n${shared.repository}\n${shared.tag}`).digest('hex');
  const lock = join(gociCacheDir(), 'tag-locks', `${key}.lock`);
  let locked = false;
  const update = (): Promise<void> => mergeUntilHeld(client, shared);
  try {
    await withLock(lock, () => {
      locked = true;
      return update();
    });
  } catch (error) {
    // A cache goci cannot use (a read-only home, a path through a file) costs the turn-taking, not
    // the update; a lock another run holds too long is reported, not ignored.
    if (locked || (error instanceof GociError && error.code === 'IO_FAILED')) throw error;
    await update();
  }
}

async function mergeUntilHeld(client: RegistryClient, shared: SharedTag): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = await readTag(client, shared);
    if (shared.holds(current)) return;
    await client.putManifest(shared.repository, shared.tag, shared.mediaType, await shared.merged(current));
    if (shared.holds(await readTag(client, shared))) return;
  }
  throw new GociError(
    'REGISTRY_PROTOCOL',
    `${shared.repository}:${shared.tag} kept losing goci's entry to other writers`,
    {
      hint: 'another client rewrites that tag at the same time: run again once it is done',
    },
  );
}

async function readTag(client: RegistryClient, shared: SharedTag): Promise<unknown> {
  // One GET, not HEAD then GET: an absent tag is the registry's 404.
  const found = await client.getManifest(shared.repository, shared.tag, shared.accept).catch((error: unknown) => {
    if (isRegistryFailure(error, 'not-found')) return undefined;
    throw error;
  });
  if (!found) return undefined;
  const { bytes } = found;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    // Overwriting it would lose whatever someone meant to keep there: goci leaves it to them.
    throw new GociError('REGISTRY_PROTOCOL', `${shared.repository}:${shared.tag} holds a document that is not JSON`, {
      hint: 'delete or repair that tag, then sign or push again',
    });
  }
}
