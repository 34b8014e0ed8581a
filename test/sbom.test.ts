import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { GociError, type GociErrorCode } from '../common/errors.js';
import { inspectBinary } from '../compiler/binary/inspect.js';
import type { BinaryReport, GoBuildInfo, Module } from '../compiler/binary/types.js';
import { canonicalJson } from '../oci/descriptor.js';
import { cyclonedxDocument, uuidV5 } from '../images/sbom/cyclonedx.js';
import type { SbomInput } from '../images/sbom/input.js';
import { golangPurl } from '../images/sbom/purl.js';
import { spdxDocument } from '../images/sbom/spdx.js';
import { found } from '../common/found.js';
import { goEnvironment, moduleWithDependencies } from './support/module-with-dependencies.js';

/*
 * No SPDX or CycloneDX validator is packaged for Debian (bookworm's apt-cache has only SPDX
 * licence-list libraries: node-spdx-*, ruby-spdx-licenses, php-composer-spdx-licenses), so the
 * documents are checked here against the rules of the SPDX 2.3 and CycloneDX 1.5 JSON schemas
 * that matter for what goci writes: required and allowed keys, enumerations, id and date syntax.
 */

const execFile = promisify(execFileCallback);

const BUILDS = {
  amd64: { env: { GOOS: 'linux', GOARCH: 'amd64' }, platform: { os: 'linux', architecture: 'amd64' } },
  armV7: {
    env: { GOOS: 'linux', GOARCH: 'arm', GOARM: '7' },
    platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
  },
} as const;
type BuildName = keyof typeof BUILDS;

let workspace: string;
let app: string;
let goSum: string;
const built = new Map<BuildName, { path: string; report: BinaryReport; sha256: string; oracle: GoVersionM }>();

async function build(name: BuildName): Promise<void> {
  const output = join(workspace, 'bin', name);
  await execFile('go', ['build', '-trimpath', '-o', output, './cmd/app'], {
    cwd: app,
    env: goEnvironment(workspace, BUILDS[name].env),
  });
  const bytes = await readFile(output);
  built.set(name, {
    path: output,
    report: await inspectBinary(output),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    oracle: await goVersionM(output),
  });
}

before(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'goci-test-sbom-'));
  app = await moduleWithDependencies(workspace);
  goSum = await readFile(join(app, 'go.sum'), 'utf8');
  await Promise.all((Object.keys(BUILDS) as BuildName[]).map(build));
});

after(async () => {
  if (workspace !== undefined) await rm(workspace, { recursive: true, force: true });
});

function binary(name: BuildName): { path: string; report: BinaryReport; sha256: string; oracle: GoVersionM } {
  const result = built.get(name);
  assert.ok(result, `${name} was not built`);
  return result;
}

function sbomInput(name: BuildName, overrides: Partial<SbomInput> = {}): SbomInput {
  const { report, sha256 } = binary(name);
  return {
    name: `registry.example/acme/app:1.0`,
    binary: report,
    binarySha256: sha256,
    platform: BUILDS[name].platform,
    epoch: 1714564800,
    gociVersion: '0.1.0',
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// The reference: `go version -m FILE` (Go 1.19 has no -json).
// ---------------------------------------------------------------------------------------------

interface GoVersionM {
  goVersion: string;
  path: string;
  main: Module;
  deps: Module[];
}

async function goVersionM(file: string): Promise<GoVersionM> {
  const { stdout } = await execFile('go', ['version', '-m', file], { env: goEnvironment(workspace) });
  const [first = '', ...lines] = stdout.split('\n');
  const result: GoVersionM = {
    goVersion: first.slice(first.lastIndexOf(': ') + 2).trim(),
    path: '',
    main: { path: '', version: '' },
    deps: [],
  };
  let last: Module | undefined;
  for (const line of lines) {
    const [, kind, ...fields] = line.split('\t');
    const [path = '', version = '', sum = ''] = fields;
    const module: Module = sum === '' ? { path, version } : { path, version, sum };
    if (kind === 'path') result.path = path;
    if (kind === 'mod') last = result.main = module;
    if (kind === 'dep') {
      last = module;
      result.deps.push(module);
    }
    if (kind === '=>') last!.replace = module;
  }
  return result;
}

function isDirectory(path: string): boolean {
  return /^(\.{1,2}([\\/]|$)|[\\/]|[A-Za-z]:[\\/])/.test(path);
}

/** (path, version) of every package, by the rule documented in images/sbom/input.ts. */
function expectedModules(oracle: GoVersionM): string[] {
  const deps = oracle.deps.map((dep) => {
    if (dep.replace === undefined) return `${dep.path} ${dep.version}`;
    return isDirectory(dep.replace.path) ? `${dep.path} (devel)` : `${dep.replace.path} ${dep.replace.version}`;
  });
  return [
    `${oracle.main.path} ${oracle.main.version}`,
    ...deps,
    `stdlib ${oracle.goVersion.replace(/^go/, '')}`,
  ].sort();
}

// ---------------------------------------------------------------------------------------------
// Document shapes, as far as the JSON schemas go for what goci writes.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

const SPDX_DATE =
  /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]|23:59:60)Z$/;
