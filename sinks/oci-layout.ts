import type { Index } from '../oci/index.js';
import type { Sink, SinkOutcome } from './sink.js';
import type { StagedOutputs } from './staged-outputs.js';

/**
 * The OCI layout: the index under each tag (`<refPrefix>:<tag>` when several images share it) and every referrer under its subject's `sha256-<hex>`
 * tag, recorded now and published with the run's other outputs (one locked index.json update).
 * The index must be assembled into the run's staged layout, whose blobs the layout takes.
 */
export function layoutSink(outputs: StagedOutputs, refPrefix?: string): Sink {
  return {
    async write(index: Index, tags: string[]): Promise<SinkOutcome> {
      const { layoutDir } = outputs;
      if (!layoutDir || index.store.dir !== outputs.store.dir)
        throw new Error('the OCI layout sink takes an index assembled into its own stage');
      for (const { artifact, subject } of index.referrers) outputs.update.attachments.push({ artifact, subject });
      const refs = tags.map((tag) => (refPrefix === undefined ? tag : `${refPrefix}:${tag}`));
      for (const tag of refs) outputs.update.tags.push({ tag, descriptor: index.descriptor });
      return { ociLayout: layoutDir, ociLayoutRefs: refs };
    },
  };
}
