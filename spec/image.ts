import { isAbsolute } from 'node:path';
import { FieldError, checkNoNul, describe, join, readAnyMapping, readEnv, readMapping } from './fields.js';
import { readOptionalString, readString, readStringList } from './fields.js';
import { TAG_RULE, isValidTag } from '../registry/reference.js';
import {
  DIRECTORY_DEFINITION,
  FILE_DEFINITION,
  IMAGE_DEFINITION,
  LABEL_KEY,
  MODE,
  OWNER,
  PORT,
  fieldNames,
} from './definition.js';
import { DEFAULT_BASE, DEFAULT_BINARY_DIR, type DirectorySpec, type FileSpec, type ImageSpec } from './schema.js';

const IMAGE_FIELDS = fieldNames(IMAGE_DEFINITION);
const FILE_FIELDS = fieldNames(FILE_DEFINITION);
const DIRECTORY_FIELDS = fieldNames(DIRECTORY_DEFINITION);

/** One image's settings, written at `path` (`image`, or `images[1]` in a list). */
export function readImageSpec(path: string, value: unknown): ImageSpec {
  const record = value === undefined || value === null ? {} : readMapping(path, value, IMAGE_FIELDS);
  const field = (key: string): string => join(path, key);
  const optional = (key: string): string | undefined => readOptionalString(field(key), record[key]);
  const binaryDir = checkAbsolute(field('binaryDir'), optional('binaryDir') ?? DEFAULT_BINARY_DIR);
  const volumes = [
    ...new Set(
      readStringList(field('volumes'), record.volumes).map((volume, index) =>
        checkVolume(`${field('volumes')}[${index}]`, volume, binaryDir),
      ),
    ),
  ];
  return {
    base: optional('base') ?? DEFAULT_BASE,
    repository: optional('repository'),
    binaries:
      record.binaries === undefined || record.binaries === null
        ? undefined
        : readStringList(field('binaries'), record.binaries),
    entrypoint: optional('entrypoint'),
    binaryDir,
    args: readStringList(field('args'), record.args),
    env: readEnv(field('env'), record.env),
    workdir: optional('workdir') === undefined ? undefined : checkAbsolute(field('workdir'), optional('workdir')!),
    user: readUser(field('user'), record.user),
    ports: readPorts(field('ports'), record.ports),
    stopSignal: optional('stopSignal'),
    labels: readLabels(field('labels'), record.labels),
    annotations: readLabels(field('annotations'), record.annotations),
    files: readFiles(field('files'), record.files),
    directories: readDirectories(field('directories'), record.directories),
    // A mount point written twice (`/data`, `/data/`) is one.
    volumes,
    tags: readTags(field('tags'), record.tags),
    path,
  };
}

/** Tags as written; a list given must name at least one, and each must be a valid tag. */
function readTags(path: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const tags = readStringList(path, value);
  if (tags.length === 0) throw new FieldError(path, 'the list is empty; remove it to tag with the version');
  tags.forEach((tag, index) => {
    if (!isValidTag(tag)) throw new FieldError(`${path}[${index}]`, `"${tag}" is not a valid tag (${TAG_RULE})`);
  });
  return tags;
}

/** An absolute, normalised path inside the image: no `..`, so nothing lands outside where it was aimed. */
export function checkAbsolute(path: string, value: string): string {
  if (!value.startsWith('/'))
    throw new FieldError(path, `"${value}" must be an absolute path in the image (start with /)`);
  if (value.split('/').some((segment) => segment === '..'))
    throw new FieldError(path, `"${value}" must not contain ".."`);
  // `/data/./x` and `/data/x` are one place: written the one way, they compare as one.
  const segments = value.split('/').filter((segment) => segment !== '' && segment !== '.');
  return `/${segments.join('/')}`;
}

/**
 * A mount point: an absolute path, not the root (a volume over `/` would hide the image) nor the
 * binaries' directory or one above it (the container would start without its program).
 */
function checkVolume(path: string, value: string, binaryDir: string): string {
  const volume = checkAbsolute(path, value);
  if (volume === '/') throw new FieldError(path, `"${value}" is the root; a volume must be a directory below it`);
  if (binaryDir === volume || binaryDir.startsWith(`${volume}/`))
    throw new FieldError(path, `"${value}" would hide the binaries in ${binaryDir} when the container starts`);
  return volume;
}

