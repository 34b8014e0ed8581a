import { found } from '../common/found.js';
import type { BuildContext } from '../compiler/context.js';
import type { Plan } from '../compiler/plan.js';
import { entrypointBuildId, specImageName } from '../spec/image-builds.js';
import type { Spec } from '../spec/schema.js';
import type { ImageUnit } from './prepare-image.js';

/** Every image of every spec, in target order, with the build context its spec's targets share. */
export function imageUnits(plan: Plan): { unit: ImageUnit; context: BuildContext }[] {
  const contexts = new Map<Spec, BuildContext>(plan.targets.map((target) => [target.spec, target.context]));
  return [...contexts].flatMap(([spec, context]) =>
    spec.images.map((image) => {
      const entrypoint = entrypointBuildId(spec, image);
      const targets = plan.targets.filter((target) => target.spec === spec && target.buildId === entrypoint);
      const first = found(targets[0], `a target of the entrypoint build "${entrypoint}"`);
      const unit: ImageUnit = {
        spec,
        image,
        platforms: targets.filter((target) => target.platform.os === 'linux').map((target) => target.platform),
        stamp: first.stamp,
        identity: {
          name: specImageName(spec, image),
          cwd: first.command.cwd,
          main: first.command.package,
          moduleRoot: first.moduleRoot,
        },
      };
      return { unit, context };
    }),
  );
}
