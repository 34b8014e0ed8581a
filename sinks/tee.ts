import type { Index } from '../oci/index.js';
import type { Sink, SinkOutcome } from './sink.js';

/** One sink that writes to each of `sinks` in turn, their outcomes merged. */
export function tee(...sinks: Sink[]): Sink {
  return {
    async write(index: Index, tags: string[]): Promise<SinkOutcome> {
      let outcome: SinkOutcome = {};
      for (const sink of sinks) outcome = { ...outcome, ...(await sink.write(index, tags)) };
      return outcome;
    },
    mountsFrom: (registry) => sinks.every((sink) => sink.mountsFrom?.(registry) === true),
  };
}
