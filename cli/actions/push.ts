import { readLayoutIndexValue } from '../../oci/layout-index.js';
import { RegistryClients } from '../../registry/clients.js';
import { parseReference } from '../../registry/reference.js';
import { pushToRegistry } from '../../sinks/registry.js';
import type { PushFlags } from '../commands/push.js';
import { parseLayoutReference } from '../layout-reference.js';
import { makeProgress, uploadReporter, waitReporter } from '../progress.js';

/** `goci push oci:DIR[:TAG] REPOSITORY`: the layout's index, its images and referrers, to the registry. */
export async function push(source: string, repository: string, flags: PushFlags): Promise<void> {
  const { dir, tag } = parseLayoutReference(source);
  const target = parseReference(repository);
  // The index with its SBOMs: the layout lists them under each image, the registry gets them too.
  const index = await readLayoutIndexValue(dir, tag);
  const tags = flags.tags
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean) ?? [target.tag ?? tag ?? 'latest'];
  const progress = makeProgress(flags.progress, flags.verbose === true);
  const verbose = flags.verbose ? (line: string) => process.stderr.write(`goci: ${line}\n`) : undefined;
  const onWait = waitReporter(() => progress);
  const onUploaded = uploadReporter(() => progress);
  const clients = new RegistryClients({
    insecureRegistries: flags.insecureRegistry ?? [],
    verbose,
    onWait,
    onUploaded,
  });
  const pushing = pushToRegistry(clients.for(target.registry), target, index, tags);
  const { reference, blobs } = await pushing.finally(() => progress.finish());
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ reference, tags, blobs }, null, 2)}\n`
      : `pushed ${reference} (tags ${tags.join(', ')}; blobs uploaded ${blobs.uploaded}, already there ${blobs.present})\n`,
  );
}
