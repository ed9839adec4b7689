import { isDeepStrictEqual } from 'node:util';
import type { Hono } from 'hono';
import {
  emptyState,
  mergeStates,
  OmniError,
  parseHandoffClaimRequest,
  type HandoffClaimResponse,
  type HandoffResponse,
} from '@omnikit/protocol';
import {
  authenticateDevice,
  inTransaction,
  readJson,
  type AppEnv,
  type ServerDeps,
} from '../context.js';
import { num } from '../db/types.js';
import { lockDevice, moveDevice, saveState, toSnapshot } from '../profiles.js';
import { normalizeHandoffCode, randomHandoffCode, sha256 } from '../security.js';
import type { ResolvedSite } from '../sites.js';

export const handoffTtlMs = 10 * 60_000;
/** Expired codes are kept a day so a late claim hears "expired", not "unknown". */
/** Open (unclaimed) codes one device may hold; a QR screen needs one, a retry two. */
const maxOpenCodesPerDevice = 5;
const keepExpiredMs = 24 * 3600_000;

/** Codes are hashed with their site: the same code on two sites is two different secrets. */
const codeHash = (siteId: string, code: string) => sha256(`${siteId}:${code}`);

function claimUrl(site: ResolvedSite, code: string): string {
  const base = site.config.handoff?.url ?? site.config.allowedOrigins[0];
  if (!base) {
    throw new OmniError('forbidden', 'This site has no handoff.url (nor an allowed origin)');
  }
  const url = new URL(base);
  url.searchParams.set('omni_handoff', code);
  return url.toString();
}

export function handoffRoutes(app: Hono<AppEnv>, deps: ServerDeps): void {
  app.post('/v1/handoff', async (c) => {
    const { device, site } = await authenticateDevice(deps, c);
    const code = randomHandoffCode();
    const now = deps.now();
    const expiresAt = now + handoffTtlMs;
    const url = claimUrl(site, code);
    await inTransaction(deps, async (tx) => {
      const { rows } = await tx.query<{ profile_id: string }>(
        'SELECT profile_id FROM devices WHERE id = $1',
        [device.id],
      );
      await tx.query('DELETE FROM handoff_codes WHERE expires_at < $1', [now - keepExpiredMs]);
      // A device keeps its few newest open codes: minting more retires the oldest.
      await tx.query(
        `DELETE FROM handoff_codes WHERE code_hash IN (
           SELECT code_hash FROM handoff_codes WHERE device_id = $1 AND used_at IS NULL
           ORDER BY expires_at DESC OFFSET $2)`,
        [device.id, maxOpenCodesPerDevice - 1],
      );
      await tx.query(
        `INSERT INTO handoff_codes (code_hash, site_id, profile_id, device_id, expires_at)
         VALUES ($1, $2, $3, $4, $5)`,
        [codeHash(device.siteId, code), device.siteId, rows[0]?.profile_id, device.id, expiresAt],
      );
    });
    return c.json({ code, url, expiresAt } satisfies HandoffResponse, 201);
  });

  app.post('/v1/handoff/claim', async (c) => {
    const { device, site } = await authenticateDevice(deps, c);
    // Limited before the code is even looked at: guessing codes costs the guesser time.
    deps.limiters.claimDevice.check(device.id, 'handoff claims from this device');
    deps.limiters.claimIp.check(c.get('ip'), 'handoff claims from this address');
    const { code } = parseHandoffClaimRequest(await readJson(c));
    const hash = codeHash(device.siteId, normalizeHandoffCode(code));
    const siteId = device.siteId;
    const answer = await inTransaction(deps, async (tx, poke): Promise<HandoffClaimResponse> => {
      const { rows } = await tx.query<{
        profile_id: string;
        expires_at: string | number;
        used_at: string | number | null;
      }>(
        'SELECT profile_id, expires_at, used_at FROM handoff_codes WHERE code_hash = $1 AND site_id = $2 FOR UPDATE',
        [hash, siteId],
      );
      const row = rows[0];
      if (!row) throw new OmniError('not_found', 'Unknown handoff code');
      if (row.used_at !== null)
        throw new OmniError('conflict', 'This handoff code was already used');
      const now = deps.now();
      if (num(row.expires_at) < now) throw new OmniError('gone', 'This handoff code has expired');
      await tx.query('UPDATE handoff_codes SET used_at = $2 WHERE code_hash = $1', [hash, now]);
      const {
        profile: mine,
        lastSeq,
        others,
      } = await lockDevice(tx, device.id, siteId, [row.profile_id]);
      const source = row.profile_id === mine.id ? mine : others.get(row.profile_id);
      if (!source) throw new OmniError('gone', 'The profile of this handoff code no longer exists');
      await tx.query(
        `INSERT INTO events (site_id, kind, channel, device_id, profile_id, at)
         VALUES ($1, 'handoff', $2, $3, $4, $5)`,
        [siteId, device.channel, device.id, source.id, now],
      );
      if (source.id === mine.id) return { ...toSnapshot(mine, lastSeq), mode: 'joined' };
      if (source.customerId === null || site.config.handoff?.allowLinking) {
        await moveDevice(tx, device.id, source.id);
        // This device's stream is watching its old profile: wake it so it follows the move.
        poke({ siteId, profileId: mine.id, version: mine.version });
        return { ...toSnapshot(source, lastSeq), mode: 'joined' };
      }
      // An identified customer's profile is never joined by a device they may not own (a shop
      // tablet): only the cart is copied, without their history or preferences.
      const incoming = { ...emptyState(), cart: source.state.cart };
      const { state } = mergeStates(mine.state, incoming, site.mergePolicy);
      let target = mine;
      if (!isDeepStrictEqual(state, mine.state)) {
        const version = await saveState(tx, mine, state);
        target = { ...mine, state, version };
        poke({ siteId, profileId: mine.id, version });
      }
      return { ...toSnapshot(target, lastSeq), mode: 'copied' };
    });
    return c.json(answer);
  });
}
