import { appendFile, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { displayPath } from '../../common/display-path.js';
import { GociError } from '../../common/errors.js';
import { gitIgnores } from '../../compiler/git.js';
import { findMainPackages } from '../../compiler/main-packages.js';
import { findModule, readModulePath } from '../../compiler/module.js';
import { SPEC_FILE_NAME, parseSpecText } from '../../spec/load.js';
import { entrypointBuildId } from '../../spec/image-builds.js';
import { starterSpec } from '../../spec/starter.js';

export interface InitFlags {
  force?: boolean;
}

/**
 * `goci init [DIR]`: writes DIR/goci.yaml for the main packages of the module there (one build
 * each, an image per service) and makes sure git ignores dist/.
 */
export async function init(dir: string | undefined, flags: InitFlags): Promise<void> {
  const root = resolve(dir ?? '.');
  const { root: moduleRoot } = await findModule(root);
  if (moduleRoot === undefined)
    throw new GociError('NOT_FOUND', `${displayPath(root)}: no go.mod here or above`, {
      hint: 'run goci init in a Go module (go mod init example.com/app)',
    });
  const file = join(root, SPEC_FILE_NAME);
  if (!flags.force && (await stat(file).catch(() => undefined)))
    throw new GociError('BAD_ARGUMENT', `${displayPath(file)} exists already`, {
      hint: 'edit it (goci check validates it), or give --force to replace it',
    });
  const mains = await findMainPackages(root, { withRoot: true });
  if (mains.length === 0)
    throw new GociError('NOT_MAIN_PACKAGE', `${displayPath(root)}: no main package here or below`, {
      hint: 'goci builds programs: a directory whose Go files say package main',
    });
  const text = starterSpec(mains, await readModulePath(moduleRoot), basename(root));
  // What init writes is what goci reads: a mistake here is goci's, found before the file exists.
  const spec = parseSpecText(text, file, root);
  for (const image of spec.images) entrypointBuildId(spec, image);
  await writeFileAtomic(file, text);
  const images = spec.images.length === 1 ? 'one image' : `${spec.images.length} images`;
  process.stdout.write(`wrote ${displayPath(file)}: ${mains.join(', ')} (${images})\n`);
  if ((await gitIgnores(root, 'dist/')) === false) {
    const ignore = join(root, '.gitignore');
    const before = await readFile(ignore, 'utf8').catch(() => '');
    await appendFile(ignore, `${before === '' || before.endsWith('\n') ? '' : '\n'}/dist/\n`);
    process.stdout.write(`added /dist/ to ${displayPath(ignore)}: goci writes its outputs there\n`);
  }
}