const SPDX_ID = /^SPDXRef-[A-Za-z0-9.-]+$/;
const SPDX_DOCUMENT_KEYS = [
  'SPDXID',
  'annotations',
  'comment',
  'creationInfo',
  'dataLicense',
  'externalDocumentRefs',
  'hasExtractedLicensingInfos',
  'name',
  'spdxVersion',
  'documentNamespace',
  'packages',
  'files',
  'snippets',
  'relationships',
];
const SPDX_PACKAGE_KEYS = [
  'SPDXID',
  'annotations',
  'attributionTexts',
  'builtDate',
  'checksums',
  'comment',
  'copyrightText',
  'description',
  'downloadLocation',
  'externalRefs',
  'filesAnalyzed',
  'homepage',
  'licenseComments',
  'licenseConcluded',
  'licenseDeclared',
  'licenseInfoFromFiles',
  'name',
  'originator',
  'packageFileName',
  'packageVerificationCode',
  'primaryPackagePurpose',
  'releaseDate',
  'sourceInfo',
  'summary',
  'supplier',
  'validUntilDate',
  'versionInfo',
];
const SPDX_CHECKSUM_ALGORITHMS = [
  'SHA1',
  'BLAKE3',
  'SHA3-384',
  'SHA256',
  'SHA384',
  'BLAKE2b-512',
  'BLAKE2b-256',
  'SHA3-512',
  'MD2',
  'ADLER32',
  'MD4',
  'SHA3-256',
  'BLAKE2b-384',
  'SHA512',
  'MD6',
  'MD5',
  'SHA224',
];
const SPDX_PURPOSES = [
  'OTHER',
  'INSTALL',
  'ARCHIVE',
  'FIRMWARE',
  'APPLICATION',
  'FRAMEWORK',
  'LIBRARY',
  'CONTAINER',
  'SOURCE',
  'DEVICE',
  'OPERATING-SYSTEM',
  'FILE',
];

function onlyKeys(object: Json, allowed: string[], where: string): void {
  for (const key of Object.keys(object)) assert.ok(allowed.includes(key), `${where}: ${key} is not allowed`);
}

function hasKeys(object: Json, required: string[], where: string): void {
  for (const key of required) assert.ok(object[key] !== undefined, `${where}: ${key} is required`);
}

