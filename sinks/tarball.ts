import { join, resolve } from 'node:path';
import type { Index } from '../oci/index.js';
import { writeDockerArchive, type DockerArchiveOptions } from './docker-archive.js';
import type { Sink, SinkOutcome } from './sink.js';
import type { StagedOutputs } from './staged-outputs.js';

/** --tarball: the docker-archive view written into the run's stage, published with its other outputs. */
export function tarballSink(outputs: StagedOutputs, path: string, options: DockerArchiveOptions): Sink {
  return {
    async write(index: Index, tags: string[]): Promise<SinkOutcome> {
      const staged = join(outputs.store.dir, `tarball-${outputs.files.length}.tar`);
      outputs.files.push({ from: staged, to: resolve(path) });
      await writeDockerArchive(staged, index, tags, options);
      return { tarball: resolve(path) };
    },
  };
}
