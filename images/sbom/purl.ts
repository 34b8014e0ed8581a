/**
 * Package URLs for Go modules, following the purl specification's `golang` type
 * (github.com/package-url/purl-spec): the module path is split at its last '/', the part
 * before is the namespace and the rest the name, and both are lowercased because the type
 * declares them case-insensitive. Versions and subpaths keep their case.
 *
 * Percent-encoding follows the spec's rules for building a purl: every UTF-8 byte outside
 * the alphanumerics, the punctuation `.-_~` and the colon is written as `%XX`, so the
 * `+incompatible` of a Go version becomes `%2Bincompatible`.
 */

/** What Go records instead of a version when it has none (the main module, directory replacements). */
export const GO_NO_VERSION = '(devel)';

/**
 * `pkg:golang/<namespace>/<name>[@<version>][#<subpath>]` for a Go module path.
 *
 * The version is left out when it is empty or Go's `(devel)`, which is Go's word for
 * "no version", not a version anyone could look up. Paths without a '/' (the standard
 * library's `stdlib`, or a main module named `hello`) have no namespace; the spec wants one
 * for golang, but inventing one would be worse than leaving it out.
 */
export function golangPurl(modulePath: string, version?: string, subpath?: string): string {
  const segments = modulePath
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((segment) => percentEncode(segment.toLowerCase()));
  if (segments.length === 0 || segments.some((segment) => segment === '')) {
    throw new Error(`golangPurl: ${JSON.stringify(modulePath)} is not a module path`);
  }
  let purl = `pkg:golang/${segments.join('/')}`;
  if (version !== undefined && version !== '' && version !== GO_NO_VERSION) purl += `@${percentEncode(version)}`;
  const subpathSegments = (subpath ?? '')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
  if (subpathSegments.length > 0) purl += `#${subpathSegments.map(percentEncode).join('/')}`;
  return purl;
}

const UNENCODED = /^[A-Za-z0-9.\-_~:]$/;

function percentEncode(text: string): string {
  let encoded = '';
  for (const character of text) {
    if (UNENCODED.test(character)) {
      encoded += character;
    } else {
      for (const byte of Buffer.from(character, 'utf8'))
        encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return encoded;
}
