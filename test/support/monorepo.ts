import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { git, removeDirectory, temporaryDirectory } from './workspace.js';

/** The module path of the two-service monorepo. */
export const MONOREPO_MODULE = 'example.com/team';

/** A main package that prints its name and the version goci stamped into it. */
function service(name: string): string {
  return [
    `// Command ${name} prints its name and version.`,
    'package main',
    '',
    'import "fmt"',
    '',
    'var version = "dev"',
    '',
    'func main() {',
    `\tfmt.Println("${name}", version)`,
    '}',
    '',
  ].join('\n');
}

/**
 * A git repository of one Go module with two services, ./cmd/app and ./cmd/worker, tagged
 * v0.3.1, dist/ ignored; `files` adds (or replaces) files by path before the commit.
 */
export async function monorepo(files: Record<string, string> = {}): Promise<string> {
  const dir = await temporaryDirectory('monorepo');
  const all: Record<string, string> = {
    'go.mod': `module ${MONOREPO_MODULE}\n\ngo 1.19\n`,
    'cmd/app/main.go': service('app'),
    'cmd/worker/main.go': service('worker'),
    '.gitignore': 'dist/\n',
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'two services');
  await git(dir, 'tag', 'v0.3.1');
  return dir;
}

/** Kubernetes manifests of the monorepo's two services: goci:// by import path and by directory, comments and quoting kept. */
export const MONOREPO_MANIFESTS: Record<string, string> = {
  'k8s/app.yaml': [
    '# The app, built by goci',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: app',
    'spec:',
    '  selector: {matchLabels: {app: app}}',
    '  template:',
    '    metadata: {labels: {app: app}}',
    '    spec:',
    '      containers:',
    '        - name: app',
    `          image: goci://${MONOREPO_MODULE}/cmd/app # resolved at deploy time`,
    '',
  ].join('\n'),
  'k8s/worker.yaml': [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: {name: worker}',
    'spec:',
    '  containers:',
    '    - name: worker',
    '      image: "goci://./cmd/worker"',
    '---',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata: {name: worker-settings}',
    'data:',
    "  goci://not-a-reference-as-a-key: 'plain data'",
    '',
  ].join('\n'),
  'compose.yaml': [
    'services:',
    '  app:',
    '    image: goci://./cmd/app',
    '    ports: ["8080:8080"]',
    '  worker:',
    `    image: 'goci://${MONOREPO_MODULE}/cmd/worker'`,
    '',
  ].join('\n'),
};

/**
 * Monorepos for one test file, each removed once the file's tests are done:
 * `const repository = monorepos();` at the top, then `await repository({...files})` in a test.
 */
export function monorepos(): (files?: Record<string, string>) => Promise<string> {
  const made: string[] = [];
  after(() => Promise.all(made.map(removeDirectory)));
  return async (files = {}) => {
    const dir = await monorepo(files);
    made.push(dir);
    return dir;
  };
}
