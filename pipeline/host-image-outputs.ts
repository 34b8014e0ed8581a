import { resolve } from 'node:path';
import { GociError } from '../common/errors.js';
import type { HostImage } from '../images/host-files.js';
import { indexValue } from '../oci/index-value.js';
import type { LayerSource } from '../oci/layer.js';
import type { RegistryClients } from '../registry/clients.js';
import { formatReference, parseReference, type ImageRef } from '../registry/reference.js';
import { dockerDaemonSink } from '../sinks/docker-daemon.js';
import { connectToDocker, dockerSocketPath } from '../sinks/docker-client.js';
import { checkLayoutWritable } from '../sinks/layout-publish.js';
import { layoutSink } from '../sinks/oci-layout.js';
import { registrySink } from '../sinks/registry.js';
import type { Sink } from '../sinks/sink.js';
import { openStagedOutputs } from '../sinks/staged-outputs.js';
import { tarballSink } from '../sinks/tarball.js';
import { tee } from '../sinks/tee.js';
import { checkedTags } from './image-settings.js';

/** Where an image goci makes of this machine's files goes (goci frontend-image, goci builder-image). */
export interface HostImageOutputs {
  ociLayout?: string;
  tarball?: string;
  load?: boolean;
  push?: string;
  tag?: string[];
  repository?: string;
}

/** What such a command reports, as --json prints it. */
export interface PublishedHostImage {
  repository: string;
  tags: string[];
  index: { digest: string; size: number };
  manifest: { digest: string; platform: string; size: number };
  ociLayout?: string;
  tarball?: string;
  loaded?: { imageId: string; tags: string[] };
  pushed?: string;
}

/** What the image maker is told: where to write, and where the image is pushed (to mount a base's layers). */
export interface HostImageTarget {
  storeDir: string;
  push: ImageRef | undefined;
  /** Only pushed: a base's layers need not be here when the push mounts them. */
  pushOnly: boolean;
}

/**
 * Makes an image with `make` into a staged layout and publishes it through the same sinks as
 * `goci build`: the layout, registry, tarball and docker daemon in one step. Everything that can
 * fail fast (a layout that cannot be written, no daemon, no registry) does, before any layer is.
 */
export async function publishHostImage(
  outputs: HostImageOutputs,
  defaults: { repository: string; ociLayout: string; tags: string[] },
  clients: RegistryClients,
  make: (target: HostImageTarget) => Promise<{ image: HostImage; sources?: ReadonlyMap<string, LayerSource> }>,
): Promise<PublishedHostImage> {
  const push = outputs.push === undefined ? undefined : parseReference(outputs.push);
  if (push?.digest)
    throw new GociError('BAD_ARGUMENT', `--push ${outputs.push}: push to a repository or a tag, not a digest`);
  const tags = checkedTags(outputs.tag ?? (push?.tag ? [push.tag] : defaults.tags));
  const repository = outputs.repository ?? (push ? formatReference({ ...push, tag: undefined }) : defaults.repository);
  const layoutDir =
    outputs.ociLayout !== undefined || (!outputs.tarball && !outputs.load && !push)
      ? resolve(outputs.ociLayout ?? defaults.ociLayout)
      : undefined;
  if (layoutDir) await checkLayoutWritable(layoutDir);
  if (outputs.load) await connectToDocker(dockerSocketPath());
  if (push) await clients.for(push.registry).ping();
  const staged = await openStagedOutputs(layoutDir, []);
  try {
    const pushOnly = push !== undefined && !layoutDir && !outputs.tarball && !outputs.load;
    const { image, sources } = await make({ storeDir: staged.store.dir, push, pushOnly });
    const archive = { repository, platform: image.platform };
    const sinks: Sink[] = [];
    if (layoutDir) sinks.push(layoutSink(staged));
    if (push) sinks.push(registrySink(clients.for(push.registry), push));
    if (outputs.tarball) sinks.push(tarballSink(staged, outputs.tarball, archive));
    if (outputs.load) sinks.push(dockerDaemonSink(archive));
    const index = indexValue({
      index: image.index,
      mediaType: image.indexDescriptor.mediaType,
      images: [image.image],
      referrers: [],
      store: staged.store,
      ...(sources ? { sources } : {}),
    });
    const outcome = await tee(...sinks).write(index, tags);
    await staged.publish();
    const { manifest, config, layers } = image.image;
    const { os, architecture, variant } = image.platform;
    return {
      repository,
      tags,
      index: { digest: image.index.digest, size: image.index.size },
      manifest: {
        digest: manifest.digest,
        platform: `${os}/${architecture}${variant ? `/${variant}` : ''}`,
        size: manifest.size + config.size + layers.reduce((sum, layer) => sum + layer.size, 0),
      },
      ...(outcome.ociLayout ? { ociLayout: outcome.ociLayout } : {}),
      ...(outcome.tarball ? { tarball: outcome.tarball } : {}),
      ...(outcome.loaded ? { loaded: outcome.loaded } : {}),
      ...(outcome.pushed ? { pushed: outcome.pushed.reference } : {}),
    };
  } finally {
    await staged.dispose();
  }
}
