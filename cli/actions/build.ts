import { resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { readSigningKey } from '../../common/signing-key.js';
import { displayPath } from '../../common/display-path.js';
import type { PackageImages } from '../../compiler/package-selection.js';
import type { BuiltImage } from '../../pipeline/built-image.js';
import type { RunSettings } from '../../pipeline/prepare-image.js';
import { runBuild } from '../../pipeline/run-build.js';
import { compileRequest, distDir, type BuildFlags } from '../build-options.js';
import { cliBuilder } from '../builder.js';
import type { ImageFlags } from '../image-options.js';
import { makeProgress, uploadReporter, waitReporter } from '../progress.js';
import { formatSize, renderTable } from '../table.js';

/** The flags of the commands that build images: goci build, and publish and resolve (a repository prefix). */
export type ImageBuildFlags = BuildFlags & ImageFlags & Pick<RunSettings, 'repoPrefix' | 'naming'>;

/**
 * Compiles, assembles and writes every image to the sinks the flags ask for, the progress shown
 * while it runs; --image-refs written. undefined for a dry run.
 */
export async function buildImages(
  dirs: string[],
  flags: ImageBuildFlags,
  packageImages?: PackageImages,
): Promise<BuiltImage[] | undefined> {
  const progress = makeProgress(flags.progress, flags.verbose === true);
  const verbose = flags.verbose ? (line: string) => process.stderr.write(`goci: ${line}\n`) : undefined;
  try {
    // A key that cannot sign is found before anything compiles.
    const signingKey = flags.sign === undefined ? undefined : await readSigningKey(flags.sign, '--sign');
    const results = await runBuild({
      compile: { ...compileRequest(dirs, flags), packageImages },
      settings: { ...flags, dist: distDir(flags), ...(signingKey ? { signingKey } : {}) },
      builder: cliBuilder(flags, progress),
      progress,
      // Registry waits (a base's or the push target's) show up in the progress display.
      registry: {
        insecureRegistries: flags.insecureRegistry ?? [],
        verbose,
        onWait: waitReporter(() => progress),
        onUploaded: uploadReporter(() => progress),
      },
    });
    if (results && flags.imageRefs) await writeFileAtomic(resolve(flags.imageRefs), pushedReferences(results));
    return results;
  } finally {
    progress.finish();
  }
}

/** Each pushed `repository@digest`, a line each. */
function pushedReferences(results: BuiltImage[]): string {
  return results.flatMap((result) => (result.pushed ? [`${result.pushed.reference}\n`] : [])).join('');
}

/**
 * `goci build DIRS...`: builds, then prints what was built: a description of each image, or
 * (goci publish, as ko build) each pushed reference alone.
 */
export async function build(
  dirs: string[],
  flags: ImageBuildFlags,
  output: 'description' | 'references' = 'description',
): Promise<void> {
  const results = await buildImages(dirs, flags);
  if (!results) return;
  if (flags.json) process.stdout.write(`${JSON.stringify({ images: results }, null, 2)}\n`);
  else if (output === 'references') process.stdout.write(pushedReferences(results));
  else process.stdout.write(results.map(describeImage).join('\n'));
}

function describeImage(image: BuiltImage): string {
  const rows = image.platforms.map((platform) => [platform.platform, platform.digest, formatSize(platform.size)]);
  const pushed = image.pushed;
  return [
    `image ${image.repository}:${image.tags.join(', ')}  ${image.index.digest}`,
    renderTable(['PLATFORM', 'MANIFEST', 'SIZE'], rows, [2]).trimEnd(),
    ...(image.ociLayout
      ? [`oci layout: ${displayPath(image.ociLayout)} (tags ${(image.ociLayoutRefs ?? image.tags).join(', ')})`]
      : []),
    ...(pushed
      ? [
          `pushed: ${pushed.reference} (${pushed.tags.join(', ')}; blobs uploaded ${pushed.blobs.uploaded}, mounted ${pushed.blobs.mounted}, already there ${pushed.blobs.present})`,
        ]
      : []),
    ...(image.signed ? [`signed: ${image.signed.map((item) => item.tag).join(', ')}`] : []),
    ...(image.tarball ? [`tarball: ${displayPath(image.tarball)}`] : []),
    ...(image.loaded ? [`loaded into docker: ${image.loaded.tags.join(', ')} (${image.loaded.imageId})`] : []),
    '',
  ].join('\n');
}
