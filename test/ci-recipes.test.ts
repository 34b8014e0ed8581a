import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { starterSpec } from '../spec/starter.js';
import { REPO_ROOT } from './support/goci.js';
import { installGlobally, packFreshClone } from './support/installed-goci.js';
import { MONOREPO_MANIFESTS, MONOREPO_MODULE, monorepo } from './support/monorepo.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 13: the CI recipes in examples/ci stay true. Their own `run:` (GitHub Actions) and
 * `script:` (GitLab CI) lines, read from the files, run in a checkout of a two-service monorepo
 * against a loopback registry behind a password, with goci installed from a pack of this clone.
 * What the platform provides (the checkout, Go, Node, secrets) the test provides.
 */

const USER = 'ci';
const PASSWORD = 'recipe-secret';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const PINNED = /[0-9.:]+\/team\/[a-z]+@sha256:[a-f0-9]{64}/g;

let registry: RegistryHarness;
let work: string;
let tarball: string;

before(async () => {
  registry = await startRegistry({ auth: { htpasswd: { user: USER, password: PASSWORD } } });
  work = await temporaryDirectory('ci-recipes');
  ({ tarball } = await packFreshClone(work));
});

after(async () => {
  await registry.stop();
  await removeDirectory(work);
});

/** A checkout as CI makes it: the monorepo at tag v0.3.1 with goci init's goci.yaml and Kubernetes manifests. */
async function checkout(): Promise<string> {
  return monorepo({
    ...MONOREPO_MANIFESTS,
    'goci.yaml': starterSpec(['./cmd/app', './cmd/worker'], MONOREPO_MODULE, 'repo'),
  });
}

/** What CI gives every step here: a clean HOME and Docker config, npm's global prefix on PATH, no inherited GOCI_REPO. */
async function ciEnvironment(name: string): Promise<Record<string, string>> {
  const home = join(work, name);
  const prefix = join(home, 'npm-global');
  await mkdir(prefix, { recursive: true });
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && key !== 'GOCI_REPO') env[key] = value;
  return {
    ...env,
    HOME: home,
    DOCKER_CONFIG: join(home, 'docker'),
    npm_config_prefix: prefix,
    npm_config_prefer_offline: 'true',
    npm_config_omit: 'optional',
    npm_config_cache: join(process.env.HOME ?? '/root', '.npm'),
    GOCI_CACHE_DIR: join(home, 'goci-cache'),
    PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
  };
}

/** The values a CI platform would put in the variables the recipes name (secrets included). */
function platformValues(): Record<string, string> {
  return {
    GOCI_REPO: `${registry.host}/team`,
    REGISTRY: registry.host,
    REGISTRY_USER: USER,
    REGISTRY_PASSWORD: PASSWORD,
    CI_REGISTRY: registry.host,
    CI_REGISTRY_USER: USER,
    CI_REGISTRY_PASSWORD: PASSWORD,
    // goci is not on the npm registry: the recipes install the package a variable names, here the pack.
    GOCI_PACKAGE: tarball,
  };
}

/** GitLab's predefined variables for the project's registry. */
function gitlabPredefined(): Record<string, string> {
  const values = platformValues();
  return {
    CI_REGISTRY: values.CI_REGISTRY!,
    CI_REGISTRY_USER: values.CI_REGISTRY_USER!,
    CI_REGISTRY_PASSWORD: values.CI_REGISTRY_PASSWORD!,
    CI_REGISTRY_IMAGE: values.GOCI_REPO!,
  };
}

/** The variables a recipe declares, each given the platform's value; one the test cannot give fails the test. */
function declared(variables: Record<string, unknown> | undefined): Record<string, string> {
  const values = platformValues();
  const result: Record<string, string> = {};
  for (const name of Object.keys(variables ?? {})) {
    if (name === 'GIT_DEPTH' || name === 'GO_VERSION') continue; // the checkout and Go are the test's
    const value = values[name];
    assert.ok(value !== undefined, `the recipe declares ${name}, which this test does not provide`);
    result[name] = value;
  }
  return result;
}

async function exists(reference: string): Promise<boolean> {
  const [name, digest] = reference.slice(`${registry.host}/`.length).split('@') as [string, string];
  const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const response = await fetch(`${registry.url}/v2/${name}/manifests/${digest}`, {
    method: 'HEAD',
    headers: { accept: INDEX, authorization: auth },
  });
  return response.ok && response.headers.get('docker-content-digest') === digest;
}

/** The pushed references a resolved manifest pins, each of which the registry holds. */
async function pinnedIn(file: string): Promise<string[]> {
  const pinned = (await readFile(file, 'utf8')).match(PINNED) ?? [];
  for (const reference of pinned) assert.ok(await exists(reference), `${reference} is not in the registry`);
  return pinned;
}

