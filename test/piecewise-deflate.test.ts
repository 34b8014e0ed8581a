import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { writeLayer } from '../images/layer.js';
import { PIECE_BYTES, deflateInPieces } from '../images/piecewise-deflate.js';

/** Bytes that deflate finds matches in (repeated words) and some it does not (a counter's digits): neither trivial nor random. */
function sampleBytes(length: number): Buffer {
  const words = ['runtime', 'main', 'func', '0x7f', 'GOOS', 'linux', 'arm64'];
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const part = `${words[i % words.length]}${(i * 2654435761) % 1000003} `;
    parts.push(part);
    size += part.length;
  }
  return Buffer.from(parts.join('')).subarray(0, length);
}

async function deflated(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    yield* chunks;
  }
  await deflateInPieces(source(), { level: 1, memLevel: 9 }, async (chunk) => {
    out.push(chunk);
  });
  return Buffer.concat(out);
}

/** `bytes` cut at the given sizes, in turn, until all of it is cut. */
function cut(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, turn = 0; at < bytes.length; turn++) {
    const size = sizes[turn % sizes.length]!;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe('deflate in pieces', () => {
  const input = sampleBytes(3 * PIECE_BYTES + 12345);

  test('the pieces joined are one deflate stream that inflates to the input', async () => {
    const output = await deflated([input]);
    assert.ok(inflateRawSync(output).equals(input));
    assert.ok(output.length < input.length / 2, `${output.length} bytes from ${input.length}`);
  });

  test('the output depends only on the bytes, not on the sizes they arrive in', async () => {
    const whole = await deflated([input]);
    const small = await deflated(cut(input, [1, 4096, 65536, 7]));
    const large = await deflated(cut(input, [PIECE_BYTES - 1, PIECE_BYTES + 1]));
    assert.equal(createHash('sha256').update(small).digest('hex'), createHash('sha256').update(whole).digest('hex'));
    assert.equal(createHash('sha256').update(large).digest('hex'), createHash('sha256').update(whole).digest('hex'));
  });

  test('an input of exactly two pieces ends in a final block', async () => {
    const two = input.subarray(0, 2 * PIECE_BYTES);
    assert.ok(inflateRawSync(await deflated([two])).equals(two));
  });

  test('an empty input is one empty final block', async () => {
    const output = await deflated([]);
    assert.deepEqual(inflateRawSync(output), Buffer.alloc(0));
  });
});

describe('a layer larger than a piece', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'goci-pieces-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('gzip -t accepts it and gunzip gives the tar whose sha256 is its diffId', async () => {
    const source = join(dir, 'app');
    await writeFile(source, sampleBytes((5 * PIECE_BYTES) / 2));
    const layer = await writeLayer(
      [{ type: 'file', path: '/app', mode: 0o755, uid: 0, gid: 0, source }],
      join(dir, 'blobs'),
      { mtime: 1_700_000_000 },
    );
    assert.equal(spawnSync('gzip', ['-t', layer.blobPath]).status, 0);
    const tar = spawnSync('gzip', ['-dc', layer.blobPath], { maxBuffer: 64 * 1024 * 1024 }).stdout;
    assert.equal(`sha256:${createHash('sha256').update(tar).digest('hex')}`, layer.diffId);
    assert.equal(tar.length, layer.uncompressedSize);
  });
});
