import type { Extract } from 'tar-stream';

/** Resolves once the extractor wants more input; rejects if it stopped (its reader failed). */
function drained(extractor: Extract): Promise<void> {
  if (extractor.destroyed) return Promise.reject(new Error('the tar reader stopped'));
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      extractor.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      extractor.off('drain', onDrain);
      reject(new Error('the tar reader stopped'));
    };
    extractor.once('drain', onDrain);
    extractor.once('close', onClose);
  });
}

/**
 * The last stage of a node:stream pipeline that writes into tar-stream's extractor (a streamx
 * Writable, which pipeline cannot end on its own), honouring its back-pressure; `seen` sees each
 * chunk first (a diff_id hash).
 */
export function feedExtractor(
  extractor: Extract,
  seen?: (chunk: Buffer) => void,
): (chunks: AsyncIterable<Buffer>) => Promise<void> {
  return async (chunks) => {
    for await (const chunk of chunks) {
      seen?.(chunk);
      if (!extractor.write(chunk)) await drained(extractor);
    }
    extractor.end(undefined);
  };
}
