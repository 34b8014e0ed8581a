import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './goci.js';
import { temporaryDirectory } from './workspace.js';

/** goci as a newcomer gets it: a fresh clone packed with `npm pack`, installed globally into a prefix. */
export interface InstalledGoci {
  /** The directory everything below lives in. */
  root: string;
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /** The files the tarball holds, sorted (`package/` removed). */
  packed: string[];
  /** `<prefix>/bin/goci`. */
  bin: string;
  /** The installed package's directory. */
  packageDir: string;
}

/**
 * Clones this repository's HEAD, packs it (its prepack builds lib/ from the clone's sources) and
 * installs the pack with `npm install -g --prefix`, optional dependencies left out. The clone
 * borrows this checkout's node_modules (hard links) and npm reads its cache first, so nothing
 * needs the network that `npm ci` here did not already fetch.
 */
export async function installFromFreshClone(): Promise<InstalledGoci> {
  const root = await temporaryDirectory('install');
  const { tarball, packed } = await packFreshClone(root);
  const prefix = join(root, 'prefix');
  await installGlobally(tarball, prefix);
  return {
    root,
    tarball,
    packed,
    bin: join(prefix, 'bin', 'goci'),
    packageDir: join(prefix, 'lib', 'node_modules', 'goci'),
  };
}

const NPM_ENV = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' };

/** `npm install -g --prefix PREFIX TARBALL`, optional dependencies left out, npm's cache read first. */
export async function installGlobally(tarball: string, prefix: string): Promise<void> {
  const install = ['install', '-g', '--prefix', prefix, '--omit=optional', '--prefer-offline', tarball];
  await execa('npm', install, { env: NPM_ENV, cwd: dirname(prefix) });
}

/** Clones this repository's HEAD into `root`/clone and packs it there: the tarball and the files it holds. */
export async function packFreshClone(root: string): Promise<{ tarball: string; packed: string[] }> {
  const clone = join(root, 'clone');
  await execa('git', ['clone', '-q', REPO_ROOT, clone]);
  await execa('cp', ['-al', join(REPO_ROOT, 'node_modules'), join(clone, 'node_modules')]);
  const pack = await execa('npm', ['pack', '--json', '--pack-destination', root], { cwd: clone, env: NPM_ENV });
  const [report] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  if (!report) throw new Error(`npm pack printed no report: ${pack.stdout}`);
  return { tarball: join(root, report.filename), packed: report.files.map((file) => file.path).sort() };
}

/** Every package npm installed below the global goci package (its runtime dependency tree). */
export async function installedPackages(packageDir: string): Promise<string[]> {
  const dir = join(packageDir, 'node_modules');
  const names = await readdir(dir).catch(() => []);
  const scoped = await Promise.all(
    names.map(async (name) =>
      name.startsWith('@') ? (await readdir(join(dir, name))).map((inner) => `${name}/${inner}`) : [name],
    ),
  );
  return scoped.flat().filter((name) => !name.startsWith('.'));
}
