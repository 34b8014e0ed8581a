/**
 * goci.yaml's fields, once: each mapping's fields with what they mean and the JSON Schema of
 * their values. The validator (validate.ts, image.ts) accepts exactly these fields; the JSON
 * Schema editors read (json-schema.ts) is made from them. The patterns are the validator's own.
 */

import { VERSION_FORMATS } from './schema.js';
import { TAG } from '../registry/reference.js';

/** A JSON Schema (draft-07) fragment. */
export type JsonSchema = { [keyword: string]: unknown };

export interface FieldDefinition {
  description: string;
  schema: JsonSchema;
}

export type MappingDefinition = Readonly<Record<string, FieldDefinition>>;

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const GO_SYMBOL = /^[A-Za-z0-9_./-]+\.[A-Za-z_][A-Za-z0-9_]*$/;
/** go build reads an argument starting with '-' as a flag (-toolexec=… would run a program). */
export const MAIN_PACKAGE = /^[^-\s]/;
export const BINARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const PORT = /^\d{1,5}(\/(tcp|udp|sctp))?$/;
/** OCI: reverse-DNS keys; Docker allows lowercase alphanumerics, dots and dashes. Stay within both. */
export const LABEL_KEY = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;
export const MODE = /^0?[0-7]{3,4}$/;
export const OWNER = /^(\d+)(?::(\d+))?$/;

const text: JsonSchema = { type: 'string', minLength: 1 };
const pattern = (regexp: RegExp): JsonSchema => ({ type: 'string', pattern: regexp.source });
const absolutePath: JsonSchema = { type: 'string', pattern: '^/' };
/** A list of strings; a single string is taken as a one-element list. */
const textList = (item: JsonSchema = text): JsonSchema => ({ anyOf: [item, { type: 'array', items: item }] });
const scalar: JsonSchema = { type: ['string', 'number', 'boolean'] };
const env: JsonSchema = {
  anyOf: [
    { type: 'object', propertyNames: pattern(ENV_NAME), additionalProperties: scalar },
    { type: 'array', items: { type: 'string', pattern: `${ENV_NAME.source.slice(0, -1)}=` } },
  ],
};
const labels: JsonSchema = { type: 'object', propertyNames: pattern(LABEL_KEY), additionalProperties: scalar };
/** 0…7777 whose digits are all octal: what a YAML number `0644` (read as 644) may be; JSON Schema has no digit pattern for numbers. */
function octalDigitNumbers(): number[] {
  return Array.from({ length: 0o10000 }, (_, mode) => Number(mode.toString(8)));
}
const goVariable = (description: string): FieldDefinition => ({ description, schema: pattern(GO_SYMBOL) });

export const VERSION_DEFINITION: MappingDefinition = {
  variable: goVariable('-X target for the version (default main.version)'),
  commitVariable: goVariable('-X target for the full commit hash'),
  dateVariable: goVariable('-X target for the RFC 3339 build date (SOURCE_DATE_EPOCH)'),
  format: {
    description:
      "how a version from git is written: semver (default; 1.6.21-dev.1+g218db27), tag (keeps the tag's v), " +
      'describe (git describe --tags --always --dirty: v1.6.20-1-g218db27)',
    schema: { enum: [...VERSION_FORMATS] },
  },
};

export const BUILD_DEFINITION: MappingDefinition = {
  id: { description: 'the name images refer to this build by (default: the binary name)', schema: text },
  dir: { description: 'where go build runs, relative to goci.yaml (default .)', schema: text },
  main: {
    description: 'the main package, relative to dir (./cmd/api) or an import path (default .)',
    schema: pattern(MAIN_PACKAGE),
  },
  binary: { description: 'the binary name (default: the last element of main)', schema: pattern(BINARY_NAME) },
  flags: { description: 'extra go build flags (not -o, -ldflags, -tags: goci sets those)', schema: textList() },
  ldflags: { description: 'linker flags appended after -s -w -buildid= and the -X stamps', schema: textList() },
  tags: { description: 'build tags', schema: textList() },
  env: { description: 'environment of go build: a mapping, or a list of NAME=value', schema: env },
  platforms: { description: 'os/arch[/variant] targets, e.g. linux/amd64 (default: this machine)', schema: textList() },
  buildvcs: {
    description: 'go build -buildvcs',
    schema: { anyOf: [{ type: 'boolean' }, { enum: ['true', 'false', 'auto'] }] },
  },
};

