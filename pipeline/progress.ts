import type { UploadHook } from '../registry/client.js';
import type { WaitHook } from '../registry/http.js';

/** What a long command reports as it goes. Plain data, so every display shows the same facts. */
export type ProgressEvent =
  | { kind: 'compile-start'; target: string; command: string }
  | { kind: 'compile-done'; target: string; size: number; seconds: number; cached: boolean }
  | { kind: 'image-start'; image: string; platforms: number }
  | { kind: 'image-done'; image: string; digest: string }
  | { kind: 'sink-done'; sink: string; where: string }
  /** A blob a registry took, with what this run has sent that registry so far. */
  | { kind: 'upload'; registry: string; repository: string; bytes: number; totalBlobs: number; totalBytes: number }
  /** A registry wait between tries: what the server asked for (Retry-After) or goci's backoff. */
  | {
      kind: 'registry-wait';
      registry: string;
      reason: string;
      retryAfter: boolean;
      delayMs: number;
      attempt: number;
      attempts: number;
    };

/** Where a pipeline reports its events: a display, or a library caller's callback. */
export interface Progress {
  report(event: ProgressEvent): void;
  /** Clears any live display before the final summary is printed. */
  finish(): void;
}

/** The hook a registry client calls before it waits, reporting to `progress`. */
export function waitReporter(progress: () => Progress | undefined): WaitHook {
  return (wait) => {
    const { host, ...rest } = wait;
    progress()?.report({ kind: 'registry-wait', registry: host, ...rest });
  };
}

/** The hook a registry client calls after each blob upload, reporting it with the run's totals per registry. */
export function uploadReporter(progress: () => Progress | undefined): UploadHook {
  const totals = new Map<string, { blobs: number; bytes: number }>();
  return ({ host, repository, bytes }) => {
    const total = totals.get(host) ?? { blobs: 0, bytes: 0 };
    total.blobs += 1;
    total.bytes += bytes;
    totals.set(host, total);
    progress()?.report({
      kind: 'upload',
      registry: host,
      repository,
      bytes,
      totalBlobs: total.blobs,
      totalBytes: total.bytes,
    });
  };
}
