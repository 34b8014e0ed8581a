import { posix } from 'node:path';

/** A layer entry named `.wh.<name>` deletes `<name>` (and what is below it) from the layers beneath. */
export const WHITEOUT_PREFIX = '.wh.';
/** A layer entry `<dir>/.wh..wh..opq` hides everything the layers beneath hold below `<dir>`. */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** `usr/bin/x`, `./usr/bin/x` and `/usr/bin/x` are one path in a layer; directories may end in `/`. */
export function layerEntryPath(name: string): string {
  const normal = posix.normalize(`/${name}`).slice(1);
  return normal.endsWith('/') ? normal.slice(0, -1) : normal;
}
