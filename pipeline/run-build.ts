import { displayPath } from '../common/display-path.js';
import { found } from '../common/found.js';
import type { Builder } from '../compiler/builder.js';
import type { CompileRequest, Plan } from '../compiler/plan.js';
import type { StagedBinaries } from '../compiler/compile.js';
import { prepareBaseLayer } from '../images/assemble.js';
import { pruneLayerCache } from '../images/layer-cache.js';
import { stagingFailure } from '../sinks/layout-publish.js';
import { RegistryClients, type RegistryAccess } from '../registry/clients.js';
import { openStagedOutputs } from '../sinks/staged-outputs.js';
import { startImage, type ImageRun } from './build-image.js';
import { signImage } from './sign.js';
import type { BuiltImage } from './built-image.js';
import { checkDistinctOutputs } from './output-conflicts.js';
import { prepareImage, prepareOutputs, type PreparedImage, type RunSettings } from './prepare-image.js';
import { planImages } from './plan-images.js';
import type { Progress } from './progress.js';

/** One `goci build` run, as both doors describe it: what to compile, how to make images, and where to. */
export interface BuildRun {
  compile: CompileRequest;
  settings: RunSettings;
  builder: Builder;
  progress: Progress;
  registry: RegistryAccess;
}

/**
 * plan → compile (the injected Builder) → per image planImage → assemble → sinks, then every
 * output published as one step. undefined when the builder built nothing (a dry run).
 */
export async function runBuild(run: BuildRun): Promise<BuiltImage[] | undefined> {
  const { settings } = run;
  const { plan, units } = await planImages(run.compile);
  const clients = new RegistryClients(run.registry);
  // Everything that can be wrong with the image settings is found before anything compiles.
  const prepared = await Promise.all(units.map(({ unit, context }) => prepareImage(unit, settings, clients, context)));
  checkDistinctOutputs(prepared, settings);
  for (const image of prepared) await prepareOutputs(image, settings, clients);
  // A dry run prints the commands: nothing is compiled or written.
  if (settings.dryRun) {
    await run.builder.build(plan);
    return undefined;
  }
  // The base layer needs no binary: build it (into goci's cache) while Go compiles, and keep the cache within its size.
  const warming = prepared.map((image) => warmBase(plan, image));
  const pruning = pruneLayerCache();
  const images = prepared.map((image) =>
    startImage({
      ...run,
      prepared: image,
      targets: plan.targets.filter((target) => target.spec === image.spec),
      // Several images share the layout under their own names; a run of one keeps the tag alone.
      layoutRefPrefix: prepared.length > 1 ? image.name : undefined,
      clients,
    }),
  );
  let staged: StagedBinaries | undefined;
  try {
    staged = await run.builder.build(plan, (binary) => {
      for (const image of images) image.onBinary(binary);
    });
    await Promise.all(warming);
    const results = staged && (await buildAndPublish(prepared, images, staged, run));
    // Signatures go up once the images they name are in the registry.
    const key = settings.signingKey;
    if (results && key)
      for (const result of results)
        if (result.pushed) result.signed = await signImage(clients, result.pushed.reference, key);
    return results;
  } finally {
    await Promise.all(images.map((image) => image.settled()));
    await pruning;
    await staged?.dispose();
  }
}

function warmBase(plan: Plan, image: PreparedImage): Promise<void> {
  const target = found(
    plan.targets.find((candidate) => candidate.spec === image.spec),
    `a target of the image ${image.spec}`,
  );
  return prepareBaseLayer(image.base, target.stamp.epoch).catch(() => undefined);
}

/**
 * Finishes every image into one staged layout, then publishes the binaries, the layout's blobs
 * and tags, and a --tarball as one step: a run that fails or is stopped before the end leaves
 * dist and the layout as they were.
 */
async function buildAndPublish(
  prepared: PreparedImage[],
  images: ImageRun[],
  staged: StagedBinaries,
  run: BuildRun,
): Promise<BuiltImage[]> {
  const layoutDir = prepared[0]?.layoutDir;
  const outputs = await openStagedOutputs(layoutDir, [...staged.files], staged.distDir);
  try {
    const results: BuiltImage[] = [];
    try {
      for (const [position, image] of images.entries()) {
        const spec = prepared[position]?.spec;
        results.push(
          await image.finish(
            staged.built.filter((item) => item.target.spec === spec),
            outputs,
          ),
        );
      }
    } catch (error) {
      throw stagingFailure(error, layoutDir);
    }
    await outputs.publish();
    for (const { ociLayout, tarball } of results) {
      if (ociLayout) run.progress.report({ kind: 'sink-done', sink: 'oci layout', where: displayPath(ociLayout) });
      if (tarball) run.progress.report({ kind: 'sink-done', sink: 'tarball', where: displayPath(tarball) });
    }
    return results;
  } finally {
    await outputs.dispose();
  }
}
