import { GociError } from '../common/errors.js';
import type { Stamp } from '../compiler/version.js';

/**
 * --release: a push CI makes of a release is refused unless its version is one: not built from
 * uncommitted changes, not a development version (commits after a tag, or no tag: `-dev`).
 */
export function checkRelease(stamp: Stamp): void {
  if (stamp.modified)
    throw new GociError('BAD_VERSION', `--release: version ${stamp.version} is built from uncommitted changes`, {
      hint: 'commit (or git-ignore) them, or build without --release',
    });
  if (stamp.development)
    throw new GociError('BAD_VERSION', `--release: version ${stamp.version} is a development version, not a tag`, {
      hint: 'tag the commit (git tag v1.2.3) and fetch tags in CI, or give --version',
    });
}