/** `8080`, `8080/tcp`, `53/udp`; a bare number means TCP, as Docker's EXPOSE does. */
export function readPorts(path: string, value: unknown): string[] {
  const items: unknown[] = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  return items.map((item, index) => {
    const text = String(item);
    if (
      (typeof item !== 'string' && typeof item !== 'number') ||
      !PORT.test(text) ||
      Number(text.split('/')[0]) > 65535
    ) {
      throw new FieldError(`${path}[${index}]`, `expected a port such as 8080 or 8080/tcp, found ${describe(item)}`);
    }
    return text.includes('/') ? text : `${text}/tcp`;
  });
}

export function checkLabelKey(path: string, key: string): string {
  if (!LABEL_KEY.test(key))
    throw new FieldError(
      path,
      `"${key}" is not a valid label key (lowercase letters, digits, '.', '-', '_'; e.g. org.example.team)`,
    );
  return key;
}

function readLabels(path: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const record = readAnyMapping(path, value);
  return Object.fromEntries(
    Object.entries(record).map(([key, raw]) => [checkLabelKey(join(path, key), key), readScalar(join(path, key), raw)]),
  );
}

/** A label value or user as people write them: text, a number or a boolean, never a list or mapping. */
function readScalar(path: string, value: unknown): string {
  const number = typeof value === 'number' && Number.isFinite(value);
  const scalar = typeof value === 'string' || typeof value === 'boolean' || number;
  if (scalar) {
    return checkNoNul(path, String(value));
  }
  throw new FieldError(path, `expected a string, found ${describe(value)}`);
}

function readUser(path: string, value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : readScalar(path, value);
}

function readFiles(path: string, value: unknown): FileSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FieldError(path, `expected a list of files, found ${describe(value)}`);
  return value.map((item, index) => {
    const at = `${path}[${index}]`;
    const record = readMapping(at, item, FILE_FIELDS);
    const [uid, gid] = readOwner(`${at}.owner`, record.owner);
    return {
      src: readSource(`${at}.src`, record.src),
      dst: checkAbsolute(`${at}.dst`, readString(`${at}.dst`, record.dst)),
      mode: readMode(`${at}.mode`, record.mode),
      dirMode: readMode(`${at}.dirMode`, record.dirMode),
      uid,
      gid,
      path: at,
    };
  });
}

/** Empty directories; an owner left out is the image's user, known when the image is planned. */
function readDirectories(path: string, value: unknown): DirectorySpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FieldError(path, `expected a list of directories, found ${describe(value)}`);
  return value.map((item, index) => {
    const at = `${path}[${index}]`;
    const record = readMapping(at, item, DIRECTORY_FIELDS);
    const given = record.owner !== undefined && record.owner !== null;
    const [uid, gid] = given ? readOwner(`${at}.owner`, record.owner) : [0, 0];
    return {
      dst: checkAbsolute(`${at}.dst`, readString(`${at}.dst`, record.dst)),
      mode: readMode(`${at}.mode`, record.mode) ?? 0o755,
      owner: given ? { uid, gid } : undefined,
      path: at,
    };
  });
}

/**
 * A source path in the build context, relative to the goci.yaml's directory; whether it stays in
 * the context is checked against the file system when the image is planned.
 */
function readSource(path: string, value: unknown): string {
  const text = readString(path, value);
  if (isAbsolute(text)) {
    const rule = 'sources are relative to the goci.yaml directory and stay inside the build context';
    throw new FieldError(path, `"${text}" is an absolute path; ${rule}`);
  }
  return text;
}

/**
 * Modes are octal as people write them: `0644`, `644` or `"0644"`. YAML 1.2 reads `0644` as
 * the number 644, so a number is taken by its digits, read as octal.
 */
function readMode(path: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  // YAML reads 0007 as the number 7: its digits, written back to at least three, are the mode.
  const digits = typeof value === 'number' ? String(value).padStart(3, '0') : typeof value === 'string' ? value : '';
  const mode = MODE.test(digits) ? parseInt(digits, 8) : Number.NaN;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    throw new FieldError(path, `expected an octal mode such as 0644, found ${describe(value)}`);
  return mode;
}

const MAX_ID = 4294967295;

/** `uid:gid` or a single uid (then gid = uid); numeric only, since the image may have no /etc/passwd. */
function readOwner(path: string, value: unknown): [number, number] {
  if (value === undefined || value === null) return [0, 0];
  const match = OWNER.exec(String(value));
  const ids = match ? [Number(match[1]), Number(match[2] ?? match[1])] : [];
  // A tar header (and Linux) holds ids up to 2^32 - 1; a larger one is refused here, before anything compiles.
  if (!match || ids.some((id) => id > MAX_ID)) {
    throw new FieldError(path, `expected a numeric owner such as 65532 or 65532:65532, found ${describe(value)}`);
  }
  return [ids[0]!, ids[1]!];
}
