import { dirname, join, resolve } from 'node:path';
import { GociError } from '../common/errors.js';
import type { SigningKey } from '../common/signing-key.js';
import { checkWritable } from '../common/writable.js';
import type { BuildContext } from '../compiler/context.js';
import { mainPackageDir } from '../compiler/main-package.js';
import type { Platform } from '../oci/platform.js';
import type { ImageBase } from '../images/assemble.js';
import { isBuiltInBase, resolveAnyBase } from '../images/base/resolve.js';
import { connectToDocker, dockerSocketPath } from '../sinks/docker-client.js';
import { findExtraFiles } from '../images/extra-files.js';
import { fileEntries, type FoundFile } from '../images/file-entries.js';
import { imageBuildIds } from '../spec/image-builds.js';
import { checkLayoutWritable } from '../sinks/layout-publish.js';
import type { RegistryClients } from '../registry/clients.js';
import { parseReference, type ImageRef } from '../registry/reference.js';
import type { Stamp } from '../compiler/version.js';
import { checkRelease } from './release-version.js';
import { pushTarget, type ImageIdentity, type Naming } from './push-target.js';
import { fieldLocation } from '../spec/load.js';
import type { ImageSpec, Spec } from '../spec/schema.js';
import { applyImageFlags, tagsFor, type ImageSettings } from './image-settings.js';

/** Settings of a whole run: the image's, plus where dist is and whether anything is written. */
export interface RunSettings extends ImageSettings {
  /** The dist directory, absolute. */
  dist: string;
  dryRun?: boolean;
  /** `goci publish`: each image pushed below this prefix (GOCI_REPO, --repo-prefix), named as `naming` says. */
  repoPrefix?: string;
  naming?: Naming;
  /** --release: only a tagged, clean version is built. */
  release?: boolean;
  /** The key --sign named, read by the door before anything compiles. */
  signingKey?: SigningKey;
}

/** One image of a run's plan: its spec, its settings in goci.yaml, and what the plan says of its targets. */
export interface ImageUnit {
  spec: Spec;
  image: ImageSpec;
  /** The linux platforms of its entrypoint's targets, in target order. */
  platforms: Platform[];
  /** What its binaries are stamped with (its tags derive from the version). */
  stamp: Stamp;
  /** Its entrypoint's main package, for naming it below a repository prefix. */
  identity: ImageIdentity;
}

/** An image's settings, checked, with its base resolved and its outputs ready to write. */
export interface PreparedImage {
  spec: Spec;
  image: ImageSpec;
  /** Its name in goci.yaml (image.repository, else the entrypoint binary). */
  name: string;
  /** Its entrypoint's main package's directory; undefined for another module's package. */
  mainPackage: string | undefined;
  /** The tags it is written under in every output. */
  tags: string[];
  base: ImageBase;
  /** What image.files names, walked and checked before anything compiles. */
  files: FoundFile<string>[][];
  /** The OCI layout to write; undefined when only pushing (blobs are then staged in a scratch layout). */
  layoutDir: string | undefined;
  push: ImageRef | undefined;
}

/** An image's settings checked without contacting anything: what `goci check` checks. */
export type CheckedImage = Omit<PreparedImage, 'base' | 'layoutDir'>;

/**
 * Everything that can be wrong with an image's settings that the files and flags alone show: its
 * binaries, entrypoint, tags, push target, release version, and image.files walked whole.
 */
export async function checkImage(unit: ImageUnit, settings: RunSettings, context: BuildContext): Promise<CheckedImage> {
  const { spec } = unit;
  const image = applyImageFlags(unit.image, settings);
  const push = await pushTarget(settings, unit.identity);
  if (settings.imageRefs !== undefined && push === undefined)
    throw new GociError(
      'BAD_ARGUMENT',
      `--image-refs ${settings.imageRefs}: nothing is pushed, so no reference to write`,
      {
        hint: 'add --push REPOSITORY (or use goci publish), or leave out --image-refs',
      },
    );
  if (settings.release) checkRelease(unit.stamp);
  const tags = tagsFor(unit.stamp.version, settings, push?.tag, image.tags);
  // image.files is walked and checked whole before anything is written or compiled.
  const where = (path: string): string => fieldLocation(spec, path);
  const files = await findExtraFiles(image.files, spec.baseDir, where, context);
  // The base's user is not known yet: prepareImage checks the directories' owners again once it is.
  fileEntries(image, files, where, image.user ?? '');
  imageBuildIds(spec, image);
  if (!isBuiltInBase(image.base)) parseReference(image.base);
  const mainPackage = await mainPackageDir(unit.identity.cwd, unit.identity.main);
  return { spec, image, name: unit.identity.name, mainPackage, tags, files, push };
}

/** The OCI layout a run writes: --oci-layout, else dist/oci unless the image is only pushed. */
export function layoutDirFor(settings: RunSettings, push: ImageRef | undefined): string | undefined {
  return settings.ociLayout !== undefined || !push
    ? resolve(settings.ociLayout ?? join(settings.dist, 'oci'))
    : undefined;
}

/** Everything that can be wrong with an image's settings, found before anything compiles; its base resolved. */
export async function prepareImage(
  unit: ImageUnit,
  settings: RunSettings,
  clients: RegistryClients,
  context: BuildContext,
): Promise<PreparedImage> {
  const checked = await checkImage(unit, settings, context);
  const { spec, image, push } = checked;
  const base = await resolveAnyBase(image.base, settings.base ? '--base' : fieldLocation(spec, `${image.path}.base`), {
    platforms: unit.platforms,
    clientFor: (registry) => clients.for(registry),
  });
  fileEntries(image, checked.files, (path) => fieldLocation(spec, path), image.user ?? base.user);
  return { ...checked, base, layoutDir: layoutDirFor(settings, push) };
}

/** Checks the outputs can be written (and reached) once every image's input was checked; creates nothing. */
export async function prepareOutputs(
  prepared: PreparedImage,
  settings: RunSettings,
  clients: RegistryClients,
): Promise<void> {
  if (settings.dryRun) return;
  if (settings.tarball) await checkWritable(dirname(resolve(settings.tarball)), 'write the tarball into', '--tarball');
  if (prepared.layoutDir) await checkLayoutWritable(prepared.layoutDir);
  if (settings.load) await connectToDocker(dockerSocketPath());
  if (prepared.push) await clients.for(prepared.push.registry).ping();
}
