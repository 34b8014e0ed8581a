import { GociError } from '../common/errors.js';
import { formatPlatform, hostLinuxPlatform, parsePlatform } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';

/** The platform --load and --tarball's docker manifest use: the asked-for one, else this machine's, else the first. */
export function chooseLoadPlatform(platforms: Platform[], requested: string | undefined): Platform {
  const wanted = requested ? parsePlatform(requested, '--load-platform') : hostLinuxPlatform();
  const match = platforms.find((platform) => formatPlatform(platform) === formatPlatform(wanted));
  if (match) return match;
  if (requested)
    throw new GociError(
      'BAD_PLATFORM',
      `--load-platform ${requested}: the image has no such platform (it has ${platforms.map(formatPlatform).join(', ')})`,
    );
  return platforms[0]!;
}
