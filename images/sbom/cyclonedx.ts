/**
 * A CycloneDX 1.5 JSON BOM for a Go binary, built only from its embedded build info.
 * Which modules become components, and how replacements are reported, is decided in input.ts.
 *
 * - serialNumber is a real RFC 4122 version 5 UUID: SHA-1 in the URL namespace of
 *   `https://goci.dev/cyclonedx/<name segments>/<sha256 of the binary>`. The same binary
 *   described under the same name always gets the same serial number (CycloneDX would like a
 *   fresh one per run; goci's output must be reproducible), a different binary another one.
 * - metadata.component is the main module (type application) with the binary's SHA-256 as
 *   its hash; components are the dependencies and the standard library (type library).
 * - bom-ref is the purl. Purls lowercase module paths, so two modules differing only in case
 *   (github.com/Sirupsen/logrus and github.com/sirupsen/logrus) would share one; those get
 *   `goci:<kind>:<exact path>@<version>` instead, keeping bom-refs unique as the spec requires.
 * - Go's `h1:` hashes are not one of CycloneDX's hash algorithms (and not a digest of any
 *   file), so they are the property `goci:go.sum`, never a hash.
 * - The target platform is metadata properties `goci:platform` (`linux/arm/v7`) and its parts.
 * - dependencies: the application depends on every component; the standard library depends on
 *   nothing. Build info does not say what each module needs, so modules have no entry of
 *   their own (in CycloneDX an empty dependsOn would claim they need nothing).
 */

import { createHash } from 'node:crypto';

import {
  describeSbomSubject,
  subjectUriPath,
  type SbomInput,
  type SbomNote,
  type SbomPackage,
  type SbomSubject,
} from './input.js';

/** RFC 4122 appendix C: the name space for URLs. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

export function cyclonedxDocument(input: SbomInput): object {
  const subject = describeSbomSubject(input);
  const libraries = [...subject.modules, subject.stdlib];
  const refs = bomRefs([subject.main, ...libraries]);
  const ref = (pkg: SbomPackage): string => refs.get(pkg)!;
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${uuidV5(URL_NAMESPACE, `https://goci.dev/cyclonedx/${subjectUriPath(subject)}`)}`,
    version: 1,
    metadata: {
      timestamp: subject.created,
      tools: { components: [{ type: 'application', name: 'goci', version: subject.gociVersion }] },
      component: {
        ...component(subject.main, 'application', ref(subject.main)),
        hashes: [{ alg: 'SHA-256', content: subject.binarySha256 }],
      },
      properties: platformProperties(subject),
    },
    components: libraries.map((pkg) => component(pkg, 'library', ref(pkg))),
    dependencies: [
      { ref: ref(subject.main), dependsOn: libraries.map(ref) },
      { ref: ref(subject.stdlib), dependsOn: [] },
    ],
  };
}

/** An RFC 4122 version 5 (SHA-1, name-based) UUID, lowercase. */
export function uuidV5(namespace: string, name: string): string {
  const namespaceBytes = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  if (namespaceBytes.length !== 16) throw new Error(`uuidV5: ${namespace} is not a UUID`);
  const bytes = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function bomRefs(packages: SbomPackage[]): Map<SbomPackage, string> {
  const purlCounts = new Map<string, number>();
  for (const pkg of packages) purlCounts.set(pkg.purl, (purlCounts.get(pkg.purl) ?? 0) + 1);
  const refs = new Map<SbomPackage, string>();
  for (const pkg of packages)
    refs.set(pkg, purlCounts.get(pkg.purl) === 1 ? pkg.purl : `goci:${pkg.kind}:${pkg.path}@${pkg.version}`);
  if (new Set(refs.values()).size !== packages.length)
    throw new Error(`cyclonedxDocument: duplicate bom-refs in ${[...refs.values()].join(', ')}`);
  return refs;
}

function component(pkg: SbomPackage, type: 'application' | 'library', bomRef: string): Record<string, unknown> {
  return {
    type,
    'bom-ref': bomRef,
    name: pkg.path,
    version: pkg.version,
    purl: pkg.purl,
    ...(pkg.notes.length === 0 ? {} : { properties: pkg.notes.map(property) }),
  };
}

function platformProperties(subject: SbomSubject): { name: string; value: string }[] {
  const notes: SbomNote[] = [
    { name: 'goci:platform', value: subject.platformText },
    { name: 'goci:platform:os', value: subject.platform.os },
    { name: 'goci:platform:architecture', value: subject.platform.architecture },
  ];
  if (subject.platform.variant) notes.push({ name: 'goci:platform:variant', value: subject.platform.variant });
  return notes.map(property);
}

function property(note: SbomNote): { name: string; value: string } {
  return { name: note.name, value: note.value };
}