function checkSpdx(doc: Json): void {
  onlyKeys(doc, SPDX_DOCUMENT_KEYS, 'document');
  hasKeys(doc, ['SPDXID', 'creationInfo', 'dataLicense', 'name', 'spdxVersion', 'documentNamespace'], 'document');
  assert.equal(doc.spdxVersion, 'SPDX-2.3');
  assert.equal(doc.dataLicense, 'CC0-1.0');
  assert.equal(doc.SPDXID, 'SPDXRef-DOCUMENT');
  assert.ok(
    URL.canParse(doc.documentNamespace) && !doc.documentNamespace.includes('#'),
    `namespace ${doc.documentNamespace}`,
  );
  onlyKeys(doc.creationInfo, ['comment', 'created', 'creators', 'licenseListVersion'], 'creationInfo');
  assert.match(doc.creationInfo.created, SPDX_DATE);
  assert.ok(doc.creationInfo.creators.length >= 1);
  for (const pkg of doc.packages as Json[]) {
    const where = `package ${pkg.SPDXID}`;
    onlyKeys(pkg, SPDX_PACKAGE_KEYS, where);
    hasKeys(pkg, ['SPDXID', 'downloadLocation', 'name'], where);
    assert.match(pkg.SPDXID, SPDX_ID);
    assert.ok(SPDX_PURPOSES.includes(pkg.primaryPackagePurpose), where);
    for (const checksum of pkg.checksums ?? []) {
      assert.ok(SPDX_CHECKSUM_ALGORITHMS.includes(checksum.algorithm), where);
      assert.match(checksum.checksumValue, /^[0-9a-fA-F]+$/);
    }
    for (const ref of pkg.externalRefs ?? []) {
      onlyKeys(ref, ['comment', 'referenceCategory', 'referenceLocator', 'referenceType'], where);
      assert.ok(['OTHER', 'PERSISTENT-ID', 'SECURITY', 'PACKAGE-MANAGER'].includes(ref.referenceCategory), where);
      assert.doesNotMatch(ref.referenceLocator, /\s/, `${where}: locators have no spaces`);
      if (ref.referenceCategory === 'OTHER')
        assert.match(ref.referenceType, /^[A-Za-z0-9.-]+$/, `${where}: OTHER types are idstrings`);
    }
    for (const annotation of pkg.annotations ?? []) {
      onlyKeys(annotation, ['annotationDate', 'annotationType', 'annotator', 'comment'], where);
      hasKeys(annotation, ['annotationDate', 'annotationType', 'annotator', 'comment'], where);
      assert.match(annotation.annotationDate, SPDX_DATE);
      assert.ok(['OTHER', 'REVIEW'].includes(annotation.annotationType));
    }
  }
  for (const relationship of doc.relationships as Json[]) {
    onlyKeys(relationship, ['spdxElementId', 'comment', 'relatedSpdxElement', 'relationshipType'], 'relationship');
    hasKeys(relationship, ['spdxElementId', 'relatedSpdxElement', 'relationshipType'], 'relationship');
  }
}

const CDX_TOP_KEYS = [
  '$schema',
  'bomFormat',
  'specVersion',
  'serialNumber',
  'version',
  'metadata',
  'components',
  'services',
  'externalReferences',
  'dependencies',
  'compositions',
  'vulnerabilities',
  'annotations',
  'properties',
  'signature',
];
const CDX_COMPONENT_TYPES = [
  'application',
  'framework',
  'library',
  'container',
  'platform',
  'operating-system',
  'device',
  'device-driver',
  'firmware',
  'file',
  'machine-learning-model',
  'data',
];
const CDX_COMPONENT_KEYS = [
  'type',
  'mime-type',
  'bom-ref',
  'supplier',
  'author',
  'publisher',
  'group',
  'name',
  'version',
  'description',
  'scope',
  'hashes',
  'licenses',
  'copyright',
  'cpe',
  'purl',
  'swid',
  'modified',
  'pedigree',
  'externalReferences',
  'properties',
  'components',
  'evidence',
  'releaseNotes',
  'modelCard',
  'data',
  'signature',
];
const CDX_HASH_ALGORITHMS = [
  'MD5',
  'SHA-1',
  'SHA-256',
  'SHA-384',
  'SHA-512',
  'SHA3-256',
  'SHA3-384',
  'SHA3-512',
  'BLAKE2b-256',
  'BLAKE2b-384',
  'BLAKE2b-512',
  'BLAKE3',
];

function checkCyclonedxComponent(component: Json, where: string): void {
  onlyKeys(component, CDX_COMPONENT_KEYS, where);
  hasKeys(component, ['type', 'name'], where);
  assert.ok(CDX_COMPONENT_TYPES.includes(component.type), where);
  for (const hash of component.hashes ?? []) {
    onlyKeys(hash, ['alg', 'content'], where);
    assert.ok(CDX_HASH_ALGORITHMS.includes(hash.alg), where);
    assert.match(hash.content, /^([a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128})$/);
  }
  for (const property of component.properties ?? []) {
    onlyKeys(property, ['name', 'value'], where);
    assert.equal(typeof property.name, 'string');
  }
}

