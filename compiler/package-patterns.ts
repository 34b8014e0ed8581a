import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { findMainPackages } from './main-packages.js';

/** Whether a command-line package is a pattern (`./cmd/...`, `./...`): every main package at or below a directory. */
export function isPackagePattern(argument: string): boolean {
  return argument.endsWith('/...');
}

/**
 * The package directories the command line names, each pattern `DIR/...` replaced by the main
 * packages at or below DIR that `builds` takes (those goci.yaml builds, and for an image command
 * those an image starts: a pattern is broad, so a helper tool or a second binary is left out,
 * where naming it alone is refused), as `go build ./cmd/...` and `ko build ./cmd/...` read one.
 * Nested modules and `//go:build ignore` programs are not below it, as for the go command.
 */
export async function expandPackagePatterns(
  packages: string[],
  builds: (dir: string) => Promise<boolean>,
  specName = 'goci.yaml',
): Promise<string[]> {
  const dirs: string[] = [];
  for (const argument of packages) {
    if (!isPackagePattern(argument)) {
      dirs.push(argument);
      continue;
    }
    const root = resolve(argument.slice(0, -'/...'.length) || '/');
    if (
      !(await stat(root).then(
        (info) => info.isDirectory(),
        () => false,
      ))
    )
      throw new GociError('NOT_FOUND', `${argument}: ${displayPath(root)} is not a directory`, {
        hint: 'a package pattern is a directory and /..., e.g. ./cmd/...',
      });
    const mains = (await findMainPackages(root, { withRoot: true, exhaustive: true })).map((main) =>
      resolve(root, main),
    );
    const kept: string[] = [];
    for (const dir of mains) if (await builds(dir)) kept.push(dir);
    if (kept.length === 0)
      throw new GociError('NOT_FOUND', `${argument}: no main package at or below it that ${specName} builds`, {
        hint:
          mains.length === 0
            ? 'name a directory that holds Go main packages (package main), e.g. ./cmd/...'
            : `none of its ${mains.length} main packages is built (or starts an image) by ${specName}: add them there`,
      });
    dirs.push(...kept);
  }
  return [...new Set(dirs)];
}
