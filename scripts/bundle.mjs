// Bundles the CLI: Node then parses two files instead of resolving a few hundred modules (execa
// alone is ~100 files). lib/cli.cjs holds all of goci's CLI (cli/main.ts and what it imports)
// as one CommonJS file, which lib/goci.cjs (cli/launcher.ts, the package's bin) runs through
// V8's code cache: Node 20 caches compiled code for CommonJS run by vm.Script, not for ES
// modules. The BuildKit frontend image ships both files. lib/library.mjs is the package's library
// entry (pipeline/library.ts) as one ES module: the package's runtime dependencies are dockerode alone.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning' };
await rm('lib/chunks', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: ['lib/cli/main.js'],
  outfile: 'lib/cli.cjs',
  format: 'cjs',
  // Loaded only by --load, and its ssh2 dependency carries optional native modules: resolve it at run time.
  external: ['dockerode'],
  // The modules that find files beside themselves (the static base's data) read import.meta.url.
  define: { 'import.meta.url': 'gociBundleUrl' },
  banner: { js: "const gociBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// vm.Script, which runs the bundle, has no module loader for import(): a dynamic import in goci's
// code (esbuild turns those of bundled modules into require) would fail only when it runs.
if ((await readFile('lib/cli.cjs', 'utf8')).includes('import(')) {
  throw new Error(
    'lib/cli.cjs calls import(): load that module with createRequire instead (see sinks/docker-client.ts)',
  );
}
await build({
  ...common,
  entryPoints: ['lib/cli/launcher.js'],
  outfile: 'lib/goci.cjs',
  format: 'cjs',
  define: { 'import.meta.url': 'gociLauncherUrl' },
  banner: { js: "#!/usr/bin/env node\nconst gociLauncherUrl = require('node:url').pathToFileURL(__filename).href;" },
});
await build({
  ...common,
  entryPoints: ['lib/pipeline/library.js'],
  outfile: 'lib/library.mjs',
  format: 'esm',
  external: ['dockerode'],
  // The CommonJS dependencies bundled here call require() for Node's own modules: an ES module has none of its own.
  banner: {
    js: "import { createRequire as gociCreateRequire } from 'node:module';\nconst require = gociCreateRequire(import.meta.url);",
  },
});
// goci.yaml's JSON Schema, shipped in the package for editors (goci init points goci.yaml at it).
const { gociJsonSchemaText } = await import('../lib/spec/json-schema.js');
await writeFile('lib/goci.schema.json', gociJsonSchemaText());
