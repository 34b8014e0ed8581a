import { GociError } from '../common/errors.js';
import { found } from '../common/found.js';
import { fieldLocation } from './load.js';
import type { ImageSpec, Spec } from './schema.js';

/*
 * An image of goci.yaml as the spec describes it: which builds it holds, which starts it, and
 * what it is called. Both doors and the package selection read these.
 */

/**
 * The build ids whose binaries go into the image, in image.binaries order (default: every build).
 * A door compiles only these; a name that is no build's id or binary is a BAD_SPEC in both.
 */
export function imageBuildIds(spec: Spec, image: ImageSpec): string[] {
  const all = spec.builds.map((build) => build.id);
  if (!image.binaries) return all;
  return image.binaries.map((name, index) => {
    const match = spec.builds.find((build) => build.id === name || build.binary === name);
    if (!match)
      throw new GociError(
        'BAD_SPEC',
        `${fieldLocation(spec, `${image.path}.binaries[${index}]`)}: no build is called "${name}"; builds are ${all.join(', ')}`,
      );
    return match.id;
  });
}

/** The build whose binary an image starts: image.entrypoint, else the first of image.binaries. */
export function entrypointBuildId(spec: Spec, image: ImageSpec): string {
  return pickEntrypoint(imageBuildIds(spec, image), image, (path) => fieldLocation(spec, path));
}

function pickEntrypoint(builds: string[], image: ImageSpec, where: (path: string) => string): string {
  const first = found(builds[0], 'the first build of the image');
  if (!image.entrypoint) return first;
  if (builds.includes(image.entrypoint)) return image.entrypoint;
  throw new GociError(
    'BAD_SPEC',
    `${where(`${image.path}.entrypoint`)}: "${image.entrypoint}" is not one of the image's binaries (${builds.join(', ')})`,
  );
}

/** An image's name in its spec (what --target and goci publish call it): image.repository, else its entrypoint binary. */
export function specImageName(spec: Spec, image: ImageSpec): string {
  const entrypoint = entrypointBuildId(spec, image);
  return imageRepository(
    image,
    found(
      spec.builds.find((build) => build.id === entrypoint),
      entrypoint,
    ).binary,
  );
}

/**
 * The image a door builds when it makes one (BuildKit's --target): the one named, or the only one.
 * `option` is how the user names it, for messages.
 */
export function chooseImage(spec: Spec, name: string | undefined, option: string): ImageSpec {
  const names = spec.images.map((image) => specImageName(spec, image));
  if (name === undefined || name === '') {
    if (spec.images.length === 1) return spec.images[0]!;
    throw new GociError(
      'BAD_ARGUMENT',
      `${fieldLocation(spec, 'images')}: ${names.length} images (${names.join(', ')})`,
      {
        hint: `choose one with ${option} NAME`,
      },
    );
  }
  const position = names.indexOf(name);
  if (position < 0)
    throw new GociError('BAD_ARGUMENT', `${option} ${name}: no such image; the images are ${names.join(', ')}`);
  return spec.images[position]!;
}

/** The repository an image is named by where no push target names it: image.repository, else its entrypoint binary. */
export function imageRepository(image: ImageSpec, entrypointBinary: string): string {
  return image.repository ?? entrypointBinary;
}
