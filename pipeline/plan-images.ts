import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import type { BuildContext } from '../compiler/context.js';
import { makePlan, type CompileRequest, type Plan } from '../compiler/plan.js';
import { imageUnits } from './image-units.js';
import type { ImageUnit } from './prepare-image.js';

/**
 * The plan of an image run (goci build, publish, resolve, check, the frontend): Linux platforms
 * only, refused before anything compiles rather than left out of the image; each package named
 * the entrypoint of an image; and the images it makes.
 */
export async function planImages(
  compile: CompileRequest,
): Promise<{ plan: Plan; units: { unit: ImageUnit; context: BuildContext }[] }> {
  const plan = await makePlan({ ...compile, linuxOnly: true, packageImages: compile.packageImages ?? 'some' });
  const units = imageUnits(plan);
  if (units.length === 0) {
    const files = [...new Set(plan.targets.map((target) => displayPath(target.spec.file ?? target.spec.baseDir)))];
    throw new GociError('BAD_ARGUMENT', `${files.join(', ') || compile.packages.join(', ')}: no image to build`, {
      hint: 'name the package an image starts, or build binaries alone with goci compile',
    });
  }
  return { plan, units };
}
