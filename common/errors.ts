/**
 * The one error type goci raises on purpose. The CLI catches it once and prints
 * `goci: <message>` plus the hint, so every message must stand on its own line.
 */
export type GociErrorCode =
  | 'BAD_SPEC'
  | 'BAD_PLATFORM'
  | 'BAD_VERSION'
  | 'BAD_ARGUMENT'
  | 'BAD_TEMPLATE'
  | 'NOT_FOUND'
  | 'NOT_MAIN_PACKAGE'
  | 'GO_MISSING'
  | 'GO_BUILD_FAILED'
  | 'NEEDS_CGO'
  | 'NOT_STATIC'
  | 'PATH_LEAK'
  | 'BAD_BINARY'
  | 'GIT_FAILED'
  | 'IO_FAILED'
  | 'DOCKER_UNREACHABLE'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_DENIED'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_PROTOCOL'
  | 'REGISTRY_NOT_FOUND'
  | 'DIGEST_MISMATCH'
  | 'VERIFY_FAILED';

export class GociError extends Error {
  readonly code: GociErrorCode;
  readonly hint: string | undefined;
  /** Extra output that explains the failure (for example the compiler's own messages). */
  readonly detail: string | undefined;

  constructor(code: GociErrorCode, message: string, options: { hint?: string; detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GociError';
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail;
  }
}

export function isGociError(value: unknown): value is GociError {
  return value instanceof GociError;
}
