import type { Index } from '../oci/index.js';
import type { Sink, SinkOutcome } from './sink.js';

/**
 * One sink that writes to each of `sinks` at once (a layout on disk, a registry over the network),
 * their outcomes merged; on a failure every write has ended before the first error is thrown.
 */
export function tee(...sinks: Sink[]): Sink {
  return {
    async write(index: Index, tags: string[]): Promise<SinkOutcome> {
      const settled = await Promise.allSettled(sinks.map((sink) => sink.write(index, tags)));
      const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      return Object.assign({}, ...settled.map((result) => (result as PromiseFulfilledResult<SinkOutcome>).value));
    },
    mountsFrom: (registry) => sinks.every((sink) => sink.mountsFrom?.(registry) === true),
    early: (blob, file) => {
      for (const sink of sinks) sink.early?.(blob, file);
    },
    earlyImage: (image, layerFiles) => {
      for (const sink of sinks) sink.earlyImage?.(image, layerFiles);
    },
  };
}