const mode = (description: string): FieldDefinition => ({
  description,
  schema: { anyOf: [pattern(MODE), { type: 'integer', enum: octalDigitNumbers() }] },
});
const owner: FieldDefinition = {
  description: 'numeric uid[:gid] (default 0:0)',
  schema: { anyOf: [pattern(OWNER), { type: 'integer', minimum: 0 }] },
};

export const FILE_DEFINITION: MappingDefinition = {
  src: { description: 'a file or directory, relative to goci.yaml, inside the build context', schema: text },
  dst: { description: 'absolute path in the image', schema: absolutePath },
  mode: mode("files' octal mode such as 0644 (default 0644, or 0755 when executable)"),
  dirMode: mode("the octal mode of a copied tree's directories (default 0755)"),
  owner,
};

export const DIRECTORY_DEFINITION: MappingDefinition = {
  dst: { description: 'absolute path of the empty directory in the image', schema: absolutePath },
  mode: mode('octal mode (default 0755)'),
  owner: { ...owner, description: "numeric uid[:gid] (default: the image's user, else 0:0)" },
};

export const IMAGE_DEFINITION: MappingDefinition = {
  base: { description: 'static (default), static:root, scratch, or a registry image reference', schema: text },
  repository: { description: 'the image name in tags (default: the entrypoint binary)', schema: text },
  binaries: { description: 'builds (ids or binary names) whose binaries go in (default: all)', schema: textList() },
  entrypoint: { description: 'the binary the container starts (default: the first)', schema: text },
  binaryDir: { description: 'where binaries go in the image (default /usr/local/bin)', schema: absolutePath },
  args: { description: 'default arguments (Cmd)', schema: textList() },
  env: { description: "environment, merged over the base's", schema: env },
  workdir: { description: 'working directory', schema: absolutePath },
  user: { description: 'user the container runs as (uid[:gid])', schema: scalar },
  ports: {
    description: 'exposed ports: 8080, 8080/tcp, 53/udp',
    schema: textList({ anyOf: [pattern(PORT), { type: 'integer', minimum: 0, maximum: 65535 }] }),
  },
  stopSignal: { description: 'signal that stops the container', schema: text },
  labels: { description: 'config labels, over those goci takes from the build info', schema: labels },
  annotations: { description: 'manifest and index annotations', schema: labels },
  files: {
    description: 'files and directory trees copied into the image',
    schema: { type: 'array', items: { $ref: '#/definitions/file' } },
  },
  directories: {
    description: 'empty directories made in the image, with owner and mode (state a server writes)',
    schema: { type: 'array', items: { $ref: '#/definitions/directory' } },
  },
  volumes: {
    description: "volumes (the config's Volumes); each is an empty directory owned by the image's user unless listed",
    schema: textList(absolutePath),
  },
  tags: {
    description: "this image's tags instead of the version's (flags still win)",
    schema: { anyOf: [pattern(TAG), { type: 'array', minItems: 1, items: pattern(TAG) }] },
  },
};

export const TOP_LEVEL_DEFINITION: MappingDefinition = {
  version: { description: 'which Go variables receive the version stamp', schema: { $ref: '#/definitions/version' } },
  builds: {
    description: 'the binaries to build (default: the directory itself)',
    schema: { type: 'array', minItems: 1, items: { $ref: '#/definitions/build' } },
  },
  image: { description: 'one image of every build', schema: { $ref: '#/definitions/image' } },
  images: {
    description: 'several images, each naming its binaries (instead of image)',
    schema: { type: 'array', minItems: 1, items: { anyOf: [{ $ref: '#/definitions/image' }, { type: 'null' }] } },
  },
};

/** The field names of a mapping, as the validator lists them in an unknown-field message. */
export function fieldNames(definition: MappingDefinition): readonly string[] {
  return Object.keys(definition);
}
