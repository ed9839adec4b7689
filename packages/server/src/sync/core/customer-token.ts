// Verification of the brand's customer tokens (the JWTs `POST /v1/identify` takes).
import { errors as joseErrors, jwtVerify } from 'jose';
import { OmniError, storable } from '@omnikit/protocol';
import type { ResolvedSite } from '../../config/sites.js';

const unauthorized = (why: string) => new OmniError('unauthorized', `Customer token ${why}`);

/** Verifies the brand's customer JWT (signature, alg, exp, iss, aud) and returns its `sub`. */
export async function verifyCustomerToken(site: ResolvedSite, token: string): Promise<string> {
  const key = site.config.customerToken;
  if (!key || !site.verifyKey) {
    throw new OmniError('forbidden', 'This site has no customer-token key configured');
  }
  try {
    const { payload } = await jwtVerify(token, site.verifyKey, {
      algorithms: [key.alg],
      ...(site.config.issuer ? { issuer: site.config.issuer } : {}),
      ...(site.config.audience ? { audience: site.config.audience } : {}),
      requiredClaims: ['exp', 'sub', 'iat'],
      // Customer tokens are meant to be minted per sign-in: refuse long-lived ones.
      maxTokenAge: customerTokenMaxAge,
      clockTolerance: 5,
    });
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256 || !storable(sub)) {
      throw unauthorized('has no usable sub (1-256 characters, no NUL or unpaired surrogate)');
    }
    return sub;
  } catch (err) {
    if (err instanceof OmniError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw unauthorized('has expired');
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      if (err.claim === 'aud') throw unauthorized('audience does not match this site');
      if (err.claim === 'iss') throw unauthorized('issuer does not match this site');
      throw unauthorized(`claim "${err.claim}" is invalid or missing`);
    }
    if (err instanceof joseErrors.JOSEAlgNotAllowed) {
      throw unauthorized(`must be signed with ${key.alg}`);
    }
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw unauthorized('signature is invalid');
    }
    throw unauthorized('is malformed');
  }
}

/** The oldest customer token (by `iat`) that identify accepts. */
const customerTokenMaxAge = '1h';
