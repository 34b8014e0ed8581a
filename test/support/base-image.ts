import { join } from 'node:path';
import { parsePlatform } from '../../compiler/platform.js';
import { jsonBlob } from '../../oci/descriptor.js';
import { imageConfig } from '../../oci/image-config.js';
import { writeLayer } from '../../images/layer.js';
import { imageIndex, imageManifest } from '../../oci/manifest.js';
import { MEDIA_TYPES } from '../../oci/media-types.js';
import { layoutBlobDir, prepareLayout, tagInLayout, writeJsonBlob } from '../../oci/layout.js';
import { ociPlatform } from '../../oci/platform.js';
import { goci } from './goci.js';

/** What the base image's config says, so tests can check what an image built on it inherits. */
export const BASE_RUNTIME = {
  entrypoint: ['/usr/bin/base-entrypoint'],
  cmd: ['--from-base'],
  env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'BASE_ONLY=yes', 'SHARED=base'],
  user: '1000:1000',
  workingDir: '/srv',
  exposedPorts: ['9000/tcp'],
  volumes: [],
  stopSignal: 'SIGINT',
  labels: { 'org.example.base': 'yes' },
};

/**
 * A small multi-platform base image, made with goci's own image code and pushed with `goci push`
 * to `reference`: per platform one layer holding /etc/base-release (naming the platform) and an
 * empty /srv, and a config with BASE_RUNTIME and a history line.
 */
export async function pushBaseImage(work: string, reference: string, platforms: string[]): Promise<void> {
  const layout = join(work, `base-image-${reference.replace(/[^A-Za-z0-9]+/g, '-')}`);
  await prepareLayout(layout);
  const images = [];
  for (const text of platforms) {
    const platform = ociPlatform(parsePlatform(text));
    const layer = await writeLayer(
      [
        { type: 'directory', path: '/etc', mode: 0o755, uid: 0, gid: 0 },
        {
          type: 'file',
          path: '/etc/base-release',
          mode: 0o644,
          uid: 0,
          gid: 0,
          content: Buffer.from(`base ${text}\n`),
        },
        { type: 'directory', path: '/srv', mode: 0o755, uid: 1000, gid: 1000 },
      ],
      layoutBlobDir(layout),
      { mtime: 1700000000 },
    );
    const config = jsonBlob(
      imageConfig({
        platform,
        runtime: BASE_RUNTIME,
        layers: [{ diffId: layer.diffId, createdBy: `base layer for ${text}` }],
        created: 1700000000,
      }),
    );
    await writeJsonBlob(layout, config);
    const image = imageManifest('oci', platform, config, [layer], {});
    await writeJsonBlob(layout, image.manifest);
    images.push(image);
  }
  const index = imageIndex('oci', images, {});
  await writeJsonBlob(layout, index);
  await tagInLayout(layout, { mediaType: MEDIA_TYPES.oci.index, digest: index.digest, size: index.size }, 'base');
  const pushed = await goci(['push', `oci:${layout}:base`, reference]);
  if (pushed.exitCode !== 0) throw new Error(`goci push of the base image failed: ${pushed.stderr}`);
}