function checkCyclonedx(bom: Json): void {
  onlyKeys(bom, CDX_TOP_KEYS, 'bom');
  hasKeys(bom, ['bomFormat', 'specVersion', 'version'], 'bom');
  assert.equal(bom.bomFormat, 'CycloneDX');
  assert.equal(bom.specVersion, '1.5');
  assert.equal(bom.version, 1);
  // RFC 4122 version 5, variant 10xx: stricter than the schema's pattern.
  assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  onlyKeys(
    bom.metadata,
    ['timestamp', 'lifecycles', 'tools', 'authors', 'component', 'manufacture', 'supplier', 'licenses', 'properties'],
    'metadata',
  );
  assert.ok(!Number.isNaN(Date.parse(bom.metadata.timestamp)) && bom.metadata.timestamp.endsWith('Z'));
  onlyKeys(bom.metadata.tools, ['components', 'services'], 'metadata.tools');
  for (const tool of bom.metadata.tools.components) checkCyclonedxComponent(tool, 'tool');
  checkCyclonedxComponent(bom.metadata.component, 'metadata.component');
  for (const component of bom.components as Json[])
    checkCyclonedxComponent(component, `component ${component['bom-ref']}`);
  for (const dependency of bom.dependencies as Json[]) {
    onlyKeys(dependency, ['ref', 'dependsOn'], 'dependency');
    assert.equal(new Set(dependency.dependsOn).size, dependency.dependsOn.length, 'dependsOn items are unique');
  }
  assert.equal(
    new Set(bom.dependencies.map((dependency: Json) => dependency.ref)).size,
    bom.dependencies.length,
    'one dependency entry per ref',
  );
}

function spdxPackages(doc: Json): Json[] {
  return doc.packages as Json[];
}

function purlOf(pkg: Json): string {
  const refs = (pkg.externalRefs as Json[]).filter((ref) => ref.referenceType === 'purl');
  assert.equal(refs.length, 1, `${pkg.SPDXID} has one purl`);
  return refs[0]!.referenceLocator;
}

function cdxAll(bom: Json): Json[] {
  return [bom.metadata.component, ...bom.components];
}

function cdxProperty(component: Json, name: string): string | undefined {
  return (component.properties as Json[] | undefined)?.find((property) => property.name === name)?.value;
}

async function assertGociError(action: () => unknown, code: GociErrorCode, message?: string): Promise<void> {
  await assert.rejects(
    async () => action(),
    (error: unknown) => {
      assert.ok(error instanceof GociError, `expected a GociError, got ${String(error)}`);
      assert.equal(error.code, code, error.message);
      assert.ok(error.hint, 'every GociError here carries a hint');
      assert.ok(!error.message.includes('\n'));
      if (message !== undefined) assert.equal(error.message, message);
      return true;
    },
  );
}

// ---------------------------------------------------------------------------------------------

describe('golang purls', () => {
  test('module paths split into namespace and name, lowercased; versions kept', () => {
    assert.equal(golangPurl('example.com/lib', 'v1.2.3'), 'pkg:golang/example.com/lib@v1.2.3');
    assert.equal(
      golangPurl('github.com/gorilla/context', '234fd47e07d1004f0aed9c'),
      'pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c',
    );
    assert.equal(golangPurl('github.com/Sirupsen/logrus', 'v1.0.0'), 'pkg:golang/github.com/sirupsen/logrus@v1.0.0');
    assert.equal(
      golangPurl('github.com/BurntSushi/toml', 'v1.0.0-RC1'),
      'pkg:golang/github.com/burntsushi/toml@v1.0.0-RC1',
    );
    assert.equal(
      golangPurl('golang.org/x/net', 'v0.0.0-20220722155237-a158d28d115b'),
      'pkg:golang/golang.org/x/net@v0.0.0-20220722155237-a158d28d115b',
    );
    assert.equal(golangPurl('gopkg.in/yaml.v3', 'v3.0.1'), 'pkg:golang/gopkg.in/yaml.v3@v3.0.1');
  });

  test('characters outside the purl set are percent-encoded', () => {
    assert.equal(
      golangPurl('github.com/docker/docker', 'v20.10.7+incompatible'),
      'pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible',
    );
    assert.equal(golangPurl('example.com/a~b_c', 'v1.0.0'), 'pkg:golang/example.com/a~b_c@v1.0.0');
    assert.equal(golangPurl('example.com/ünï code', 'v1'), 'pkg:golang/example.com/%C3%BCn%C3%AF%20code@v1');
  });

  test('no version for (devel) or none; subpaths; no namespace without a slash', () => {
    assert.equal(golangPurl('example.com/app', '(devel)'), 'pkg:golang/example.com/app');
    assert.equal(golangPurl('example.com/app'), 'pkg:golang/example.com/app');
    assert.equal(
      golangPurl('google.golang.org/genproto', undefined, 'googleapis/api/annotations'),
      'pkg:golang/google.golang.org/genproto#googleapis/api/annotations',
    );
    assert.equal(
      golangPurl('github.com/gorilla/context', '234fd47e07d1004f0aed9c', '/./api/'),
      'pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c#api',
    );
    assert.equal(golangPurl('example.com/App', '(devel)', 'cmd/Tool'), 'pkg:golang/example.com/app#cmd/Tool');
    assert.equal(golangPurl('stdlib', '1.19.8'), 'pkg:golang/stdlib@1.19.8');
    assert.throws(() => golangPurl(''));
  });
});

