import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GociError } from '../../common/errors.js';
import type { Platform } from '../../oci/platform.js';
import type { RegistryClient } from '../../registry/client.js';
import { formatReference, parseReference, type ImageRef } from '../../registry/reference.js';
import type { BaseLayers, ImageBase } from '../assemble.js';
import { remoteBaseRuntime, resolveRemoteBase } from './remote.js';
import {
  BASE_DATA_DIR,
  GROUP,
  NSSWITCH_CONF,
  OS_RELEASE,
  PASSWD,
  STATIC_BASE_VERSION,
  STATIC_BASE_DATA_FILES,
  staticBase,
  staticRuntime,
  type StaticVariant,
} from './static.js';

/** The bases goci builds itself. Remote bases (a registry reference) come with the registry client. */
export const BUILT_IN_BASES = ['static', 'static:nonroot', 'static:root', 'scratch'] as const;

/** Whether `name` is a base goci makes itself; any other name is a registry reference. */
export function isBuiltInBase(name: string): boolean {
  return (BUILT_IN_BASES as readonly string[]).includes(name);
}

const VARIANTS: Record<string, StaticVariant> = {
  static: 'nonroot',
  'static:nonroot': 'nonroot',
  'static:root': 'root',
};

/** What resolving a registry base needs: the platforms to pick and a client for its registry. */
export interface RemoteBaseContext {
  platforms: Platform[];
  clientFor: (registry: string) => RegistryClient;
}

/** A built-in base by name, or any other name as a registry reference (`gcr.io/distroless/static-debian12:nonroot`). */
export async function resolveAnyBase(name: string, where: string, context: RemoteBaseContext): Promise<ImageBase> {
  if (isBuiltInBase(name)) return resolveBase(name, where);
  const ref = parseReference(name);
  const remote = await resolveRemoteBase(context.clientFor(ref.registry), ref, context.platforms, where).catch(
    (error: unknown) => {
      throw name.includes('/') || !(error instanceof GociError) ? error : readAsRegistryImage(name, where, ref, error);
    },
  );
  return { kind: 'remote', name: formatReference(ref), remote, ...remoteBaseRuntime(remote.platforms) };
}

/**
 * A one-word base that is not built in (`distroless`) is a Docker Hub image: when that fails, say
 * how the word was read and which bases goci has, before what the registry said.
 */
function readAsRegistryImage(name: string, where: string, ref: ImageRef, error: GociError): GociError {
  const read = `"${name}" is not a built-in base (${BUILT_IN_BASES.join(', ')}), so it was read as ${formatReference(ref)}`;
  const ours = 'use a built-in base, or a full reference such as gcr.io/distroless/static-debian12:nonroot';
  // The registry's own advice (log in, check the name) still applies when the word was meant as an image.
  return new GociError(error.code, `${where}: ${read}, which failed: ${error.message}`, {
    hint: error.hint === undefined ? ours : `${error.hint}; or ${ours}`,
    cause: error,
  });
}

export async function resolveBase(name: string, where: string): Promise<BaseLayers> {
  if (name === 'scratch')
    return { name: undefined, entries: async () => [], cacheKey: undefined, env: [], user: '', workingDir: '' };
  const variant = VARIANTS[name];
  if (!variant) {
    throw new GociError('BAD_ARGUMENT', `${where}: "${name}" is not a built-in base`, {
      hint: `use one of ${BUILT_IN_BASES.join(', ')}, or a registry reference`,
    });
  }
  return {
    name: `goci static (${variant})`,
    entries: async () => (await staticBase(variant)).entries,
    cacheKey: await staticFingerprint(variant),
    ...staticRuntime(variant),
  };
}

/**
 * Everything the static base's bytes depend on: its version, the text files goci writes and the
 * vendored data (hashed, so a refreshed CA bundle or tzdata is a new key).
 */
async function staticFingerprint(variant: StaticVariant): Promise<string> {
  const hash = createHash('sha256').update(
    JSON.stringify([STATIC_BASE_VERSION, variant, PASSWD, GROUP, NSSWITCH_CONF, OS_RELEASE]),
  );
  for (const file of STATIC_BASE_DATA_FILES) hash.update(await readFile(join(BASE_DATA_DIR, file)));
  return `static-base ${hash.digest('hex')}`;
}
