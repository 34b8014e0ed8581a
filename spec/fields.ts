import { GociError } from '../common/errors.js';
import { ENV_NAME, GO_SYMBOL } from './definition.js';

/**
 * Readers for untyped YAML values. Each takes the field's path (`builds[1].env`) so a bad
 * value is reported exactly where the user wrote it.
 */
export class FieldError extends GociError {
  constructor(
    readonly fieldPath: string,
    problem: string,
  ) {
    super('BAD_SPEC', `${fieldPath}: ${problem}`);
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number' && !Number.isFinite(value)) return `number ${String(value)}`;
  const text = JSON.stringify(value);
  // Garbage can be long: show its start, so the message stays a readable line.
  return `${typeof value} ${text.length > 80 ? `${text.slice(0, 60)}…" (${String(value).length} characters)` : text}`;
}

/** A mapping with any keys (labels, annotations): the caller checks each key. */
export function readAnyMapping(path: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FieldError(path || '(top level)', `expected a mapping, found ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

export function readMapping(path: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  const record = readAnyMapping(path, value);
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) {
      throw new FieldError(join(path, key), `unknown field; known fields here are ${known.join(', ')}`);
    }
  }
  return record;
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function readString(path: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new FieldError(path, `expected a non-empty string, found ${describe(value)}`);
  }
  return checkNoNul(path, value);
}

/** No NUL byte: no path, argument or environment value can carry one (binary garbage in the file). */
export function checkNoNul(path: string, value: string): string {
  if (value.includes('\0')) throw new FieldError(path, 'contains a NUL character');
  return value;
}

export function readOptionalString(path: string, value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : readString(path, value);
}

/** A list of strings; a single string is taken as a one-element list, as people often write it. */
export function readStringList(path: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [readString(path, value)];
  if (!Array.isArray(value)) throw new FieldError(path, `expected a list of strings, found ${describe(value)}`);
  return value.map((item, index) => readString(`${path}[${index}]`, item));
}

/** Environment as a mapping `{NAME: value}` or a list of `NAME=value`. */
export function readEnv(path: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const env: Record<string, string> = {};
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      const text = readString(`${path}[${index}]`, item);
      const equals = text.indexOf('=');
      if (equals <= 0) throw new FieldError(`${path}[${index}]`, `"${text}" is not NAME=value`);
      const at = `${path}[${index}]`;
      env[checkEnvName(at, text.slice(0, equals))] = checkNoNul(at, text.slice(equals + 1));
    });
    return env;
  }
  if (typeof value !== 'object')
    throw new FieldError(path, `expected a mapping or a list of NAME=value, found ${describe(value)}`);
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw new FieldError(join(path, name), `expected a string, found ${describe(raw)}`);
    }
    env[checkEnvName(join(path, name), name)] = checkNoNul(join(path, name), String(raw));
  }
  return env;
}

function checkEnvName(path: string, name: string): string {
  // __proto__ would be dropped by a plain object's setter rather than stored: refuse it, never lose it silently.
  if (!ENV_NAME.test(name) || name === '__proto__') {
    throw new FieldError(path, `"${name}" is not a valid environment variable name`);
  }
  return name;
}

/** A `-X` target such as `main.version` or `example.com/app/internal/build.Version`. */
export function readGoVariable(path: string, value: unknown): string {
  const text = readString(path, value);
  if (!GO_SYMBOL.test(text))
    throw new FieldError(path, `"${text}" is not a Go variable (write it as importpath.name, e.g. main.version)`);
  return text;
}