describe('SBOM input', () => {
  const fake = (buildInfo?: GoBuildInfo): BinaryReport => ({
    format: 'elf',
    os: 'linux',
    arch: 'amd64',
    static: true,
    needed: [],
    ...(buildInfo ? { buildInfo } : {}),
  });
  const info: GoBuildInfo = {
    goVersion: 'go1.19.8',
    path: 'example.com/app',
    main: { path: 'example.com/app', version: '(devel)' },
    deps: [],
    settings: [],
  };
  const input = (overrides: Partial<SbomInput> = {}): SbomInput => ({
    name: 'app',
    binary: fake(info),
    binarySha256: 'a'.repeat(64),
    platform: { os: 'linux', architecture: 'amd64' },
    epoch: 0,
    gociVersion: '0.1.0',
    ...overrides,
  });

  test('a binary without build info is BAD_BINARY, in both formats', async () => {
    for (const write of [spdxDocument, cyclonedxDocument]) {
      await assertGociError(
        () => write(input({ binary: fake() })),
        'BAD_BINARY',
        'app has no Go build info, so goci cannot describe its modules',
      );
    }
  });

  test('a platform other than the binary’s is BAD_PLATFORM', async () => {
    await assertGociError(
      () => spdxDocument(input({ platform: { os: 'linux', architecture: 'arm64' } })),
      'BAD_PLATFORM',
    );
    await assertGociError(
      () => cyclonedxDocument(input({ platform: { os: 'windows', architecture: 'amd64' } })),
      'BAD_PLATFORM',
    );
  });

  test('bad digests, epochs, names and versions are BAD_ARGUMENT', async () => {
    for (const bad of [
      { binarySha256: 'abc' },
      { binarySha256: `sha512:${'a'.repeat(64)}` },
      { epoch: 1.5 },
      { epoch: -1 },
      { epoch: 1e15 },
      { name: ' ' },
      { name: 'a\nb' },
      { name: 'lone \uD800' },
      { gociVersion: '' },
    ]) {
      await assertGociError(() => spdxDocument(input(bad)), 'BAD_ARGUMENT');
    }
  });

  test('module paths no purl can name are BAD_BINARY', async () => {
    for (const deps of [
      [{ path: '', version: 'v1.0.0' }],
      [{ path: 'example.com//x', version: 'v1.0.0' }],
      [{ path: 'a.b/c', version: 'v1', replace: { path: '', version: 'v2' } }],
    ]) {
      await assertGociError(() => cyclonedxDocument(input({ binary: fake({ ...info, deps }) })), 'BAD_BINARY');
    }
  });

  test('absolute and Windows directory replacements are directories too', () => {
    const deps: Module[] = [
      { path: 'example.com/abs', version: 'v0.1.0', replace: { path: '/src/abs', version: '(devel)' } },
      { path: 'example.com/win', version: 'v0.2.0', replace: { path: 'C:\\src\\win', version: '(devel)' } },
      { path: 'example.com/up', version: 'v0.3.0', replace: { path: '..\\up', version: '(devel)' } },
    ];
    const bom = cyclonedxDocument(input({ binary: fake({ ...info, deps }) })) as Json;
    assert.deepEqual(
      bom.components
        .slice(0, 3)
        .map((component: Json) => [
          component.name,
          component.version,
          component.purl,
          cdxProperty(component, 'goci:directory'),
        ]),
      [
        ['example.com/abs', '(devel)', 'pkg:golang/example.com/abs', '/src/abs'],
        ['example.com/up', '(devel)', 'pkg:golang/example.com/up', '..\\up'],
        ['example.com/win', '(devel)', 'pkg:golang/example.com/win', 'C:\\src\\win'],
      ],
    );
  });

  test('a sha256: prefix and upper-case hex name the same binary', () => {
    const plain = canonicalJson(spdxDocument(input({ binarySha256: 'ab'.repeat(32) })));
    assert.equal(canonicalJson(spdxDocument(input({ binarySha256: `sha256:${'AB'.repeat(32)}` }))), plain);
  });

  test('modules differing only in case keep distinct SPDXIDs and bom-refs', () => {
    const deps: Module[] = [
      { path: 'github.com/sirupsen/logrus', version: 'v1.8.1', sum: 'h1:lower=' },
      { path: 'github.com/Sirupsen/logrus', version: 'v1.8.1', sum: 'h1:upper=' },
      { path: 'example.com/a/b-c', version: 'v1.0.0' },
      { path: 'example.com/a/b/c', version: 'v1.0.0' },
    ];
    const spdx = spdxDocument(input({ binary: fake({ ...info, deps }) })) as Json;
    const ids = spdxPackages(spdx).map((pkg) => pkg.SPDXID);
    assert.equal(new Set(ids).size, 6);
    const bom = cyclonedxDocument(input({ binary: fake({ ...info, deps }) })) as Json;
    const refs = cdxAll(bom).map((component) => component['bom-ref']);
    assert.equal(new Set(refs).size, 6);
    assert.deepEqual(
      bom.components
        .filter((component: Json) => /logrus/i.test(component.name))
        .map((component: Json) => [component['bom-ref'], component.purl]),
      [
        ['goci:module:github.com/Sirupsen/logrus@v1.8.1', 'pkg:golang/github.com/sirupsen/logrus@v1.8.1'],
        ['goci:module:github.com/sirupsen/logrus@v1.8.1', 'pkg:golang/github.com/sirupsen/logrus@v1.8.1'],
      ],
    );
  });

  test('the toolchain version loses its go prefix; unusual ones are kept whole', () => {
    const stdlibOf = (goVersion: string): Json =>
      (cyclonedxDocument(input({ binary: fake({ ...info, goVersion }) })) as Json).components.at(-1);
    assert.deepEqual(
      [stdlibOf('go1.22.0 X:boringcrypto').version, stdlibOf('go1.22.0 X:boringcrypto').purl],
      ['1.22.0', 'pkg:golang/stdlib@1.22.0'],
    );
    assert.equal(cdxProperty(stdlibOf('go1.22.0 X:boringcrypto'), 'goci:go-version'), 'go1.22.0 X:boringcrypto');
    assert.equal(stdlibOf('go1.21rc2').purl, 'pkg:golang/stdlib@1.21rc2');
    assert.deepEqual(
      [stdlibOf('devel go1.23-abc').version, stdlibOf('devel go1.23-abc').purl],
      ['devel go1.23-abc', 'pkg:golang/stdlib'],
    );
  });

  test('serial numbers are RFC 4122 version 5 UUIDs', () => {
    // Python's uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org').
    assert.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });
});

