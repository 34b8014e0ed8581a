import { GociError } from '../common/errors.js';

/** The values `{{.Name}}` may refer to in ldflags, flags and env. */
export interface TemplateData {
  Version: string;
  Commit: string;
  ShortCommit: string;
  Date: string;
  CommitTimestamp: string;
  Os: string;
  Arch: string;
  Variant: string;
  Env: Record<string, string | undefined>;
}

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;
const FIELD = /^\.([A-Za-z]+)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$/;
const FIELDS = ['Version', 'Commit', 'ShortCommit', 'Date', 'CommitTimestamp', 'Os', 'Arch', 'Variant', 'Env'] as const;

/**
 * Expands Go-template-style fields. Only plain field references exist here; anything else
 * is an error rather than text passed through, so a typo cannot reach a release binary.
 * Names are looked up as own properties only: `{{.Env.constructor}}` is an unset variable,
 * never something inherited from Object.prototype.
 */
export function renderTemplate(text: string, data: TemplateData, where: string): string {
  return text.replace(ACTION, (action: string, expression: string) => {
    const match = FIELD.exec(expression);
    if (!match) throw templateError(where, action, 'is not a field reference such as {{.Version}}');
    const [, name, key] = match as unknown as [string, string, string | undefined];
    if (name === 'Env') {
      if (key === undefined) throw templateError(where, action, 'needs a variable name, e.g. {{.Env.HOME}}');
      const value = Object.hasOwn(data.Env, key) ? data.Env[key] : undefined;
      if (typeof value !== 'string') {
        throw templateError(where, action, `refers to ${key}, which is not set in the environment`);
      }
      return value;
    }
    const field = FIELDS.find((known) => known === name && known !== 'Env');
    if (key !== undefined || field === undefined || !Object.hasOwn(data, field)) {
      throw templateError(where, action, `is unknown; fields are ${FIELDS.map((known) => `.${known}`).join(' ')}`);
    }
    return data[field as Exclude<keyof TemplateData, 'Env'>];
  });
}

/** The template actions in `text` as written (`{{.Env.X}}`), for messages about what they rendered to. */
export function templateActions(text: string): string[] {
  return [...text.matchAll(ACTION)].map((match) => match[0]);
}

function templateError(where: string, action: string, problem: string): GociError {
  return new GociError('BAD_TEMPLATE', `${where}: ${action} ${problem}`);
}
