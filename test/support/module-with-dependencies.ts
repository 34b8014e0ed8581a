import { execFile as execFileCallback } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';

const execFile = promisify(execFileCallback);

// ---------------------------------------------------------------------------------------------
// A Go module with real dependencies, without the network: three modules come from a
// file:// module proxy this test writes (so Go records h1: sums), one is a directory.
//
//   example.com/app (main package in cmd/app)
//   ├── example.com/Acme/Widget v1.2.3          upper case in the path; needs example.com/legacy
//   │   └── example.com/legacy v2.0.0+incompatible   no go.mod; a '+' in the version
//   ├── example.com/old v1.0.0 => example.com/fork v1.1.0   replaced by another module
//   └── example.com/local v0.0.0 => ./local       replaced by a directory
// ---------------------------------------------------------------------------------------------

interface ProxyModule {
  path: string;
  version: string;
  /** What the proxy serves as the .mod file. */
  mod: string;
  /** Files in the module zip, relative to the module root. */
  files: Record<string, string>;
}

const PROXY_MODULES: ProxyModule[] = [
  {
    path: 'example.com/Acme/Widget',
    version: 'v1.2.3',
    mod: 'module example.com/Acme/Widget\n\ngo 1.19\n\nrequire example.com/legacy v2.0.0+incompatible\n',
    files: {
      'widget.go':
        'package widget\n\nimport "example.com/legacy"\n\nfunc Name() string { return "widget and " + legacy.Name() }\n',
    },
  },
  {
    path: 'example.com/legacy',
    version: 'v2.0.0+incompatible',
    mod: 'module example.com/legacy\n',
    files: { 'legacy.go': 'package legacy\n\nfunc Name() string { return "legacy" }\n' },
  },
  {
    // A fork that kept the original module path, as forks used through replace usually do.
    path: 'example.com/fork',
    version: 'v1.1.0',
    mod: 'module example.com/old\n\ngo 1.19\n',
    files: { 'old.go': 'package old\n\nfunc Name() string { return "fork of old" }\n' },
  },
];
for (const module of PROXY_MODULES) {
  if (!module.version.endsWith('+incompatible')) module.files['go.mod'] = module.mod;
}

const APP_FILES: Record<string, string> = {
  'go.mod': [
    'module example.com/app',
    '',
    'go 1.19',
    '',
    'require (',
    '\texample.com/Acme/Widget v1.2.3',
    '\texample.com/local v0.0.0',
    '\texample.com/old v1.0.0',
    ')',
    '',
    'replace example.com/old v1.0.0 => example.com/fork v1.1.0',
    '',
    'replace example.com/local => ./local',
    '',
  ].join('\n'),
  'cmd/app/main.go': [
    'package main',
    '',
    'import (',
    '\t"fmt"',
    '',
    '\twidget "example.com/Acme/Widget"',
    '\t"example.com/local"',
    '\t"example.com/old"',
    ')',
    '',
    'func main() { fmt.Println(widget.Name(), old.Name(), local.Name()) }',
    '',
  ].join('\n'),
  'local/go.mod': 'module example.com/local\n\ngo 1.19\n',
  'local/local.go': 'package local\n\nfunc Name() string { return "local" }\n',
};

/** The go command's environment for the fixture: its own module proxy and cache, nothing from this machine's settings. */
export function goEnvironment(workspace: string, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const proxy = join(workspace, 'proxy');
  return {
    ...process.env,
    GOOS: '',
    GOARCH: '',
    GOARM: '',
    GOAMD64: '',
    GOFLAGS: '-modcacherw',
    GOWORK: 'off',
    GOPROXY: pathToFileURL(proxy).href,
    GOSUMDB: 'off',
    GONOSUMDB: '',
    GONOPROXY: '',
    GOPRIVATE: '',
    GOINSECURE: '',
    GOMODCACHE: join(workspace, 'modcache'),
    CGO_ENABLED: '0',
    ...overrides,
  };
}

/** The module proxy protocol's case encoding: each upper-case letter becomes '!' and its lower case. */
function escapeModulePath(path: string): string {
  return path.replace(/[A-Z]/g, (letter) => `!${letter.toLowerCase()}`);
}

/** A zip with stored (uncompressed) entries and fixed timestamps: all the go command needs. */
function storedZip(entries: [string, string][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  for (const [name, text] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = Buffer.from(text, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), content);
  }
}

async function writeProxy(proxy: string): Promise<void> {
  for (const module of PROXY_MODULES) {
    const base = `${escapeModulePath(module.path)}/@v`;
    const entries = Object.entries(module.files)
      .sort(([left], [right]) => (left < right ? -1 : 1))
      .map(([name, text]): [string, string] => [`${module.path}@${module.version}/${name}`, text]);
    await writeFiles(proxy, {
      [`${base}/list`]: `${module.version}\n`,
      [`${base}/${module.version}.info`]: JSON.stringify({ Version: module.version, Time: '2024-05-01T12:00:00Z' }),
      [`${base}/${module.version}.mod`]: module.mod,
      [`${base}/${module.version}.zip`]: storedZip(entries),
    });
  }
}

/**
 * Writes the fixture into `workspace`: its module proxy (`proxy/`) and the module (`app/`), tidied
 * (go.sum written); returns the module's directory.
 */
export async function moduleWithDependencies(workspace: string): Promise<string> {
  const app = join(workspace, 'app');
  await writeProxy(join(workspace, 'proxy'));
  await writeFiles(app, APP_FILES);
  await execFile('go', ['mod', 'tidy'], { cwd: app, env: goEnvironment(workspace) });
  return app;
}