describe('SBOMs of a real Go 1.19 binary', () => {
  test('go version -m shows the replacements and sums this test relies on', () => {
    const { oracle } = binary('amd64');
    assert.equal(oracle.path, 'example.com/app/cmd/app');
    const byPath = new Map(oracle.deps.map((dep) => [dep.path, dep]));
    assert.match(byPath.get('example.com/Acme/Widget')?.sum ?? '', /^h1:/);
    assert.match(byPath.get('example.com/legacy')?.sum ?? '', /^h1:/);
    assert.deepEqual(byPath.get('example.com/old')?.replace?.path, 'example.com/fork');
    assert.match(byPath.get('example.com/old')?.replace?.sum ?? '', /^h1:/);
    assert.deepEqual(byPath.get('example.com/local')?.replace, { path: './local', version: '(devel)' });
    assert.equal(oracle.deps.length, 4);
  });

  for (const name of Object.keys(BUILDS) as BuildName[]) {
    test(`${name}: both formats list exactly go version -m's modules plus stdlib`, () => {
      const { oracle } = binary(name);
      const spdx = spdxDocument(sbomInput(name)) as Json;
      const bom = cyclonedxDocument(sbomInput(name)) as Json;
      checkSpdx(spdx);
      checkCyclonedx(bom);
      assert.deepEqual(
        spdxPackages(spdx)
          .map((pkg) => `${pkg.name} ${pkg.versionInfo}`)
          .sort(),
        expectedModules(oracle),
      );
      assert.deepEqual(
        cdxAll(bom)
          .map((component) => `${component.name} ${component.version}`)
          .sort(),
        expectedModules(oracle),
      );
    });
  }

  test('purls are exact, in both formats', () => {
    const goRelease = binary('amd64').oracle.goVersion.replace(/^go/, '');
    const expected = [
      'pkg:golang/example.com/app#cmd/app',
      'pkg:golang/example.com/acme/widget@v1.2.3',
      'pkg:golang/example.com/fork@v1.1.0',
      'pkg:golang/example.com/legacy@v2.0.0%2Bincompatible',
      'pkg:golang/example.com/local',
      `pkg:golang/stdlib@${goRelease}`,
    ];
    assert.deepEqual(spdxPackages(spdxDocument(sbomInput('amd64')) as Json).map(purlOf), expected);
    const bom = cyclonedxDocument(sbomInput('amd64')) as Json;
    assert.deepEqual(
      cdxAll(bom).map((component) => component.purl),
      expected,
    );
    assert.deepEqual(
      cdxAll(bom).map((component) => component['bom-ref']),
      expected,
    );
  });

  test('h1 sums are go.sum references and properties, never checksums or hashes', () => {
    const sumOf = (path: string, version: string): string => {
      const line = goSum.split('\n').find((entry) => entry.startsWith(`${path} ${version} `));
      assert.ok(line, `go.sum has ${path} ${version}`);
      return line.split(' ')[2]!;
    };
    const expected = new Map([
      ['example.com/Acme/Widget', sumOf('example.com/Acme/Widget', 'v1.2.3')],
      ['example.com/fork', sumOf('example.com/fork', 'v1.1.0')],
      ['example.com/legacy', sumOf('example.com/legacy', 'v2.0.0+incompatible')],
    ]);
    const spdx = spdxDocument(sbomInput('amd64')) as Json;
    for (const pkg of spdxPackages(spdx)) {
      const sums = (pkg.externalRefs as Json[])
        .filter((ref) => ref.referenceType === 'go.sum')
        .map((ref) => [ref.referenceCategory, ref.referenceLocator]);
      assert.deepEqual(sums, expected.has(pkg.name) ? [['OTHER', expected.get(pkg.name)]] : [], pkg.name);
      for (const checksum of pkg.checksums ?? []) assert.doesNotMatch(checksum.checksumValue, /h1:/);
    }
    const bom = cyclonedxDocument(sbomInput('amd64')) as Json;
    for (const component of cdxAll(bom)) {
      assert.equal(cdxProperty(component, 'goci:go.sum'), expected.get(component.name), component.name);
    }
    assert.deepEqual(
      bom.components.flatMap((component: Json) => component.hashes ?? []),
      [],
    );
  });

  test('the application carries the binary’s SHA-256; replacements name what they replace', () => {
    const { sha256 } = binary('amd64');
    const spdx = spdxDocument(sbomInput('amd64')) as Json;
    const [main] = spdxPackages(spdx);
    assert.equal(main!.primaryPackagePurpose, 'APPLICATION');
    assert.deepEqual(main!.checksums, [{ algorithm: 'SHA256', checksumValue: sha256 }]);
    const fork = found(
      spdxPackages(spdx).find((pkg) => pkg.name === 'example.com/fork'),
      'the example.com/fork package',
    );
    assert.ok(
      fork.annotations.some((annotation: Json) => annotation.comment === 'goci:replaces=example.com/old@v1.0.0'),
    );
    const local = found(
      spdxPackages(spdx).find((pkg) => pkg.name === 'example.com/local'),
      'the example.com/local package',
    );
    assert.deepEqual(
      local.annotations.map((annotation: Json) => annotation.comment),
      ['goci:replaces=example.com/local@v0.0.0', 'goci:directory=./local'],
    );
    const bom = cyclonedxDocument(sbomInput('amd64')) as Json;
    assert.equal(bom.metadata.component.type, 'application');
    assert.deepEqual(bom.metadata.component.hashes, [{ alg: 'SHA-256', content: sha256 }]);
    assert.ok(bom.components.every((component: Json) => component.type === 'library'));
    const cdxFork = bom.components.find((component: Json) => component.name === 'example.com/fork');
    assert.equal(cdxProperty(cdxFork, 'goci:replaces'), 'example.com/old@v1.0.0');
    const cdxLocal = bom.components.find((component: Json) => component.name === 'example.com/local');
    assert.equal(cdxProperty(cdxLocal, 'goci:directory'), './local');
  });

  test('the target platform is recorded, variant included', () => {
    for (const [name, platform] of [
      ['amd64', 'linux/amd64'],
      ['armV7', 'linux/arm/v7'],
    ] as const) {
      const spdx = spdxDocument(sbomInput(name)) as Json;
      const comments = spdxPackages(spdx)[0]!.annotations.map((annotation: Json) => annotation.comment);
      assert.ok(comments.includes(`goci:platform=${platform}`), comments.join(', '));
      const bom = cyclonedxDocument(sbomInput(name)) as Json;
      assert.equal(cdxProperty(bom.metadata, 'goci:platform'), platform);
      assert.equal(cdxProperty(bom.metadata, 'goci:platform:variant'), name === 'armV7' ? 'v7' : undefined);
    }
  });

  test('ids are unique and valid, and every relationship or dependency points at one', () => {
    for (const name of Object.keys(BUILDS) as BuildName[]) {
      const spdx = spdxDocument(sbomInput(name)) as Json;
      const ids = spdxPackages(spdx).map((pkg) => pkg.SPDXID as string);
      assert.equal(new Set(ids).size, ids.length);
      for (const id of ids) assert.match(id, SPDX_ID);
      const known = new Set(['SPDXRef-DOCUMENT', ...ids]);
      for (const relationship of spdx.relationships as Json[]) {
        assert.ok(
          known.has(relationship.spdxElementId) && known.has(relationship.relatedSpdxElement),
          JSON.stringify(relationship),
        );
      }
      assert.deepEqual(
        (spdx.relationships as Json[]).map((relationship) => [
          relationship.spdxElementId,
          relationship.relationshipType,
          relationship.relatedSpdxElement,
        ]),
        [['SPDXRef-DOCUMENT', 'DESCRIBES', ids[0]], ...ids.slice(1).map((id) => [ids[0], 'DEPENDS_ON', id])],
      );

      const bom = cyclonedxDocument(sbomInput(name)) as Json;
      const refs = cdxAll(bom).map((component) => component['bom-ref'] as string);
      assert.equal(new Set(refs).size, refs.length);
      for (const dependency of bom.dependencies as Json[]) {
        for (const ref of [dependency.ref, ...dependency.dependsOn]) assert.ok(refs.includes(ref), ref);
      }
      assert.deepEqual(bom.dependencies[0], { ref: refs[0], dependsOn: refs.slice(1) });
    }
  });

  test('the same input gives the same bytes; dependency order in the input does not matter', async () => {
    const again = { ...sbomInput('amd64'), binary: await inspectBinary(binary('amd64').path) };
    const shuffled = structuredClone(again);
    shuffled.binary.buildInfo!.deps.reverse();
    for (const write of [spdxDocument, cyclonedxDocument]) {
      const first = canonicalJson(write(sbomInput('amd64')));
      assert.equal(canonicalJson(write(sbomInput('amd64'))), first);
      assert.equal(canonicalJson(write(again)), first);
      assert.equal(canonicalJson(write(shuffled)), first);
    }
  });

  test('different binaries, or names, give different namespaces and serial numbers', () => {
    const { sha256 } = binary('amd64');
    const spdxNamespace = (input: SbomInput): string => (spdxDocument(input) as Json).documentNamespace;
    const serial = (input: SbomInput): string => (cyclonedxDocument(input) as Json).serialNumber;
    assert.equal(spdxNamespace(sbomInput('amd64')), `https://goci.dev/spdx/registry.example/acme/app%3A1.0/${sha256}`);
    assert.equal(
      serial(sbomInput('amd64')),
      `urn:uuid:${uuidV5('6ba7b811-9dad-11d1-80b4-00c04fd430c8', `https://goci.dev/cyclonedx/registry.example/acme/app%3A1.0/${sha256}`)}`,
    );
    const inputs = [sbomInput('amd64'), sbomInput('armV7'), sbomInput('amd64', { name: 'app' })];
    assert.equal(new Set(inputs.map(spdxNamespace)).size, 3);
    assert.equal(new Set(inputs.map(serial)).size, 3);
    // Only the subject decides them: not the time or goci's version.
    assert.equal(
      spdxNamespace(sbomInput('amd64', { epoch: 0, gociVersion: '9.9.9' })),
      spdxNamespace(sbomInput('amd64')),
    );
  });

  test('creation time and tool come from the input alone', () => {
    const spdx = spdxDocument(sbomInput('amd64', { epoch: 1714564800, gociVersion: '1.2.3' })) as Json;
    assert.deepEqual(spdx.creationInfo, { created: '2024-05-01T12:00:00Z', creators: ['Tool: goci-1.2.3'] });
    const bom = cyclonedxDocument(sbomInput('amd64', { epoch: 1714564800, gociVersion: '1.2.3' })) as Json;
    assert.equal(bom.metadata.timestamp, '2024-05-01T12:00:00Z');
    assert.deepEqual(bom.metadata.tools, { components: [{ type: 'application', name: 'goci', version: '1.2.3' }] });
  });
});