describe('examples/ci, run as CI would', () => {
  test('GitHub Actions: every run: step passes; the outputs and the resolved manifests hold the pushed digests', async () => {
    const workflow = parse(await readFile(join(REPO_ROOT, 'examples', 'ci', 'github-actions.yml'), 'utf8'));
    const job = workflow.jobs.images as { env?: Record<string, unknown>; steps: Record<string, any>[] };
    const dir = await checkout();
    const env = await ciEnvironment('github');
    const output = join(env.HOME!, 'github-output');
    await writeFile(output, '');
    const steps = job.steps.filter((step) => typeof step.run === 'string');
    assert.deepEqual(
      steps.map((step) => step.name),
      [
        'Install goci',
        'Check goci.yaml',
        'Log in to the registry',
        'Build and push every service',
        'Pin the manifests to the pushed digests',
      ],
    );
    for (const step of steps) {
      assert.ok(!step.run.includes('${{'), `${step.name}: a run: line takes values through env, never \${{ }}`);
      const stepEnv = {
        ...env,
        ...declared(job.env),
        ...declared(step.env),
        GITHUB_OUTPUT: output,
        GITHUB_REF_TYPE: 'tag',
      };
      const result = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], {
        cwd: dir,
        env: stepEnv,
        extendEnv: false,
        reject: false,
      });
      assert.equal(result.exitCode, 0, `${step.name}:\n${result.stdout}\n${result.stderr}`);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD), `${step.name} printed the password`);
    }
    const outputs = Object.fromEntries(
      (await readFile(output, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    );
    assert.deepEqual(Object.keys(outputs), ['app', 'worker']);
    assert.ok(outputs.app?.startsWith(`${registry.host}/team/app@sha256:`));
    // The same commit built twice (publish, then resolve) is the same image: the manifests pin what was published.
    assert.deepEqual(await pinnedIn(join(dir, 'k8s.resolved.yaml')), [outputs.app, outputs.worker]);
  });

  test('GitLab CI: the script: lines pass; the dotenv report and the resolved manifests hold the pushed digests', async () => {
    const pipeline = parse(await readFile(join(REPO_ROOT, 'examples', 'ci', 'gitlab-ci.yml'), 'utf8'));
    const job = pipeline.images as { variables?: Record<string, unknown>; script: string[] };
    const dir = await checkout();
    const env = await ciEnvironment('gitlab');
    // before_script's environment (Go, and goci from GOCI_PACKAGE) is this machine's and the test's install.
    await installGlobally(tarball, env.npm_config_prefix!);
    const script = job.script.join('\n');
    const result = await execa('bash', ['-e', '-c', script], {
      cwd: dir,
      env: {
        ...env,
        ...gitlabPredefined(),
        ...declared(job.variables),
        CI_COMMIT_TAG: 'v0.3.1',
        GOCI_PACKAGE: tarball,
      },
      extendEnv: false,
      reject: false,
    });
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD));
    const report = (await readFile(join(dir, 'images.env'), 'utf8')).trim().split('\n');
    assert.deepEqual(
      report.map((line) => line.split('=')[0]),
      ['APP_IMAGE', 'WORKER_IMAGE'],
    );
    const pushed = report.map((line) => line.split('=')[1]!);
    assert.deepEqual(await pinnedIn(join(dir, 'k8s.resolved.yaml')), pushed);
  });

  test('the install lines refuse to guess which package is goci when GOCI_PACKAGE is not set', async () => {
    const workflow = parse(await readFile(join(REPO_ROOT, 'examples', 'ci', 'github-actions.yml'), 'utf8'));
    const pipeline = parse(await readFile(join(REPO_ROOT, 'examples', 'ci', 'gitlab-ci.yml'), 'utf8'));
    const github = (workflow.jobs.images.steps as { name: string; run: string }[]).find(
      (step) => step.name === 'Install goci',
    );
    const gitlab = (pipeline.images.before_script as string[]).find((line) => line.startsWith('npm install'));
    const env = await ciEnvironment('unset');
    for (const line of [github?.run, gitlab]) {
      assert.ok(line !== undefined);
      // GitHub gives an unset repository variable as an empty string.
      const result = await execa('bash', ['--noprofile', '--norc', '-c', line], {
        env: { ...env, GOCI_PACKAGE: '' },
        extendEnv: false,
        reject: false,
      });
      assert.equal(result.exitCode, 127);
      // Some builds of bash put "line 1: " before a -c command's error.
      assert.equal(
        result.stderr.replace(/^bash: line 1: /, 'bash: '),
        'bash: GOCI_PACKAGE: set GOCI_PACKAGE to the goci package to install (a tarball from npm pack, ' +
          'or goci@VERSION once goci is on npm)',
      );
      assert.equal(existsSync(join(env.npm_config_prefix!, 'bin', 'goci')), false);
    }
  });
});
