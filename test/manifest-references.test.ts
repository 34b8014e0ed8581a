import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GociError } from '../common/errors.js';
import { findReferences, replaceReferences } from '../pipeline/manifest-references.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const APP = `127.0.0.1:5000/team/app@${DIGEST}`;

describe('goci:// references in YAML', () => {
  test('found in any value of any document, never in a key', () => {
    const text = 'a: goci://./x\n---\nb: [1, {c: "goci://example.com/m/y"}]\ngoci://key: v\n';
    assert.deepEqual(
      findReferences(text, 'f.yaml').map((reference) => reference.target),
      ['./x', 'example.com/m/y'],
    );
  });

  test('replaced in place: comments, spacing, quoting and other documents stay byte for byte', () => {
    const text = '# c\nx:   goci://./app   # keep\ny: \'goci://./app\'\nz: "goci://./app"\n---\nw: 1\n';
    const resolved = replaceReferences(text, findReferences(text, 'f.yaml'), new Map([['./app', APP]]));
    assert.equal(resolved, `# c\nx:   ${APP}   # keep\ny: '${APP}'\nz: "${APP}"\n---\nw: 1\n`);
  });

  test('text that is not YAML is refused naming the file, line and column', () => {
    assert.throws(
      () => findReferences('a: 1\nb: [unclosed\n', 'k8s/x.yaml'),
      (error: unknown) => error instanceof GociError && /^k8s\/x\.yaml:\d+:\d+: /.test(error.message),
    );
  });
});
