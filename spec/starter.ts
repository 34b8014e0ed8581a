import { posix } from 'node:path';
import { BINARY_NAME } from './definition.js';
import { SCHEMA_COMMENT } from './json-schema.js';

/** The platforms a new goci.yaml builds: the two most servers run on. */
export const STARTER_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;

/** The binary goci names a main package's by default: the last element of its directory (`.` is the root's). */
function defaultBinaryName(main: string, rootName: string): string {
  return posix.basename(posix.resolve('/', rootName, main));
}

/**
 * Binary names for main packages: the default where it is a usable name no other package has;
 * where two share one (`./a/cmd/app`, `./b/cmd/app`), the path below the module joined with '-'.
 */
function binaryNames(mains: readonly string[], rootName: string): string[] {
  const last = mains.map((main) => defaultBinaryName(main, rootName));
  return mains.map((main, position) => {
    const name = last[position]!;
    const joined = posix
      .normalize(main)
      .replace(/^\.\/?/, '')
      .replace(/\//g, '-');
    const chosen = last.filter((other) => other === name).length > 1 ? joined : name;
    return BINARY_NAME.test(chosen) ? chosen : 'app';
  });
}

/**
 * The goci.yaml `goci init` writes for a module's main packages (`.` or `./cmd/app`): a build of
 * each; one image when there is one package, else an image per package. Editors find the schema
 * through the first line.
 */
export function starterSpec(mains: readonly string[], moduleName: string, rootName: string): string {
  const names = binaryNames(mains, rootName);
  const platforms = `[${STARTER_PLATFORMS.join(', ')}]`;
  const lines = [
    SCHEMA_COMMENT,
    `# What goci builds in ${moduleName}: \`goci check\` validates this file, \`goci schema\` prints its reference.`,
    'builds:',
  ];
  mains.forEach((main, position) => {
    lines.push(`  - main: ${main}`);
    if (names[position] !== defaultBinaryName(main, rootName)) lines.push(`    binary: ${names[position]}`);
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
