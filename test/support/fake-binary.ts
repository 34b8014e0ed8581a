import { createHash } from 'node:crypto';

/** A stand-in Go binary: 200 000 bytes, part noise and part repetition (so deflate has work), the same on every run. */
export function fakeBinary(): Buffer {
  const parts: Buffer[] = [];
  let block = Buffer.from('goci');
  for (let length = 0; length < 200_000; length += block.length + 54) {
    block = createHash('sha256').update(block).digest();
    parts.push(block, Buffer.from('\x7fELF runtime.main goci/cli '.repeat(2)));
  }
  return Buffer.concat(parts).subarray(0, 200_000);
}
