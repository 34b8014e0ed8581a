import type { OciPlatform } from '../oci/descriptor.js';
import { writeTarball } from './tarball-writer.js';
import { imageManifestOf } from '../oci/image.js';
import type { Index } from '../oci/index.js';

/** How the docker-archive view of an index is named and which one platform it loads. */
export interface DockerArchiveOptions {
  /** RepoTags' repository; the first tag is the archive's tag. */
  repository: string;
  /** Docker 20.10's image store holds one platform: the one manifest.json names. */
  platform: OciPlatform;
}

/** Writes the tar that is both an OCI layout of every platform and a docker archive of one. */
export async function writeDockerArchive(
  path: string,
  index: Index,
  tags: string[],
  options: DockerArchiveOptions,
): Promise<void> {
  const [tag = 'latest'] = tags;
  const images = index.images.map(imageManifestOf);
  await writeTarball(
    path,
    index.store.dir,
    { repository: options.repository, tag },
    images,
    index.descriptor,
    options.platform,
  );
}
