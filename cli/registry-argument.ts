import { GociError } from '../common/errors.js';
import { DOCKER_HUB_REGISTRY } from '../registry/reference.js';

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/;

/** A registry as typed: `host[:port]`, or a URL such as `https://index.docker.io/v1/`. */
export function parseRegistryArgument(text: string): string {
  const host = text
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '');
  if (!HOST.test(host)) {
    throw new GociError('BAD_ARGUMENT', `"${text}" is not a registry host`, {
      hint: 'give host[:port], e.g. ghcr.io or 127.0.0.1:5000',
    });
  }
  return host;
}

export function formatRegistry(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY ? 'docker.io' : registry;
}
