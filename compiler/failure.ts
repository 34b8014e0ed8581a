import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { GociError } from '../common/errors.js';
import type { Target } from './plan.js';
import { findMainPackages } from './main-packages.js';
import { formatPlatform } from './platform.js';

const EXCLUDED_BY_CONSTRAINTS = /build constraints exclude all Go files in (\S+)/;
const IMPORTS_C = /^\s*import\s+(?:"C"|\(\s*[^)]*?^\s*"C"\s*$)/m;

/** Turns go's failure output into one line that says what to do, keeping go's text as detail. */
export async function explainBuildFailure(target: Target, output: string): Promise<GociError> {
  const label = `${target.binary} (${formatPlatform(target.platform)})`;
  const excluded = EXCLUDED_BY_CONSTRAINTS.exec(output);
  if (excluded && target.command.env.CGO_ENABLED === '0') {
    const cgoFile = await findCgoFile(excluded[1]!);
    if (cgoFile) {
      return new GociError(
        'NEEDS_CGO',
        `${label}: ${cgoFile} uses cgo (import "C"), but goci builds static binaries with CGO_ENABLED=0`,
        {
          hint: 'replace the cgo dependency with a pure-Go one; scratch and distroless-static images cannot run binaries that need libc',
          detail: output.trim(),
        },
      );
    }
  }
  if (/no Go files in|cannot find package|is not in (GOROOT|std)|no required module provides/.test(output)) {
    const below = target.command.package === '.' ? await mainPackagesBelow(target.command.cwd) : [];
    const named = below.length > 0 ? `; the main packages below it are ${below.join(', ')}` : '';
    return new GociError(
      'NOT_MAIN_PACKAGE',
      `${label}: go build found no package to build in ${target.command.cwd} (${target.command.package})${named}`,
      {
        hint:
          below.length > 0
            ? `name them (goci build ${below.join(' ')}), or set builds[].main in goci.yaml`
            : 'point dir/main (or the command-line directory) at a Go main package',
        detail: output.trim(),
      },
    );
  }
  return new GociError('GO_BUILD_FAILED', `go build failed for ${label}; go's output is above`, {
    hint: 'see the exact command with: goci compile --dry-run',
    detail: output.trim(),
  });
}

async function findCgoFile(dir: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((file) => file.endsWith('.go')).sort()) {
    if (IMPORTS_C.test(await readFile(join(dir, name), 'utf8').catch(() => ''))) return name;
  }
  return undefined;
}

/** A few main packages below `dir`, as paths from the current directory (what the user types next). */
async function mainPackagesBelow(dir: string): Promise<string[]> {
  const mains = await findMainPackages(dir, { limit: 6 });
  return mains.map((main) => {
    const path = relative(process.cwd(), join(dir, main)).split(sep).join('/');
    return path === '' ? '.' : isAbsolute(path) || path.startsWith('../') ? path : `./${path}`;
  });
}
