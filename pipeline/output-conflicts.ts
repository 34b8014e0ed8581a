import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { formatReference } from '../registry/reference.js';
import { fieldLocation } from '../spec/load.js';
import { layoutDirFor, type CheckedImage, type RunSettings } from './prepare-image.js';

const PUSH_HINT =
  'push each image to its own repository with goci publish (GOCI_REPO=registry/team or --repo-prefix), ' +
  'or give the images their own tags (images[].tags in goci.yaml)';

/**
 * Two images of one run written under one name would leave only the second: refused before
 * anything compiles. A push is named `repository:tag`; an image loaded into Docker
 * `name:tag`; a layout of several images names each `name:tag`; a tarball holds one image.
 */
export function checkDistinctOutputs(prepared: CheckedImage[], settings: RunSettings): void {
  if (settings.tarball !== undefined && prepared.length > 1) {
    const names = prepared.map((image) => image.name).join(', ');
    throw new GociError('BAD_ARGUMENT', `--tarball ${settings.tarball}: holds one image, and this run makes ${names}`, {
      hint: 'build one image per run when writing a tarball (name its package or goci.yaml alone)',
    });
  }
  const pushedAs = new Map<string, CheckedImage>();
  const namedAs = new Map<string, CheckedImage>();
  for (const image of prepared) {
    for (const tag of image.tags) {
      if (image.push)
        claim(pushedAs, `${formatReference({ ...image.push, tag: undefined })}:${tag}`, image, 'pushed as');
      if (settings.load || layoutDirFor(settings, image.push)) claim(namedAs, `${image.name}:${tag}`, image, 'named');
    }
  }
}

function claim(claimed: Map<string, CheckedImage>, name: string, image: CheckedImage, verb: string): void {
  const earlier = claimed.get(name);
  if (earlier === undefined) {
    claimed.set(name, image);
    return;
  }
  const which = (item: CheckedImage): string =>
    `${item.name} (${item.spec.file ? fieldLocation(item.spec, item.image.path) : displayPath(item.spec.baseDir)})`;
  throw new GociError('BAD_ARGUMENT', `images ${which(earlier)} and ${which(image)} would both be ${verb} ${name}`, {
    hint: verb === 'pushed as' ? PUSH_HINT : 'give the images different names (image.repository) or tags',
  });
}
