/**
 * An SPDX 2.3 JSON document for a Go binary, built only from its embedded build info.
 * Which modules become packages, and how replacements are reported, is decided in input.ts.
 *
 * - documentNamespace is `https://goci.dev/spdx/<name segments>/<sha256 of the binary>`: the
 *   same binary described under the same name always gets the same namespace, and a
 *   different binary a different one. No UUIDs, no clock.
 * - SPDXIDs are `SPDXRef-go-<kind>-<path>-<version>-<8 hex>`, the readable part reduced to
 *   SPDX's idstring characters and the suffix taken from the SHA-256 of kind, exact path and
 *   version. The suffix keeps ids distinct where the readable part cannot: module paths
 *   `a/b-c` and `a/b/c`, or `github.com/Sirupsen/logrus` next to `github.com/sirupsen/logrus`.
 * - Go's `h1:` hashes are not SPDX checksums: SPDX 2.3 has no such algorithm, and h1 is not a
 *   digest of any file one could download (it hashes a sorted list of the SHA-256s of the
 *   files in the module zip). Calling it SHA256 would make verifiers fail or, worse, trust the
 *   wrong thing. It is an external reference instead: category OTHER, type `go.sum`, locator
 *   the `h1:…` text exactly as go.sum has it.
 * - The application package's SHA256 checksum is the binary's own, since that package is
 *   the binary.
 * - Licenses and copyright are NOASSERTION (build info says nothing about them), download
 *   locations too (build info does not record which proxy or VCS a module came from), and
 *   filesAnalyzed is false.
 * - The target platform (`goci:platform=linux/arm/v7`, OCI spelling, on the application), the
 *   main package path, replacement details and the exact toolchain string are annotations
 *   (type OTHER, comment `goci:<name>=<value>`), dated at the creation time.
 * - Relationships: the document DESCRIBES the application, which DEPENDS_ON every module and
 *   the standard library. Build info does not say which module needs which, so there are no
 *   edges between dependencies.
 */

import { createHash } from 'node:crypto';

import {
  allPackages,
  describeSbomSubject,
  subjectUriPath,
  type SbomInput,
  type SbomPackage,
  type SbomSubject,
} from './input.js';

const NOASSERTION = 'NOASSERTION';
const DOCUMENT_ID = 'SPDXRef-DOCUMENT';

export function spdxDocument(input: SbomInput): object {
  const subject = describeSbomSubject(input);
  const packages = allPackages(subject);
  const ids = packages.map(spdxId);
  if (new Set(ids).size !== ids.length) throw new Error(`spdxDocument: duplicate SPDXIDs in ${ids.join(', ')}`);
  const [mainId, ...dependencyIds] = ids as [string, ...string[]];
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: DOCUMENT_ID,
    name: subject.name,
    documentNamespace: `https://goci.dev/spdx/${subjectUriPath(subject)}`,
    creationInfo: { created: subject.created, creators: [`Tool: ${subject.tool}`] },
    packages: packages.map((pkg, index) => spdxPackage(subject, pkg, ids[index]!)),
    relationships: [
      { spdxElementId: DOCUMENT_ID, relationshipType: 'DESCRIBES', relatedSpdxElement: mainId },
      ...dependencyIds.map((id) => ({ spdxElementId: mainId, relationshipType: 'DEPENDS_ON', relatedSpdxElement: id })),
    ],
  };
}

/** Stable for a given kind, path and version; always matches `^SPDXRef-[A-Za-z0-9.-]+$`. */
export function spdxId(pkg: Pick<SbomPackage, 'kind' | 'path' | 'version'>): string {
  const readable = (pkg.kind === 'stdlib' ? [pkg.version] : [pkg.path, pkg.version])
    .map(idstring)
    .filter((part) => part !== '');
  const suffix = createHash('sha256').update(`${pkg.kind}\0${pkg.path}\0${pkg.version}`).digest('hex').slice(0, 8);
  return ['SPDXRef-go', pkg.kind, ...readable, suffix].join('-');
}

function idstring(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');
}

function spdxPackage(subject: SbomSubject, pkg: SbomPackage, id: string): Record<string, unknown> {
  const annotations = pkg.notes
    .filter((note) => note.name !== 'goci:go.sum')
    .map((note) => `${note.name}=${note.value}`);
  if (pkg.kind === 'main') {
    annotations.push(`goci:platform=${subject.platformText}`);
  }
  const externalRefs: Record<string, string>[] = [
    { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: pkg.purl },
  ];
  if (pkg.sum) {
    externalRefs.push({
      referenceCategory: 'OTHER',
      referenceType: 'go.sum',
      referenceLocator: pkg.sum,
      comment:
        'Go module hash as in go.sum (dirhash h1: base64 SHA-256 over the SHA-256s of the module files); not a digest of a downloadable file.',
    });
  }
  return {
    name: pkg.path,
    SPDXID: id,
    versionInfo: pkg.version,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    primaryPackagePurpose: pkg.kind === 'main' ? 'APPLICATION' : 'LIBRARY',
    ...(pkg.kind === 'main' ? { checksums: [{ algorithm: 'SHA256', checksumValue: subject.binarySha256 }] } : {}),
    externalRefs,
    ...(sourceInfo(pkg) === undefined ? {} : { sourceInfo: sourceInfo(pkg) }),
    ...(annotations.length === 0
      ? {}
      : {
          annotations: annotations.map((comment) => ({
            annotationDate: subject.created,
            annotationType: 'OTHER',
            annotator: `Tool: ${subject.tool}`,
            comment,
          })),
        }),
  };
}

function sourceInfo(pkg: SbomPackage): string | undefined {
  if (pkg.replaces === undefined) return undefined;
  const required = `${pkg.replaces.path} ${pkg.replaces.version}`;
  return pkg.directory === undefined
    ? `Replaces ${required} (a go.mod replace directive).`
    : `Built from the directory ${pkg.directory} in place of ${required} (a go.mod replace directive).`;
}
