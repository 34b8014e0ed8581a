import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

/** The product's source folders, as DESIGN.md's Layout names them (tests, benches and scripts excluded). */
export const SOURCE_FOLDERS = [
  'common',
  'spec',
  'oci',
  'compiler',
  'images',
  'registry',
  'inspect',
  'sinks',
  'pipeline',
  'frontend',
  'cli',
];

/** One relative import of one source file: the file and the file it names, both relative to the root. */
export interface SourceImport {
  from: string;
  to: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;

async function typeScriptFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'gen' ? Promise.resolve([]) : typeScriptFiles(path);
      return Promise.resolve(entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []);
    }),
  );
  return nested.flat();
}

/** Every relative import in the source folders' TypeScript (generated protobuf code excluded). */
export async function sourceImports(root: string): Promise<SourceImport[]> {
  const files = (await Promise.all(SOURCE_FOLDERS.map((folder) => typeScriptFiles(join(root, folder))))).flat();
  const imports = await Promise.all(
    files.map(async (file) => {
      const text = await readFile(file, 'utf8');
      return [...text.matchAll(IMPORT)].map((match) => ({
        from: relative(root, file),
        to: relative(root, resolve(dirname(file), match[2] ?? '')).replace(/\.js$/, '.ts'),
      }));
    }),
  );
  return imports.flat();
}

/** `folder -> folder` for each import that crosses folders, sorted and without repeats. */
export function folderEdges(imports: SourceImport[]): string[] {
  const top = (path: string): string => path.split('/')[0] ?? path;
  const edges = imports
    .filter((edge) => top(edge.from) !== top(edge.to))
    .map((edge) => `${top(edge.from)} -> ${top(edge.to)}`);
  return [...new Set(edges)].sort();
}

/** The folders on a cycle of folder edges, each cycle once as `a -> b -> a`. */
export function folderCycles(edges: string[]): string[] {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    const [from, to] = edge.split(' -> ') as [string, string];
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const cycles = new Set<string>();
  const walk = (path: string[]): void => {
    const last = path[path.length - 1] ?? '';
    for (const to of next.get(last) ?? []) {
      const at = path.indexOf(to);
      if (at >= 0) {
        const loop = path.slice(at);
        const start = loop.indexOf([...loop].sort()[0] ?? '');
        cycles.add([...loop.slice(start), ...loop.slice(0, start), loop[start]].join(' -> '));
      } else walk([...path, to]);
    }
  };
  for (const folder of next.keys()) walk([folder]);
  return [...cycles].sort();
}
