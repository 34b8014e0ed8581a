import { join } from 'node:path';
import { GociError } from '../common/errors.js';
import { goRelease } from '../compiler/go-release.js';
import { goRoot } from '../compiler/toolchain.js';
import { goBuilderImage, toolchainGoVersion } from '../images/go-builder-image.js';
import type { RegistryClients } from '../registry/clients.js';
import { publishHostImage, type HostImageOutputs, type PublishedHostImage } from './host-image-outputs.js';

/** What `goci builder-image` is asked to make, and where it goes. */
export interface BuilderImageSettings extends HostImageOutputs {
  /** The toolchain to put in (default: GOROOT of the go on PATH). */
  goroot?: string;
  /** Add /bin/sh and /usr/bin/env, for Dockerfile RUN lines in shell form. */
  shell?: boolean;
}

export const DEFAULT_BUILDER_REPOSITORY = 'goci-go';
export const DEFAULT_BUILDER_LAYOUT = join('dist', 'go-builder-oci');

/** What the command reports: the image, and the Go version it holds. */
export interface BuilderImageResult extends PublishedHostImage {
  goVersion: string;
}

/**
 * The frontend's Go image made from this machine's toolchain, published as frontend-image is:
 * tagged with its Go version (`1.19.8`, `1.19`) unless --tag says otherwise. For BuildKit
 * without internet, and for images whose Go is the CLI's own.
 */
export async function buildBuilderImage(
  settings: BuilderImageSettings,
  clients: RegistryClients,
): Promise<BuilderImageResult> {
  const goroot = settings.goroot ?? (await goRoot());
  // The version tags need the Go version before anything is written: the go binary says it.
  const probe = await toolchainGoVersion(goroot);
  const release = goRelease(probe);
  if (release === undefined)
    throw new GociError(
      'BAD_ARGUMENT',
      `${goroot}: ${probe} is not a Go release, so there is no version to tag it with`,
      {
        hint: 'name the tags with --tag',
      },
    );
  const [major, minor] = release.split('.');
  const tags = settings.tag ?? [release, `${major}.${minor}`];
  const defaults = {
    repository: DEFAULT_BUILDER_REPOSITORY,
    ociLayout: DEFAULT_BUILDER_LAYOUT,
    tags: [...new Set(tags)],
  };
  const published = await publishHostImage(settings, defaults, clients, async ({ storeDir }) => ({
    image: await goBuilderImage({ goroot, withShell: settings.shell === true, layoutDir: storeDir }),
  }));
  return { ...published, goVersion: probe };
}
