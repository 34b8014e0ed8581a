import { join } from 'node:path';
import { parsePlatform } from '../../compiler/platform.js';
import { jsonBlob } from '../../oci/descriptor.js';
import { imageConfig } from '../../oci/image-config.js';
import { writeLayer } from '../../images/layer.js';
import { imageManifest, type ImageManifest } from '../../oci/manifest.js';
import { layoutBlobDir, writeJsonBlob } from '../../oci/layout.js';
import { ociPlatform } from '../../oci/platform.js';

/**
 * A one-layer image of a goci-compiled hello binary (from `<distDir>/bin`), assembled from the
 * image stage's parts alone, so sink tests do not depend on `goci build`.
 */
export async function helloImage(
  distDir: string,
  layout: string,
  platformText: string,
  epoch: number,
): Promise<ImageManifest> {
  const platform = parsePlatform(platformText);
  const suffix = `${platform.os}-${platform.arch}${platform.variant ?? ''}`;
  const layer = await writeLayer(
    [
      {
        type: 'file',
        path: '/usr/local/bin/hello',
        mode: 0o755,
        uid: 0,
        gid: 0,
        source: join(distDir, 'bin', `hello-1.2.3-${suffix}`),
      },
    ],
    layoutBlobDir(layout),
    { mtime: epoch },
  );
  const runtime = {
    entrypoint: ['/usr/local/bin/hello'],
    cmd: [],
    env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
    user: '65532',
    workingDir: '/',
    exposedPorts: [],
    volumes: [],
    stopSignal: undefined,
    labels: { 'org.opencontainers.image.version': '1.2.3' },
  };
  const config = jsonBlob(
    imageConfig({
      platform: ociPlatform(platform),
      runtime,
      layers: [{ diffId: layer.diffId, createdBy: 'goci: hello' }],
      created: epoch,
    }),
  );
  await writeJsonBlob(layout, config);
  const manifest = imageManifest('oci', ociPlatform(platform), config, [layer], {});
  await writeJsonBlob(layout, manifest.manifest);
  return manifest;
}
