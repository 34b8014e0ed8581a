import { jsonBlob, type JsonBlob } from './descriptor.js';

/** The layer and artifact type of a DSSE envelope, as in-toto attestations travel in registries. */
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The `_type` of the in-toto statements such envelopes carry. */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** DSSE's pre-authentication encoding: what a signature covers (type and body, with their lengths). */
export function preAuthenticationEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/**
 * A DSSE envelope of an in-toto statement, signed by `sign` (base64 over the PAE) when given;
 * without a key the envelope carries no signature, and says so by its empty list.
 */
export function dsseEnvelope(statement: JsonBlob, sign?: (bytes: Buffer) => string): JsonBlob {
  const signatures = sign
    ? [{ keyid: '', sig: sign(preAuthenticationEncoding(IN_TOTO_PAYLOAD_TYPE, statement.bytes)) }]
    : [];
  return jsonBlob({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: statement.bytes.toString('base64'), signatures });
}
