/** Media types for the two manifest dialects goci writes: OCI (default) and Docker schema 2. */
export type ImageFormat = 'oci' | 'docker';

export interface MediaTypes {
  index: string;
  manifest: string;
  config: string;
  layerGzip: string;
}

export const MEDIA_TYPES: Record<ImageFormat, MediaTypes> = {
  oci: {
    index: 'application/vnd.oci.image.index.v1+json',
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
};
