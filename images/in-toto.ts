import { jsonBlob, type JsonBlob } from '../oci/descriptor.js';
import { IN_TOTO_STATEMENT_V1 } from '../oci/dsse.js';

/** An in-toto v1 statement about one manifest: `predicate` of `predicateType`, subject the manifest by digest. */
export function inTotoStatement(
  name: string,
  manifestDigest: string,
  predicateType: string,
  predicate: unknown,
): JsonBlob {
  return jsonBlob({
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name, digest: { sha256: manifestDigest.replace(/^sha256:/, '') } }],
    predicateType,
    predicate,
  });
}
