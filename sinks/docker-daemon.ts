import { join } from 'node:path';
import { ownedScratch } from '../common/owner.js';
import { loadIntoDocker } from './docker-client.js';
import type { Index } from '../oci/index.js';
import { writeDockerArchive, type DockerArchiveOptions } from './docker-archive.js';
import type { Sink, SinkOutcome } from './sink.js';

/** --load: the docker-archive view written to a scratch file and handed to the local daemon. */
export function dockerDaemonSink(options: DockerArchiveOptions, onLoaded?: (tags: string[]) => void): Sink {
  return {
    async write(index: Index, tags: string[]): Promise<SinkOutcome> {
      const scratch = await ownedScratch('load');
      try {
        const path = join(scratch.dir, 'image.tar');
        await writeDockerArchive(path, index, tags, options);
        // The archive names the first tag; the daemon gets the others as more names of the same image.
        const alsoTag = tags.slice(1).map((tag) => ({ repository: options.repository, tag }));
        const loaded = await loadIntoDocker(path, { alsoTag });
        onLoaded?.(loaded.tags);
        return { loaded };
      } finally {
        await scratch.dispose();
      }
    },
  };
}
