import { GociError } from '../../common/errors.js';
import { warn } from '../../common/warn.js';
import { stampsOf } from '../../compiler/plan.js';
import type { BuildArgsFlags } from '../commands/build-args.js';

/**
 * A value that reaches docker as written through `$(goci build-args)`: a command substitution's
 * output is only split at whitespace and expanded as a glob (not quotes, tildes or variables).
 */
const ONE_WORD = /^[^\s*?[\]]+$/;

/**
 * `goci build-args [DIR]`: the frontend's build args for what the CLI would stamp, so that
 * `docker build -f goci.yaml $(goci build-args) .` labels its image as `goci build` does.
 */
export async function buildArgs(dir: string | undefined, flags: BuildArgsFlags): Promise<void> {
  const stamps = await stampsOf({
    packages: dir === undefined ? [] : [dir],
    config: flags.config,
    platforms: undefined,
    version: flags.version,
    buildvcs: undefined,
    env: process.env,
  });
  const stamp = stamps[0]?.stamp;
  if (stamp === undefined) throw new GociError('NOT_FOUND', `${dir ?? '.'}: no goci.yaml or main package here`);
  if (stamp.sourceUrl && !ONE_WORD.test(stamp.sourceUrl))
    warn(
      `SOURCE_URL left out: ${stamp.sourceUrl} has characters the shell would split or expand as a glob; pass it quoted yourself`,
    );
  const args: Record<string, string> = {
    VERSION: stamp.version,
    SOURCE_DATE_EPOCH: String(stamp.epoch),
    ...(stamp.commit ? { REVISION: stamp.commit } : {}),
    ...(stamp.sourceUrl && ONE_WORD.test(stamp.sourceUrl) ? { SOURCE_URL: stamp.sourceUrl } : {}),
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(args, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${Object.entries(args)
      .map(([name, value]) => `--build-arg ${name}=${value}`)
      .join(' ')}\n`,
  );
}
