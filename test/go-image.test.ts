import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { goDirectiveRelease } from '../compiler/module.js';
import { newerRelease } from '../frontend/build.js';

/** Issue 14: the frontend's default Go image follows the module's go directive, never below what its flags need. */
describe("the frontend's Go image from the go directive", () => {
  test('the directive is read as major.minor, whatever patch or comment follows', () => {
    assert.equal(goDirectiveRelease('module x\n\ngo 1.19\n'), '1.19');
    assert.equal(goDirectiveRelease('module x\n\ngo 1.21.3 // toolchain pinned below\n'), '1.21');
    assert.equal(goDirectiveRelease('module x\n'), undefined);
  });

  test('a directive older than Go 1.18 (where -buildvcs came) gets 1.18; a newer one itself', () => {
    assert.equal(newerRelease('1.16', '1.18'), '1.18');
    assert.equal(newerRelease('1.18', '1.18'), '1.18');
    assert.equal(newerRelease('1.21', '1.18'), '1.21');
    assert.equal(newerRelease('2.0', '1.18'), '2.0');
  });
});
