// HS256 customer tokens on WebCrypto (browsers and Node alike), so the mock checks a brand's
// token the way the server does (signature, alg, exp, iat age, iss, aud, sub) without bundling
// a JWT library. Only HS256: a test signs with a shared secret.
import { OmniError, storable } from '@omnikit/protocol';

const enc = new TextEncoder();
const b64 = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
const unb64 = (text: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const json = (value: unknown): string => b64(enc.encode(JSON.stringify(value)));

const hmac = (secret: string, usage: KeyUsage) =>
  crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    usage,
  ]);

export interface TokenKey {
  secret: string;
  issuer: string;
  audience: string;
}

/** Signs a customer token as a brand's backend would (HS256; `iat` now, `exp` in `ttl` s). */
export async function signToken(
  key: TokenKey,
  sub: string,
  ttl = 300,
  now = Date.now(),
): Promise<string> {
  const iat = Math.floor(now / 1000);
  const body = `${json({ alg: 'HS256', typ: 'JWT' })}.${json({ sub, iss: key.issuer, aud: key.audience, iat, exp: iat + ttl })}`;
  const sig = await crypto.subtle.sign('HMAC', await hmac(key.secret, 'sign'), enc.encode(body));
  return `${body}.${b64(new Uint8Array(sig))}`;
}

/** Verifies a customer token like the server (5 s of clock tolerance, at most 1 h old); its `sub`. */
export async function verifyToken(key: TokenKey, token: string, now: number): Promise<string> {
  const no = (why: string): never => {
    throw new OmniError('unauthorized', `Customer token ${why}`);
  };
  const parts = token.split('.');
  let header: { alg?: unknown };
  let claims: Record<string, unknown>;
  let sig: Uint8Array<ArrayBuffer>;
  try {
    header = JSON.parse(new TextDecoder().decode(unb64(parts[0]!)));
    claims = JSON.parse(new TextDecoder().decode(unb64(parts[1]!)));
    sig = unb64(parts[2]!);
    if (parts.length !== 3 || typeof claims !== 'object' || !claims) throw 0;
  } catch {
    return no('is malformed');
  }
  if (header.alg !== 'HS256') no('must be signed with HS256');
  const data = enc.encode(`${parts[0]}.${parts[1]}`);
  if (!(await crypto.subtle.verify('HMAC', await hmac(key.secret, 'verify'), sig, data))) {
    no('signature is invalid');
  }
  const t = now / 1000;
  const { exp, iat, sub, iss, aud } = claims;
  for (const [name, v] of [
    ['exp', exp],
    ['iat', iat],
    ['sub', sub],
  ] as const) {
    if (v === undefined) no(`claim "${name}" is invalid or missing`);
  }
  if (typeof exp !== 'number' || exp <= t - 5) no('has expired');
  if (typeof iat !== 'number' || iat < t - 3605) no('has expired');
  if (iss !== key.issuer) no('issuer does not match this site');
  if (!(Array.isArray(aud) ? aud : [aud]).includes(key.audience)) {
    no('audience does not match this site');
  }
  return typeof sub === 'string' && sub.length > 0 && sub.length <= 256 && storable(sub)
    ? sub
    : no('has no usable sub (1-256 characters, no NUL or unpaired surrogate)');
}
