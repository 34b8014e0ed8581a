import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderTemplate, type TemplateData } from '../compiler/template.js';

const DATA: TemplateData = {
  Version: '1.2.3',
  Commit: '1a2b3c4d5e6f',
  ShortCommit: '1a2b3c4',
  Date: '2024-05-01T12:00:00Z',
  CommitTimestamp: '1714564800',
  Os: 'linux',
  Arch: 'arm',
  Variant: 'v7',
  Env: { TEAM: 'payments' },
};

describe('templates', () => {
  test('every documented field expands, with or without spaces inside the braces', () => {
    assert.equal(
      renderTemplate(
        '{{.Version}} {{ .Commit }} {{.ShortCommit}} {{.Date}} {{.CommitTimestamp}} {{.Os}}/{{.Arch}}{{.Variant}} {{.Env.TEAM}}',
        DATA,
        'x',
      ),
      '1.2.3 1a2b3c4d5e6f 1a2b3c4 2024-05-01T12:00:00Z 1714564800 linux/armv7 payments',
    );
  });

  test('an unknown field is an error naming where it was written', () => {
    assert.throws(() => renderTemplate('-X main.v={{.Versoin}}', DATA, 'goci.yaml: builds[0].ldflags[0]'), {
      code: 'BAD_TEMPLATE',
      message:
        'goci.yaml: builds[0].ldflags[0]: {{.Versoin}} is unknown; fields are .Version .Commit .ShortCommit .Date .CommitTimestamp .Os .Arch .Variant .Env',
    });
  });

  test('an unset environment variable is an error, not an empty string', () => {
    assert.throws(() => renderTemplate('{{.Env.MISSING}}', DATA, 'where'), {
      code: 'BAD_TEMPLATE',
      message: 'where: {{.Env.MISSING}} refers to MISSING, which is not set in the environment',
    });
  });

  test('text without actions passes through unchanged', () => {
    assert.equal(renderTemplate('-s -w', DATA, 'x'), '-s -w');
  });
});
