import { basename, resolve } from 'node:path';
import {
  FieldError,
  describe,
  join,
  readEnv,
  readGoVariable,
  readMapping,
  readOptionalString,
  readString,
  readStringList,
} from './fields.js';
import { readImageSpec } from './image.js';
import {
  BINARY_NAME,
  BUILD_DEFINITION,
  MAIN_PACKAGE,
  TOP_LEVEL_DEFINITION,
  VERSION_DEFINITION,
  fieldNames,
} from './definition.js';
import type { ImageSpec } from './schema.js';
import {
  DEFAULT_VERSION_VARIABLE,
  VERSION_FORMATS,
  type BuildSpec,
  type BuildVcs,
  type Spec,
  type VersionFormat,
  type VersionSettings,
} from './schema.js';

const TOP_LEVEL_FIELDS = fieldNames(TOP_LEVEL_DEFINITION);
const VERSION_FIELDS = fieldNames(VERSION_DEFINITION);
const BUILD_FIELDS = fieldNames(BUILD_DEFINITION);

/** Turns a parsed goci.yaml (plain YAML data) into a Spec, or throws naming the bad field. */
export function validateSpec(raw: unknown, file: string | undefined, baseDir: string): Spec {
  const top = raw === null || raw === undefined ? {} : readMapping('', raw, TOP_LEVEL_FIELDS);
  const builds = readBuilds(top.builds, baseDir);
  return { file, baseDir, version: readVersionSettings(top.version), builds, images: readImages(top) };
}

/** `image:` (one image of every build) or `images:` (several, each naming its binaries), never both. */
function readImages(top: Record<string, unknown>): ImageSpec[] {
  const list = top.images;
  if (list === undefined || list === null) return [readImageSpec('image', top.image)];
  if (top.image !== undefined && top.image !== null)
    throw new FieldError('images', 'image and images cannot both be given; move image into the images list');
  if (!Array.isArray(list)) throw new FieldError('images', `expected a list of images, found ${describe(list)}`);
  if (list.length === 0)
    throw new FieldError('images', 'the list is empty; remove it to make one image of every build');
  return list.map((item, index) => readImageSpec(`images[${index}]`, item ?? {}));
}

function readVersionSettings(value: unknown): VersionSettings {
  if (value === undefined || value === null)
    return { variable: DEFAULT_VERSION_VARIABLE, commitVariable: undefined, dateVariable: undefined, format: 'semver' };
  const record = readMapping('version', value, VERSION_FIELDS);
  const optionalVariable = (key: string): string | undefined =>
    record[key] === undefined || record[key] === null ? undefined : readGoVariable(`version.${key}`, record[key]);
  return {
    variable: optionalVariable('variable') ?? DEFAULT_VERSION_VARIABLE,
    commitVariable: optionalVariable('commitVariable'),
    dateVariable: optionalVariable('dateVariable'),
    format: readVersionFormat(record.format),
  };
}

function readVersionFormat(value: unknown): VersionFormat {
  if (value === undefined || value === null) return 'semver';
  const format = readString('version.format', value);
  if ((VERSION_FORMATS as readonly string[]).includes(format)) return format as VersionFormat;
  throw new FieldError('version.format', `expected ${VERSION_FORMATS.join(', ')}, found ${describe(value)}`);
}

function readBuilds(value: unknown, baseDir: string): BuildSpec[] {
  if (value === undefined || value === null) return [readBuild('builds[0]', {}, baseDir)];
  if (!Array.isArray(value)) throw new FieldError('builds', `expected a list of builds, found ${describe(value)}`);
  if (value.length === 0)
    throw new FieldError('builds', 'the list is empty; remove it to build the directory itself, or add a build');
  const builds = value.map((item, index) => readBuild(`builds[${index}]`, item, baseDir));
  // binary first: ids default to the binary name, and the binary is what the user named.
  rejectDuplicates(builds, 'binary');
  rejectDuplicates(builds, 'id');
  return builds;
}

function readBuild(path: string, value: unknown, baseDir: string): BuildSpec {
  const record = readMapping(path, value, BUILD_FIELDS);
  const field = (key: string): string => join(path, key);
  const dir = readOptionalString(field('dir'), record.dir) ?? '.';
  const main = readOptionalString(field('main'), record.main) ?? '.';
  if (!MAIN_PACKAGE.test(main)) {
    const problem = main.startsWith('-')
      ? `"${main}" is read by go build as a flag, not a package`
      : `"${main}" starts with a space, so it names no package`;
    throw new FieldError(field('main'), `${problem}; name a directory such as ./cmd/api or an import path`);
  }
  const binary = readOptionalString(field('binary'), record.binary) ?? basename(resolve(baseDir, dir, main));
  if (!BINARY_NAME.test(binary)) {
    throw new FieldError(field('binary'), `"${binary}" is not a usable file name (letters, digits, '.', '_', '-')`);
  }
  return {
    id: readOptionalString(field('id'), record.id) ?? binary,
    dir,
    main,
    binary,
    flags: readStringList(field('flags'), record.flags),
    ldflags: readStringList(field('ldflags'), record.ldflags),
    tags: readStringList(field('tags'), record.tags),
    env: readEnv(field('env'), record.env),
    platforms:
      record.platforms === undefined || record.platforms === null
        ? undefined
        : readStringList(field('platforms'), record.platforms),
    buildvcs: readBuildVcs(field('buildvcs'), record.buildvcs),
    path,
  };
}

function readBuildVcs(path: string, value: unknown): BuildVcs | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === true || value === false) return value ? 'true' : 'false';
  const text = readString(path, value);
  if (text === 'true' || text === 'false' || text === 'auto') return text;
  throw new FieldError(path, `expected true, false or auto, found ${describe(value)}`);
}

function rejectDuplicates(builds: BuildSpec[], key: 'id' | 'binary'): void {
  builds.forEach((build, index) => {
    const first = builds.findIndex((other) => other[key] === build[key]);
    if (first !== index)
      throw new FieldError(
        `${build.path}.${key}`,
        `"${build[key]}" is already used by builds[${first}]; each build needs its own ${key}`,
      );
  });
}
