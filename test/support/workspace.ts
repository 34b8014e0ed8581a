import { cp, mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './goci.js';

/** Fixed identity and dates so commits (and so derived versions) are the same on every run. */
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'goci tests',
  GIT_AUTHOR_EMAIL: 'tests@goci.invalid',
  GIT_COMMITTER_NAME: 'goci tests',
  GIT_COMMITTER_EMAIL: 'tests@goci.invalid',
  GIT_AUTHOR_DATE: '2024-05-01T12:00:00Z',
  GIT_COMMITTER_DATE: '2024-05-01T12:00:00Z',
};

export const FIXTURE_COMMIT_TIME = 1714564800;

export async function git(dir: string, ...args: string[]): Promise<string> {
  const result = await execa('git', args, { cwd: dir, env: GIT_ENV });
  return result.stdout.trim();
}

export async function temporaryDirectory(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `goci-test-${prefix}-`));
}

export async function removeDirectory(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A fresh git repository holding a copy of one example (plus a .gitignore for dist/). */
export async function exampleRepository(example: string, prefix = example): Promise<string> {
  const dir = await temporaryDirectory(prefix);
  await cp(join(REPO_ROOT, 'examples', example), dir, { recursive: true });
  await writeFile(join(dir, '.gitignore'), 'dist/\n');
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** A git repository made of the given files. */
export async function repositoryWith(files: Record<string, string>, prefix: string): Promise<string> {
  const dir = await temporaryDirectory(prefix);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** Every file below `dir`, relative, sorted: to assert that nothing was written. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(dir.length + 1))
    .sort();
}
