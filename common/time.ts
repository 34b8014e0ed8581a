/** Unix seconds as RFC 3339 UTC without fractions: every timestamp goci writes. */
export function rfc3339(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}
