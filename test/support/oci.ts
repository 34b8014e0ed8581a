import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** skopeo's view of a tag in an OCI layout: the raw index or manifest. */
export async function skopeoRaw(layout: string, tag: string): Promise<Record<string, any>> {
  const { stdout } = await execa('skopeo', ['inspect', '--raw', `oci:${layout}:${tag}`]);
  return JSON.parse(stdout) as Record<string, any>;
}

/** skopeo's view of one platform's image config. */
export async function skopeoConfig(
  layout: string,
  tag: string,
  platform: { arch: string; variant?: string },
): Promise<Record<string, any>> {
  const { stdout } = await execa('skopeo', [
    'inspect',
    '--config',
    '--override-os',
    'linux',
    '--override-arch',
    platform.arch,
    ...(platform.variant ? ['--override-variant', platform.variant] : []),
    `oci:${layout}:${tag}`,
  ]);
  return JSON.parse(stdout) as Record<string, any>;
}

/**
 * Unpacks one platform of a multi-platform tag with umoci. umoci reads only a tag that names a
 * single manifest, so skopeo first copies that platform into a layout of its own, as a user would.
 */
export async function umociUnpack(
  layout: string,
  tag: string,
  platform: { arch: string; variant?: string },
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'goci-umoci-'));
  const single = join(work, 'oci');
  await execa('skopeo', [
    'copy',
    '--override-os',
    'linux',
    '--override-arch',
    platform.arch,
    ...(platform.variant ? ['--override-variant', platform.variant] : []),
    `oci:${layout}:${tag}`,
    `oci:${single}:one`,
  ]);
  const bundle = join(work, 'bundle');
  await execa('umoci', ['unpack', '--image', `${single}:one`, bundle]);
  return join(bundle, 'rootfs');
}

/** Every path in a rootfs with its type, mode and owner: `drwx------ 65532:65532 /home/nonroot`. */
export async function rootfsListing(rootfs: string): Promise<string[]> {
  const { stdout } = await execa('find', ['.', '-mindepth', '1', '-printf', '%M %U:%G /%P\n'], { cwd: rootfs });
  return stdout.split('\n').sort();
}

export async function readJson(path: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
}
