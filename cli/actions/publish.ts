import { GociError } from '../../common/errors.js';
import type { Naming } from '../../pipeline/push-target.js';
import type { PublishFlags } from '../publish-options.js';
import { build } from './build.js';

/** The naming the flags ask for; ko's shorthands and --naming may agree, never disagree. */
function namingOf(flags: PublishFlags): Naming {
  const asked = [
    ...(flags.bare ? (['bare'] as const) : []),
    ...(flags.preserveImportPaths ? (['import-path'] as const) : []),
    ...(flags.baseImportPaths ? (['name'] as const) : []),
  ];
  const chosen = new Set<Naming>(asked);
  const naming = flags.naming ?? 'name';
  if (naming !== 'name') chosen.add(naming);
  if (chosen.size > 1)
    throw new GociError('BAD_ARGUMENT', `naming: ${[...chosen].join(' and ')} were both asked for`, {
      hint: 'choose one of --naming, --bare, -P, -B',
    });
  return [...chosen][0] ?? 'name';
}

/** The repository prefix and naming of goci publish and goci resolve: from the flags, else GOCI_REPO. */
export function publishSettings(command: string, flags: PublishFlags): { repoPrefix: string; naming: Naming } {
  const repoPrefix = flags.repoPrefix ?? (process.env.GOCI_REPO || undefined);
  if (repoPrefix === undefined)
    throw new GociError('BAD_ARGUMENT', `goci ${command} needs a repository prefix to push below`, {
      hint: 'set GOCI_REPO (e.g. GOCI_REPO=ghcr.io/acme) or give --repo-prefix',
    });
  return { repoPrefix, naming: namingOf(flags) };
}

/** `goci publish DIRS...`: goci build with each image's repository named below the prefix. */
export async function publish(dirs: string[], flags: PublishFlags): Promise<void> {
  await build(dirs, { ...flags, ...publishSettings('publish', flags) }, 'references');
}
