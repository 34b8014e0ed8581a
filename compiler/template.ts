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

/**
 * Expands Go-template-style fields. Only plain field references exist here; anything else
 * is an error rather than text passed through, so a typo cannot reach a release binary.
 */
export function renderTemplate(text: string, data: TemplateData, where: string): string {
  return text.replace(ACTION, (action: string, expression: string) => {
    const match = FIELD.exec(expression);
    if (!match) throw templateError(where, action, 'is not a field reference such as {{.Version}}');
    const [, name, key] = match as unknown as [string, string, string | undefined];
    if (name === 'Env') {
      if (key === undefined) throw templateError(where, action, 'needs a variable name, e.g. {{.Env.HOME}}');
      const value = data.Env[key];
      if (value === undefined) throw templateError(where, action, `refers to ${key}, which is not set in the environment`);
      return value;
    }
    if (key !== undefined || !(name in data)) {
      throw templateError(where, action, `is unknown; fields are ${Object.keys(data).map((field) => `.${field}`).join(' ')}`);
    }
    return data[name as Exclude<keyof TemplateData, 'Env'>];
  });
}

function templateError(where: string, action: string, problem: string): GociError {
  return new GociError('BAD_TEMPLATE', `${where}: ${action} ${problem}`);
}
