import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import type { Descriptor } from './descriptor.js';
import { blobPath } from './layout.js';
import type { ContentStore } from './content-store.js';
import { verifyingStream } from './verified-stream.js';

/** The content store of an OCI layout directory (a run's stage, or a layout goci push reads). */
export function layoutStore(dir: string): ContentStore {
  return {
    dir,
    file: (digest) => blobPath(dir, digest),
    open(descriptor: Pick<Descriptor, 'digest' | 'size'>): Readable {
      const check = verifyingStream(descriptor, displayPath(dir));
      const source = createReadStream(blobPath(dir, descriptor.digest));
      source.on('error', (error: NodeJS.ErrnoException) =>
        check.destroy(
          error.code === 'ENOENT'
            ? new GociError('NOT_FOUND', `${displayPath(dir)} has no blob ${descriptor.digest}`, {
                hint: 'the layout is incomplete: write it again with goci build',
              })
            : error,
        ),
      );
      return source.pipe(check);
    },
  };
}
