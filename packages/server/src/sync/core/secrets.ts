// The sync service's secrets: device tokens, stream tickets and handoff codes. Only their hashes
// are ever stored, so a database leak does not leak usable secrets.
import { createHash, randomBytes, randomInt } from 'node:crypto';

/** A bearer secret: 256 random bits, URL-safe. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Secrets are stored only as this hash; a database leak does not leak usable tokens. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** No 0/O, 1/I/L: handoff codes are read aloud and typed from a screen. */
const codeAlphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const handoffCodeLength = 8;

/** A short one-time code (~40 bits); brute force is stopped by expiry and rate limits. */
export function randomHandoffCode(): string {
  let code = '';
  for (let i = 0; i < handoffCodeLength; i++) code += codeAlphabet[randomInt(codeAlphabet.length)];
  return code;
}

/** Accepts codes as people type them: any case, with spaces or dashes. */
export function normalizeHandoffCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}
