import assert from 'node:assert/strict';
import { join } from 'node:path';
import { goBuilderImage, type GoBuilderImage } from '../../images/go-builder-image.js';
import { writeTarball } from '../../sinks/tarball-writer.js';
import { docker, type DockerdHarness } from './dockerd.js';
import { goci } from './goci.js';

/** The name the examples' `# syntax=` line uses; tests load goci's frontend image under it. */
export const FRONTEND_IMAGE = 'goci.dev/frontend:0.1';
/** The Go builder image made from this machine's toolchain, for GO_IMAGE. */
export const GO_BUILDER_IMAGE = 'goci-go-builder:1.19';

function output(result: { stdout?: unknown; stderr?: unknown }): string {
  return `${String(result.stdout ?? '')}\n${String(result.stderr ?? '')}`;
}

/** Builds the Go builder image with goci's own image code and loads it into `daemon` as goci-go-builder:`tag`. */
export async function loadGoBuilderImage(
  daemon: DockerdHarness,
  work: string,
  tag: string,
  withShell = false,
): Promise<GoBuilderImage> {
  const image = await goBuilderImage({ withShell, layoutDir: join(work, `go-builder-${tag}`) });
  await loadBuiltGoBuilder(daemon, work, image, tag);
  return image;
}

/** Loads an already built Go builder image into `daemon` as goci-go-builder:`tag`. */
export async function loadBuiltGoBuilder(
  daemon: DockerdHarness,
  work: string,
  image: GoBuilderImage,
  tag: string,
): Promise<void> {
  const tarball = join(work, `go-builder-${tag}.tar`);
  await writeTarball(
    tarball,
    image.layoutDir,
    { repository: 'goci-go-builder', tag },
    [image.image],
    image.indexDescriptor,
    image.platform,
  );
  const loaded = await docker(['load', '-i', tarball], daemon, { timeoutMs: 900_000 });
  assert.equal(loaded.exitCode, 0, output(loaded));
}

/** `goci frontend-image --base host`, loaded into `daemon` under `name`. */
export async function loadFrontendImage(daemon: DockerdHarness, work: string, name = FRONTEND_IMAGE): Promise<void> {
  const [repository, tag] = [name.slice(0, name.lastIndexOf(':')), name.slice(name.lastIndexOf(':') + 1)];
  const tarball = join(work, 'frontend.tar');
  const built = await goci([
    'frontend-image',
    '--base',
    'host',
    '--tarball',
    tarball,
    '--repository',
    repository,
    '--tag',
    tag,
  ]);
  assert.equal(built.exitCode, 0, built.stderr);
  const loaded = await docker(['load', '-i', tarball], daemon, { timeoutMs: 900_000 });
  assert.equal(loaded.exitCode, 0, output(loaded));
}
