import type { Platform } from '../oci/platform.js';
import { GociError } from '../common/errors.js';
import { FRONTEND_BASE_DIR } from '../images/frontend-image.js';
import type { FileStep } from './llb/file.js';
import { imageSource } from './llb/sources.js';

/**
 * The built-in static base's files as one FileOp copy: goci's frontend image carries the base's
 * filesystem under FRONTEND_BASE_DIR (images/frontend-image.ts), exactly the entries the CLI
 * writes as its base layer (modes, owners, symlinks kept as symlinks). The frontend names its own
 * image (BuildKit's `source` option) as an image source on the build platform and copies that
 * directory's contents to `/`, every time stamped `epoch` as the CLI stamps its layer. No file
 * data travels in BuildKit's messages: the copy is a few hundred bytes whatever the platforms.
 */
export function baseSteps(frontendImage: string, buildPlatform: Platform, epoch: number): FileStep[] {
  return [
    {
      kind: 'copy',
      from: imageSource(frontendImage, buildPlatform),
      src: `${FRONTEND_BASE_DIR}/`,
      dest: '/',
      dirContents: true,
      followSymlink: false,
      timestamp: epoch,
    },
  ];
}

/** The frontend's own image reference: BuildKit passes it as the `source` option (gateway.v0 and `# syntax=`). */
export function frontendImageRef(opts: Record<string, string>): string {
  const source = opts.source;
  if (!source)
    throw new GociError(
      'BAD_ARGUMENT',
      'BuildKit did not say which image this frontend runs from (no `source` option), so the static base cannot be read from it',
      {
        hint: 'use the frontend through a # syntax= line, or buildctl --frontend gateway.v0 --opt source=IMAGE; image.base: scratch needs no files from it',
      },
    );
  return source;
}
