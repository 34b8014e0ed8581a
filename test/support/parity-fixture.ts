import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './goci.js';

/** The parity fixture's file with an explicit mode and owner, and where it goes. */
export const PARITY_CONFIG = { src: 'config/app.conf', dst: '/etc/server/app.conf' };

const HEALTHCHECK_MAIN = `package main

import (
	"fmt"
	"os"
)

// healthcheck: the second binary of the parity fixture.
func main() {
	fmt.Println("ok")
	os.Exit(0)
}
`;

/**
 * examples/server with a second main package (cmd/healthcheck) and image.files: a file with mode
 * 0640 owned by 65532, and a directory holding a nested directory, an executable script and a
 * relative symlink; on `base` (image.base, a registry reference) when given. Built for
 * `platforms` by both doors in the parity tests.
 */
export async function parityFixture(dir: string, platforms: string[], base?: string): Promise<string> {
  await cp(join(REPO_ROOT, 'examples', 'server'), dir, { recursive: true });
  await mkdir(join(dir, 'cmd', 'healthcheck'), { recursive: true });
  await writeFile(join(dir, 'cmd', 'healthcheck', 'main.go'), HEALTHCHECK_MAIN);
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, PARITY_CONFIG.src), 'listen = ":8080"\n', { mode: 0o600 });
  await mkdir(join(dir, 'web', 'css'), { recursive: true });
  await writeFile(join(dir, 'web', 'index.html'), '<h1>server</h1>\n', { mode: 0o664 });
  await writeFile(join(dir, 'web', 'css', 'site.css'), 'h1 { color: teal; }\n');
  await writeFile(join(dir, 'web', 'run.sh'), '#!/bin/sh\necho web\n', { mode: 0o775 });
  await symlink('index.html', join(dir, 'web', 'home.html'));
  const spec = await readFile(join(dir, 'goci.yaml'), 'utf8');
  const list = `[${platforms.join(', ')}]`;
  const builds = spec.replace(/ {4}platforms: \[[^\]]*\]\n/, `    platforms: ${list}\n`);
  await writeFile(
    join(dir, 'goci.yaml'),
    `${builds}  - id: healthcheck
    binary: healthcheck
    main: ./cmd/healthcheck
    platforms: ${list}
image:
${base === undefined ? '' : `  base: ${base}\n`}  binaries: [server, healthcheck]
  files:
    - {src: ${PARITY_CONFIG.src}, dst: ${PARITY_CONFIG.dst}, mode: 0640, owner: "65532:65532"}
    - {src: web, dst: /srv/web}
`,
  );
  return dir;
}
