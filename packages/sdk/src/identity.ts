// Identity: linking this device to a customer (and undoing what the merge added), leaving,
// handing the cart to another device, and forgetting. Any tab may call these; they push first
// so nothing made before is left behind.
import {
  OmniError,
  parseSnapshot,
  withOptions,
  type HandoffResponse,
  type MergeSummary,
} from '@omnikit/protocol';
import { consented, field, isString, type Core } from './core.js';
import type { OmniClient } from './types.js';

/** The options a line key (`sku?k=v&k2=v2`, see the protocol's `lineKey`) stands for. */
const optionsOf = (key: string): Record<string, string> | undefined => {
  const q = key.indexOf('?');
  return q < 0 ? undefined : Object.fromEntries(new URLSearchParams(key.slice(q + 1)));
};

/** Builds the client's `identity`. */
export function identity(c: Core): OmniClient['identity'] {
  let last: MergeSummary | null = null;
  /**
   * A summary is undone at most once, and one this client made only while the device is still
   * on the profile it was made into: undoing it twice, or after a sign-out or another sign-in,
   * would take lines out of a cart it never added them to. (A summary kept from an earlier page
   * is the caller's to match.)
   */
  const mergedInto = new WeakMap<MergeSummary, string | null>();
  const undone = new WeakSet<MergeSummary>();
  const forgetLast = () => (last = null);

  /** Sends an identity change; the answer is the new base plus one field (`key`), returned. */
  async function change(
    path: string,
    body: unknown,
    key = 'version',
    ok: (v: unknown) => boolean = Number.isInteger,
  ): Promise<unknown> {
    const token = await consented(c);
    const [snap, value] = await c.call(path, {
      body,
      token,
      parse: (b) => [parseSnapshot(b), field(b, key, ok)] as const,
    });
    // Unless the tab moved to another device meanwhile (a sibling, sync.ts): the answer's seqs
    // are the old one's. The change moved the new one too: a pull tells where to, before this
    // returns (a sync that fails, offline, leaves it to the next).
    if (c.device?.token === token) c.setBase(snap, true);
    else {
      c.needPull = true;
      c.kick();
      await c.running?.catch(() => {});
    }
    return value;
  }

  return {
    get deviceId() {
      return c.state.identity.deviceId;
    },
    get profileId() {
      return c.state.identity.profileId;
    },
    get customerId() {
      return c.state.identity.customerId;
    },
    async identify(customerToken) {
      const merge = (await change(
        '/v1/identify',
        { token: customerToken },
        'merge',
        (v) => v === null || typeof v === 'object',
      )) as MergeSummary | null;
      forgetLast();
      if (merge) {
        mergedInto.set(merge, c.state.identity.profileId);
        c.emit('merge', (last = merge));
      }
      return merge;
    },
    async undoMerge(merge = last ?? undefined) {
      if (!merge || undone.has(merge)) return;
      undone.add(merge);
      if (merge === last) last = null;
      const into = mergedInto.get(merge);
      if (into !== undefined && into !== c.state.identity.profileId) {
        throw new OmniError(
          'conflict',
          'This merge was made into another profile than the one this device is on now',
        );
      }
      // Deltas, not absolute quantities: a change made since (here or on another device) stays.
      const done = [
        ...merge.added.map((l) => [l, -l.qty] as const),
        ...merge.changed.map((l) => [l, l.from - l.to] as const),
        ...(merge.removed ?? []).map((l) => [l, l.qty] as const),
      ].map(([{ sku, key }, qty]) =>
        c.mutate('cart.add', withOptions({ sku, qty }, optionsOf(key))),
      );
      if (merge.pickupStoreChanged) done.push(c.mutate('cart.setPickupStore', { storeId: null }));
      await Promise.all(done);
    },
    async logout() {
      forgetLast();
      await change('/v1/logout', {});
    },
    async createHandoff() {
      return c.call('/v1/handoff', {
        body: {},
        token: await consented(c),
        parse: (b) => (
          field(b, 'code', isString),
          field(b, 'url', isString),
          field(b, 'expiresAt', Number.isFinite),
          b as HandoffResponse
        ),
      });
    },
    async claimHandoff(code) {
      forgetLast();
      return (await change(
        '/v1/handoff/claim',
        { code },
        'mode',
        (v) => v === 'joined' || v === 'copied',
      )) as 'joined' | 'copied';
    },
    async forget() {
      forgetLast();
      await c.start();
      if (c.device) await c.call('/v1/profile', { method: 'DELETE', token: c.device.token });
      await c.startOver();
    },
  };
}
