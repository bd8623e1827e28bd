/** Identifiers derived from content, not drawn at random: the same input, the same identifier (reproducible outputs). */
import crypto from 'node:crypto';

/** A UUID (RFC 9562 version 8: custom) made of the SHA-256 of text: the same text, the same UUID. */
export function contentUuid(text: string): string {
  const h = contentHex(text, 32).split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** The first `digits` hex digits (at most 64) of the SHA-256 of text. */
export function contentHex(text: string, digits: number): string {
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, digits);
}
