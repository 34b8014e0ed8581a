import { posix } from 'node:path';
import { SCHEMA_COMMENT } from './json-schema.js';

/** The platforms a new goci.yaml builds: the two most servers run on. */
export const STARTER_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;

/**
 * Binary names for main packages: the last element, as goci names them by default; where two
 * share one (`./a/cmd/app`, `./b/cmd/app`), the path below the module joined with '-'.
 */
function binaryNames(mains: readonly string[]): string[] {
  const last = mains.map((main) => posix.basename(posix.resolve('/module', main)) || 'app');
  return mains.map((main, position) =>
    last.filter((name) => name === last[position]).length > 1
      ? posix
          .normalize(main)
          .replace(/^\.\/?/, '')
          .replace(/\//g, '-') || 'app'
      : last[position]!,
  );
}

/**
 * The goci.yaml `goci init` writes for a module's main packages (`.` or `./cmd/app`): a build of
 * each; one image when there is one package, else an image per package. Editors find the schema
 * through the first line.
 */
export function starterSpec(mains: readonly string[], moduleName: string): string {
  const names = binaryNames(mains);
  const platforms = `[${STARTER_PLATFORMS.join(', ')}]`;
  const lines = [
    SCHEMA_COMMENT,
    `# What goci builds in ${moduleName}: \`goci check\` validates this file, \`goci schema\` prints its reference.`,
    'builds:',
  ];
  mains.forEach((main, position) => {
    lines.push(`  - main: ${main}`);
    if (names[position] !== posix.basename(posix.resolve('/module', main)))
      lines.push(`    binary: ${names[position]}`);
    lines.push(`    platforms: ${platforms}`);
  });
  if (mains.length === 1)
    lines.push('image:', '  base: static                # static | static:root | scratch | a registry image');
  else {
    lines.push('images:                       # one per service; goci publish pushes each to <GOCI_REPO>/<name>');
    for (const name of names) lines.push(`  - binaries: [${name}]`);
  }
  return `${lines.join('\n')}\n`;
}
