import { isDeepStrictEqual } from 'node:util';
import type { Hono } from 'hono';
import { errors as joseErrors, jwtVerify } from 'jose';
import {
  emptyState,
  mergeStates,
  OmniError,
  parseIdentifyRequest,
  type IdentifyResponse,
  type MergeSummary,
  type Snapshot,
} from '@omnikit/protocol';
import {
  authenticateDevice,
  inTransaction,
  readJson,
  type AppEnv,
  type ServerDeps,
  type ServerExtension,
} from '../context.js';
import {
  createProfile,
  customerProfileId,
  lockDevice,
  moveDevice,
  saveState,
  toSnapshot,
  type ProfileRow,
} from '../profiles.js';
import type { ResolvedSite } from '../sites.js';

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
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) {
      throw unauthorized('has no usable sub (1-256 characters)');
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

export function identityRoutes(
  app: Hono<AppEnv>,
  deps: ServerDeps,
  extensions: readonly ServerExtension[] = [],
): void {
  app.post('/v1/identify', async (c) => {
    const { device, site } = await authenticateDevice(deps, c);
    const { token } = parseIdentifyRequest(await readJson(c));
    const customerId = await verifyCustomerToken(site, token);
    const siteId = site.config.id;
    const answer = await inTransaction(deps, async (tx, poke): Promise<IdentifyResponse> => {
      const customerPid = await customerProfileId(tx, siteId, customerId);
      const locked = await lockDevice(tx, device.id, siteId, [customerPid]);
      const { profile, lastSeq } = locked;
      if (profile.id === customerPid) return { ...toSnapshot(profile, lastSeq), merge: null };
      const customer = locked.others.get(customerPid);
      if (!customer) throw new Error('customer profile not locked');
      let target: ProfileRow = customer;
      let merge: MergeSummary | null = null;
      if (profile.customerId === null) {
        // The guest's cart joins the account. Only the device that signed in follows it: other
        // devices on the guest profile (joined through a handoff code, which anyone can show)
        // must never gain access to the account.
        const merged = mergeStates(customer.state, profile.state, site.mergePolicy);
        merge = merged.summary;
        if (!isDeepStrictEqual(merged.state, customer.state)) {
          const version = await saveState(tx, customer, merged.state);
          target = { ...customer, state: merged.state, version };
        }
        await moveDevice(tx, device.id, customer.id);
        const { rows: others } = await tx.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM devices WHERE profile_id = $1 AND site_id = $2',
          [profile.id, siteId],
        );
        if ((others[0]?.n ?? 0) > 0) {
          // The guest profile lives on for its other devices; the history made here follows.
          await tx.query(
            'UPDATE events SET profile_id = $2 WHERE profile_id = $1 AND device_id = $3',
            [profile.id, customer.id, device.id],
          );
        } else {
          await tx.query(
            `UPDATE profiles SET merged_into = $2, state = $3::text::jsonb, updated_at = now()
             WHERE id = $1`,
            [profile.id, customer.id, JSON.stringify(emptyState())],
          );
          // One level of merged_into only, so forgetting the customer finds every guest.
          await tx.query('UPDATE profiles SET merged_into = $2 WHERE merged_into = $1', [
            profile.id,
            customer.id,
          ]);
          await tx.query('UPDATE events SET profile_id = $2 WHERE profile_id = $1', [
            profile.id,
            customer.id,
          ]);
          await tx.query('UPDATE handoff_codes SET profile_id = $2 WHERE profile_id = $1', [
            profile.id,
            customer.id,
          ]);
        }
      } else {
        // Another customer was signed in here: their cart stays with them.
        await moveDevice(tx, device.id, customer.id);
      }
      // The old profile's streams re-read where their device went; the customer's see the merge.
      poke({ siteId, profileId: profile.id, version: profile.version });
      poke({ siteId, profileId: target.id, version: target.version });
      return { ...toSnapshot(target, lastSeq), merge };
    });
    return c.json(answer);
  });

  app.post('/v1/logout', async (c) => {
    const { device } = await authenticateDevice(deps, c);
    const answer = await inTransaction(deps, async (tx, poke): Promise<Snapshot> => {
      const { profile, lastSeq } = await lockDevice(tx, device.id, device.siteId);
      // Codes made while signed in must not hand the customer's cart out after sign-out.
      await tx.query(
        'DELETE FROM handoff_codes WHERE device_id = $1 AND site_id = $2 AND used_at IS NULL',
        [device.id, device.siteId],
      );
      const fresh = await createProfile(tx, device.siteId);
      await moveDevice(tx, device.id, fresh.id);
      poke({ siteId: device.siteId, profileId: profile.id, version: profile.version });
      return toSnapshot(fresh, lastSeq);
    });
    return c.json(answer);
  });

  app.delete('/v1/profile', async (c) => {
    const { device } = await authenticateDevice(deps, c);
    const siteId = device.siteId;
    await inTransaction(deps, async (tx, poke) => {
      const { profile } = await lockDevice(tx, device.id, siteId);
      for (const extension of extensions) {
        await extension.onProfileErased?.(tx, {
          siteId,
          profileId: profile.id,
          customerId: profile.customerId,
        });
      }
      const { rows } = await tx.query<{ id: string }>(
        'SELECT id FROM devices WHERE profile_id = $1 AND site_id = $2 ORDER BY id FOR UPDATE',
        [profile.id, siteId],
      );
      // Every device keeps working, each on its own new, empty, anonymous profile.
      for (const row of rows) {
        const fresh = await createProfile(tx, siteId);
        await moveDevice(tx, row.id, fresh.id);
      }
      await tx.query('DELETE FROM events WHERE profile_id = $1 AND site_id = $2', [
        profile.id,
        siteId,
      ]);
      await tx.query('DELETE FROM handoff_codes WHERE profile_id = $1 AND site_id = $2', [
        profile.id,
        siteId,
      ]);
      await tx.query('DELETE FROM profiles WHERE merged_into = $1 AND site_id = $2', [
        profile.id,
        siteId,
      ]);
      await tx.query('DELETE FROM profiles WHERE id = $1 AND site_id = $2', [profile.id, siteId]);
      poke({ siteId, profileId: profile.id, version: profile.version });
    });
    return c.body(null, 204);
  });
}
