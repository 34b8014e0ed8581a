import { resolve } from 'node:path';
import { GociError } from '../common/errors.js';

/** `oci:DIR[:TAG]` → the layout directory and the tag. */
export function parseLayoutReference(text: string): { dir: string; tag: string | undefined } {
  const match = /^oci:([^:]+)(?::(.+))?$/.exec(text);
  if (!match)
    throw new GociError('BAD_ARGUMENT', `${text} is not an OCI layout reference`, {
      hint: 'write oci:DIR or oci:DIR:TAG, e.g. oci:dist/oci:1.2.3',
    });
  return { dir: resolve(match[1]!), tag: match[2] };
}

/** Whether an image argument names an OCI layout (`oci:DIR[:TAG]`) rather than a registry reference. */
export function isLayoutReference(text: string): boolean {
  return text.startsWith('oci:');
}
