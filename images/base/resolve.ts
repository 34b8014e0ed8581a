import { GociError } from '../../common/errors.js';
import type { BaseLayers } from '../assemble.js';
import { staticBase } from './static.js';

/** The bases goci builds itself. Remote bases (a registry reference) come with the registry client. */
export const BUILT_IN_BASES = ['static', 'static:nonroot', 'static:root', 'scratch'] as const;

export async function resolveBase(name: string, where: string): Promise<BaseLayers> {
  switch (name) {
    case 'scratch':
      return { name: undefined, entries: [], env: [], user: '', workingDir: '' };
    case 'static':
    case 'static:nonroot': {
      const base = await staticBase('nonroot');
      return { name: 'goci static (nonroot)', entries: base.entries, env: base.env, user: base.user, workingDir: base.workingDir };
    }
    case 'static:root': {
      const base = await staticBase('root');
      return { name: 'goci static (root)', entries: base.entries, env: base.env, user: base.user, workingDir: base.workingDir };
    }
    default:
      throw new GociError('BAD_ARGUMENT', `${where}: "${name}" is not a built-in base; remote base images are not supported yet`, {
        hint: `use one of ${BUILT_IN_BASES.join(', ')}`,
      });
  }
}
