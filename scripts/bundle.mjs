// Bundles the CLI: Node then parses a few modules instead of resolving a few hundred (execa alone
// is ~100 files). Split by command: `lib/goci.mjs` holds commander and the command definitions,
// and each command's action is a chunk under `lib/chunks/` loaded when that command runs, so
// `goci --help` or `goci push` never parses the frontend's protobuf code or the compiler.
// The BuildKit frontend image ships goci.mjs with its chunks.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm('lib/chunks', { recursive: true, force: true });
await build({
  entryPoints: { goci: 'lib/cli/main.js' },
  outdir: 'lib',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  // Loaded only by --load, and its ssh2 dependency carries optional native modules: resolve it at run time.
  external: ['dockerode'],
  logLevel: 'warning',
  // Some dependencies call require(); give every ES module chunk one.
  banner: {
    js: "import { createRequire as gociCreateRequire } from 'node:module';\nconst require = gociCreateRequire(import.meta.url);",
  },
});
