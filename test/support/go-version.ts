import { execa } from 'execa';

/** What `go version -m FILE` prints, as data; the reference goci's own decoder is checked against. */
export interface GoVersionM {
  goVersion: string;
  path: string;
  mod?: string[];
  deps: string[][];
  settings: Record<string, string>;
}

export async function goVersionM(file: string): Promise<GoVersionM> {
  const { stdout } = await execa('go', ['version', '-m', file]);
  const [first, ...lines] = stdout.split('\n');
  const result: GoVersionM = {
    goVersion: first!.slice(first!.lastIndexOf(': ') + 2).trim(),
    path: '',
    deps: [],
    settings: {},
  };
  for (const line of lines) {
    const [kind, ...fields] = line.replace(/^\t/, '').split('\t');
    if (kind === 'path') result.path = fields[0]!;
    else if (kind === 'mod') result.mod = fields.filter((field) => field !== '');
    else if (kind === 'dep') result.deps.push(fields.filter((field) => field !== ''));
    else if (kind === 'build') {
      const setting = fields.join('\t');
      const equals = setting.indexOf('=');
      result.settings[setting.slice(0, equals)] = setting.slice(equals + 1);
    }
  }
  return result;
}
