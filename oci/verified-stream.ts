import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { GociError } from '../common/errors.js';
import type { Descriptor } from './descriptor.js';

/**
 * Passes bytes through and fails at the end unless they count `size` and hash to `digest`:
 * what "verified on read" means for every blob a content store hands out.
 */
export function verifyingStream(expected: Pick<Descriptor, 'digest' | 'size'>, where: string): Transform {
  const hash = createHash('sha256');
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const digest = `sha256:${hash.digest('hex')}`;
      if (digest === expected.digest && size === expected.size) return done();
      done(
        new GociError(
          'DIGEST_MISMATCH',
          `blob ${expected.digest} in ${where} holds ${size} bytes with digest ${digest} (expected ${expected.size} bytes)`,
          { hint: 'the blob was changed after it was written: write the image again' },
        ),
      );
    },
  });
}
