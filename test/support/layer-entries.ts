import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';

/** One tar header of a layer: `symlink srv/web/link -> a.txt`, `file srv/web/a.txt 0644`. */
export interface LayerHeader {
  name: string;
  type: string;
  linkname: string | null;
  mode: number;
}

async function blob(layout: string, digest: string): Promise<Buffer> {
  return readFile(join(layout, 'blobs', digest.replace(':', '/')));
}

/**
 * The tar headers of every layer of a tag's image for one architecture, read straight from the
 * OCI layout's blobs (index.json → index → manifest → gzip'd tars), in layer order.
 */
export async function layerHeaders(layout: string, tag: string, architecture: string): Promise<LayerHeader[]> {
  type Entry = { digest: string; annotations?: Record<string, string>; platform?: { architecture: string } };
  type Listing = { manifests: Entry[] };
  const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Listing;
  const tagged = top.manifests.find((entry) => entry.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!tagged) throw new Error(`tag ${tag} is not in ${layout}`);
  const index = JSON.parse((await blob(layout, tagged.digest)).toString('utf8')) as Listing;
  const entry = index.manifests.find((item) => item.platform?.architecture === architecture);
  if (!entry) throw new Error(`no ${architecture} image under ${tag}`);
  const manifest = JSON.parse((await blob(layout, entry.digest)).toString('utf8')) as { layers: { digest: string }[] };
  const headers: LayerHeader[] = [];
  for (const layer of manifest.layers) {
    headers.push(...(await tarHeaders(gunzipSync(await blob(layout, layer.digest)))));
  }
  return headers;
}

async function tarHeaders(bytes: Buffer): Promise<LayerHeader[]> {
  const extract = tarExtract();
  const headers: LayerHeader[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const { name, type, linkname, mode } = header;
      headers.push({ name, type: type ?? 'file', linkname: linkname ?? null, mode: mode ?? 0 });
      stream.on('end', next);
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([bytes]).pipe(extract);
  await done;
  return headers;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Every entry below `dir` (relative path, type, permission bits, and content hash or link
 * target), sorted: equal for two calls exactly when nothing below `dir` changed.
 */
export async function treeFingerprint(dir: string): Promise<string[]> {
  const lines: string[] = [];
  async function visit(path: string, shown: string): Promise<void> {
    const info = await lstat(path).catch(() => undefined);
    if (!info) return;
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isSymbolicLink()) lines.push(`${shown} symlink ${await readlink(path)}`);
    else if (info.isFile()) lines.push(`${shown} file ${mode} ${sha256(await readFile(path))}`);
    else if (info.isDirectory()) {
      lines.push(`${shown} dir ${mode}`);
      for (const name of (await readdir(path)).sort()) await visit(join(path, name), `${shown}/${name}`);
    } else lines.push(`${shown} other`);
  }
  await visit(dir, '.');
  return lines.sort();
}
