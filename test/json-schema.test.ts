import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { isGociError } from '../common/errors.js';
import { parseSpecText } from '../spec/load.js';
import { gociJsonSchema } from '../spec/json-schema.js';
import { REPO_ROOT } from './support/goci.js';

/**
 * Issue 13: goci.yaml's JSON Schema is made from the validator's own field definitions. An
 * independent validator (ajv) and goci's agree on what is a goci.yaml and what is not.
 */

const validate = new Ajv({ strict: false }).compile(gociJsonSchema());

function accepted(text: string): { schema: boolean; goci: boolean } {
  let goci = true;
  try {
    parseSpecText(text, 'goci.yaml', '/src');
  } catch (error) {
    if (!isGociError(error)) throw error;
    goci = false;
  }
  return { schema: validate(parse(text)) === true, goci };
}

/** The goci.yaml reference in the README (its first yaml block after the heading), as users copy it. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### goci.yaml'));
  return section.slice(section.indexOf('```yaml\n') + 8, section.indexOf('```\n', section.indexOf('```yaml\n') + 8));
}

describe("goci.yaml's JSON Schema", () => {
  test('accepts what goci accepts: the examples and the README reference', async () => {
    const texts = await Promise.all(
      ['hello', 'server', 'large'].map((name) => readFile(join(REPO_ROOT, 'examples', name, 'goci.yaml'), 'utf8')),
    );
    texts.push(await readmeExample(), '', 'images:\n  - {binaries: [a], tags: edge}\n  - {repository: b}\n');
    // A field given as null, as `image:` alone is, is one left out.
    texts.push('image:\n', 'images: [~]\n', 'image: {repository: ~, files: ~}\n', 'image: ~\nimages: [{}]\n');
    texts.push(
      'image:\n  files: [{src: a, dst: /a, mode: 0644}, {src: b, dst: /b, mode: 4755}, {src: c, dst: /c, mode: 0007}]\n',
    );
    for (const text of texts) assert.deepEqual(accepted(text), { schema: true, goci: true }, text);
  });

  const refused: [string, string][] = [
    ['an unknown top-level field', 'imgae: {base: scratch}\n'],
    ['an unknown build field', 'builds:\n  - mian: ./cmd/app\n'],
    ['an unknown image field', 'image: {bsae: scratch}\n'],
    ['an unknown file field', 'image:\n  files: [{src: a, dst: /a, perms: 0644}]\n'],
    ['a file without dst', 'image:\n  files: [{src: a}]\n'],
    ['image and images both', 'image: {}\nimages: [{}]\n'],
    ['builds as a mapping', 'builds: {main: .}\n'],
    ['an empty builds list', 'builds: []\n'],
    ['a relative binaryDir', 'image: {binaryDir: bin}\n'],
    ['a port that is no port', 'image: {ports: [http]}\n'],
    ['a label key with capitals', 'image: {labels: {Team: x}}\n'],
    ['a mode that is not octal', 'image:\n  files: [{src: a, dst: /a, mode: "0999"}]\n'],
    ['a mode number that is not octal', 'image:\n  files: [{src: a, dst: /a, mode: 999}]\n'],
    ['a file without a src', 'image:\n  files: [{src: ~, dst: /a}]\n'],
    ['a main package that is a flag', 'builds:\n  - main: -toolexec=/bin/true\n'],
    ['an owner by name', 'image:\n  files: [{src: a, dst: /a, owner: nonroot}]\n'],
    ['a tag starting with a dash', 'image: {tags: [-x]}\n'],
    ['an env name with a dash', 'builds:\n  - env: {GO-FLAGS: x}\n'],
    ['a version variable without a package', 'version: {variable: version}\n'],
    ['a binary name with a slash', 'builds:\n  - binary: a/b\n'],
    ['buildvcs maybe', 'builds:\n  - buildvcs: maybe\n'],
  ];
  for (const [name, text] of refused) {
    test(`refuses, as goci does, ${name}`, () => {
      assert.deepEqual(accepted(text), { schema: false, goci: false });
    });
  }
});
