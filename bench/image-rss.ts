/**
 * Images one binary (static base + binary layer) into a fresh layout and prints this process's
 * peak RSS in bytes. Run alone by bench/image.ts so nothing else counts towards the figure.
 *
 *   node lib/bench/image-rss.js BINARY LAYOUT_DIR
 */
import { parsePlatform } from '../compiler/platform.js';
import { assembleImages } from '../images/assemble.js';
import { resolveBase } from '../images/base/resolve.js';

const [binary, layoutDir] = process.argv.slice(2) as [string, string];
const base = await resolveBase('static', 'bench');
await assembleImages({
  layoutDir,
  format: 'oci',
  base,
  fileEntries: [],
  runtime: {
    entrypoint: ['/usr/local/bin/big'],
    cmd: [],
    env: base.env,
    user: base.user,
    workingDir: base.workingDir,
    exposedPorts: [],
    volumes: [],
    stopSignal: undefined,
  },
  epoch: 0,
  indexAnnotations: {},
  platforms: [
    {
      platform: parsePlatform('linux/amd64'),
      binaryEntries: [{ type: 'file', path: '/usr/local/bin/big', mode: 0o755, uid: 0, gid: 0, source: binary }],
      binaryCacheKey: `bench ${binary} ${Date.now()}`,
      labels: {},
      annotations: {},
    },
  ],
});
// maxRSS is in kilobytes.
console.log(process.resourceUsage().maxRSS * 1024);
