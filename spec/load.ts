import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { LineCounter, parseDocument } from 'yaml';
import { GociError } from '../common/errors.js';
import { isInside } from '../common/inside.js';
import type { Spec } from './schema.js';
import { validateSpec } from './validate.js';

export const SPEC_FILE_NAME = 'goci.yaml';

/** A real goci.yaml is a few KiB; anything this large is refused before it is read into memory. */
const MAX_SPEC_BYTES = 1 << 20;

/** Reads and validates a goci.yaml; every message starts with the file's name. */
export async function loadSpecFile(file: string): Promise<Spec> {
  const info = await stat(file).catch(() => undefined);
  const hint = 'a goci.yaml is a YAML text file';
  if (info && !info.isFile()) throw new GociError('BAD_SPEC', `${displayPath(file)}: not a regular file`, { hint });
  if (info && info.size > MAX_SPEC_BYTES) {
    const problem = `${info.size} bytes, more than a goci.yaml may have (${MAX_SPEC_BYTES})`;
    throw new GociError('BAD_SPEC', `${displayPath(file)}: ${problem}`, { hint });
  }
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new GociError('NOT_FOUND', `${file}: cannot read the spec file (${error.code ?? error.message})`, {
      hint: 'check the path given to --config',
    });
  });
  return parseSpecText(text, file, dirname(file));
}

/** Parses spec text; a BuildKit frontend reads the same text from its own source. */
export function parseSpecText(text: string, file: string, baseDir: string): Spec {
  const lineCounter = new LineCounter();
  const data = readYaml(() => {
    // logLevel 'error': the yaml package would otherwise print its warnings (a list used as a key) after goci's line.
    const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter, logLevel: 'error' });
    const [problem] = document.errors;
    // The parser catches its own stack overflow; where it gave up depends on Node's stack size, so no position.
    if (problem && /call stack/i.test(problem.message)) throw new RangeError(problem.message);
    if (problem) {
      const position = lineCounter.linePos(problem.pos[0]);
      const where = `${displayPath(file)}:${position.line}:${position.col}`;
      throw new GociError('BAD_SPEC', `${where}: ${problem.message.split('\n')[0]}`, { hint: 'fix the YAML syntax' });
    }
    // The yaml package refuses alias expansion beyond maxAliasCount (a "billion laughs" file).
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  }, file);
  try {
    return validateSpec(data, file, baseDir);
  } catch (error) {
    if (error instanceof GociError)
      throw new GociError(error.code, `${displayPath(file)}: ${error.message}`, {
        hint: error.hint ?? 'see the goci.yaml reference in the README',
      });
    throw error;
  }
}

/** Aliases a goci.yaml may expand; a real one has a handful, an alias bomb has millions. */
const MAX_ALIAS_COUNT = 100;

/**
 * Runs the YAML reader: whatever it throws on hostile text (an alias bomb, nesting deep enough
 * to exhaust the stack) is a one-line error about the file, never an internal error.
 */
function readYaml(read: () => unknown, file: string): unknown {
  try {
    return read();
  } catch (error) {
    if (error instanceof GociError) throw error;
    const text = error instanceof RangeError ? 'it is nested too deeply to read' : String((error as Error).message);
    const message = text.split('\n')[0]!;
    throw new GociError('BAD_SPEC', `${displayPath(file)}: cannot be read as YAML: ${message}`, {
      hint: 'write goci.yaml as plain YAML (few aliases, little nesting)',
    });
  }
}

/** `goci.yaml: builds[1].platforms` for messages about a field found after validation. */
export function fieldLocation(spec: Spec, fieldPath: string): string {
  return spec.file ? `${displayPath(spec.file)}: ${fieldPath}` : fieldPath;
}

/** The spec for a directory: its goci.yaml when it has one, else one build of the directory itself. */
export async function specForDirectory(dir: string): Promise<Spec> {
  const candidate = join(dir, SPEC_FILE_NAME);
  const link = await lstat(candidate).catch(() => undefined);
  if (!link) return validateSpec(undefined, undefined, dir);
  if (link.isSymbolicLink()) await checkLinkStaysInside(candidate, dir);
  return loadSpecFile(candidate);
}

/**
 * A goci.yaml found in a directory is part of it: a symlink leading out of the directory is
 * refused (its target's text would show in error messages); --config names another file on purpose.
 */
async function checkLinkStaysInside(candidate: string, dir: string): Promise<void> {
  const target = await realpath(candidate).catch(() => undefined);
  if (target === undefined) return;
  if (!isInside(target, await realpath(dir))) {
    throw new GociError('BAD_SPEC', `${displayPath(candidate)}: a symlink to ${target}, outside ${displayPath(dir)}`, {
      hint: 'copy the file into the directory, or name it with --config FILE',
    });
  }
}
