import { GociError } from '../common/errors.js';

/** A parsed image reference: where the registry is, which repository, and tag and/or digest. */
export interface ImageRef {
  /** The registry host as used on the wire (`registry-1.docker.io` for Docker Hub), with port. */
  registry: string;
  /** The repository path (`library/alpine` on Docker Hub). */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

export const DOCKER_HUB_HOSTS = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
/** The key Docker's config.json uses for Docker Hub credentials. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** Docker's tag grammar (goci.yaml's schema uses it too). */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** TAG in words, for messages. */
export const TAG_RULE = "letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-'";

/** Docker's tag grammar: letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-'. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/;

function badReference(text: string, problem: string): GociError {
  return new GociError('BAD_ARGUMENT', `"${text}" is not an image reference: ${problem}`, {
    hint: 'write it as [registry[:port]/]repository[:tag][@sha256:digest], e.g. ghcr.io/acme/api:1.2.3',
  });
}

/**
 * Parses a reference the way Docker does: the first component is a registry when it has a
 * dot or a port or is `localhost`; otherwise the image is on Docker Hub, where a one-part
 * name lives under `library/`.
 */
export function parseReference(text: string): ImageRef {
  let rest = text.trim();
  if (rest === '') throw badReference(text, 'it is empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw badReference(text, `"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw badReference(
        text,
        `the tag "${tag}" has invalid characters (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')`,
      );
  }
  const parts = rest.split('/');
  const first = parts[0]!;
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'docker.io';
  if (hasRegistry && !HOST.test(registry)) throw badReference(text, `"${registry}" is not a registry host`);
  const path = hasRegistry ? parts.slice(1) : parts;
  for (const component of path) {
    if (!PATH_COMPONENT.test(component))
      throw badReference(
        text,
        `"${component}" is not a valid repository name component (lowercase letters, digits, and . _ - between them)`,
      );
  }
  const hub = DOCKER_HUB_HOSTS.includes(registry.toLowerCase());
  const repository = hub && path.length === 1 ? `library/${path[0]}` : path.join('/');
  return { registry: hub ? DOCKER_HUB_REGISTRY : registry, repository, tag, digest };
}

/** The reference with a new tag or digest; the rest unchanged. */
export function withTag(ref: ImageRef, tag: string): ImageRef {
  if (!TAG.test(tag))
    throw new GociError(
      'BAD_ARGUMENT',
      `tag "${tag}" has invalid characters (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')`,
    );
  return { ...ref, tag, digest: undefined };
}

export function withDigest(ref: ImageRef, digest: string): ImageRef {
  return { ...ref, tag: undefined, digest };
}

/** `registry/repository[:tag][@digest]`, Docker Hub shown as `docker.io`. */
export function formatReference(ref: ImageRef): string {
  const registry = ref.registry === DOCKER_HUB_REGISTRY ? 'docker.io' : ref.registry;
  return `${registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/**
 * Plain HTTP is only for registries on this machine's loopback, or hosts the user named with
 * --insecure-registry: credentials must not cross a network in clear text by accident.
 */
export function registryScheme(registry: string, insecureRegistries: readonly string[]): 'http' | 'https' {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return loopback || insecureRegistries.includes(registry) || insecureRegistries.includes(host) ? 'http' : 'https';
}
