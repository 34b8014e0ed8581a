import { GOCI_VERSION } from '../common/goci-version.js';
import {
  BUILD_DEFINITION,
  DIRECTORY_DEFINITION,
  FILE_DEFINITION,
  IMAGE_DEFINITION,
  TOP_LEVEL_DEFINITION,
  VERSION_DEFINITION,
  type JsonSchema,
  type MappingDefinition,
} from './definition.js';

/** Where editors find the schema of this goci version: the file the npm package ships, as unpkg serves it. */
export const SCHEMA_URL = `https://unpkg.com/goci@${GOCI_VERSION}/lib/goci.schema.json`;

/** The line `goci init` starts goci.yaml with: the YAML language server (VS Code, JetBrains, Neovim) reads it. */
export const SCHEMA_COMMENT = `# yaml-language-server: $schema=${SCHEMA_URL}`;

/** A mapping of `definition`'s fields; as in goci, a field given as null (`base:` alone) is one left out. */
function mapping(definition: MappingDefinition, required: string[] = [], extra: JsonSchema = {}): JsonSchema {
  const properties = Object.fromEntries(
    Object.entries(definition).map(([name, field]) => [
      name,
      required.includes(name)
        ? { description: field.description, ...field.schema }
        : { description: field.description, anyOf: [field.schema, { type: 'null' }] },
    ]),
  );
  return {
    type: 'object',
    additionalProperties: false,
    properties,
    ...(required.length > 0 ? { required } : {}),
    ...extra,
  };
}

/** image and images both given (not null): goci refuses it. */
const BOTH_GIVEN: JsonSchema = { image: { not: { type: 'null' } }, images: { not: { type: 'null' } } };

/** goci.yaml's JSON Schema (draft-07), made from the fields the validator accepts. */
export function gociJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_URL,
    title: 'goci.yaml',
    description: `What goci ${GOCI_VERSION} builds: Go binaries and the container images made of them`,
    ...mapping(TOP_LEVEL_DEFINITION, [], {
      not: { type: 'object', required: ['image', 'images'], properties: BOTH_GIVEN },
    }),
    type: ['object', 'null'],
    definitions: {
      version: mapping(VERSION_DEFINITION),
      build: mapping(BUILD_DEFINITION),
      image: mapping(IMAGE_DEFINITION),
      file: mapping(FILE_DEFINITION, ['src', 'dst']),
      directory: mapping(DIRECTORY_DEFINITION, ['dst']),
    },
  };
}

/** The schema as a file holds it: indented, with lists of numbers (file modes) kept on one line. */
export function gociJsonSchemaText(): string {
  const text = JSON.stringify(gociJsonSchema(), null, 2);
  return `${text.replace(/\[\s*(\d+(?:,\s*\d+)*)\s*\]/g, (_, numbers: string) => `[${numbers.split(/,\s*/).join(', ')}]`)}\n`;
}
