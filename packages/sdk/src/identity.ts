// Identity: linking this device to a customer (and undoing what the merge added), leaving,
// handing the cart to another device, and forgetting. Any tab may call these; they push first
// so nothing made before is left behind.
import {
  OmniError,
  parseSnapshot,
  type HandoffResponse,
  type MergeSummary,
  type MutationArgs,
  type MutationName,
} from '@omnikit/protocol';
import { field, isString, type Core } from './core.js';
import type { OmniClient } from './types.js';

/** The options a line key (`sku?k=v&k2=v2`, see the protocol's `lineKey`) stands for. */
const optionsOf = (key: string): Record<string, string> | undefined => {
  const q = key.indexOf('?');
  return q < 0 ? undefined : Object.fromEntries(new URLSearchParams(key.slice(q + 1)));
};

/** Builds the client's `identity`. */
export function identity(c: Core): OmniClient['identity'] {
  let last: MergeSummary | null = null;

  /** Identity calls talk to the server: never without consent. */
  async function consented() {
    await c.start();
    if (c.consent !== 'granted') throw new OmniError('forbidden', 'consent is not granted');
    await c.push();
    return c.token();
  }

  /** Sends an identity change; the answer is the new base plus one field (`key`), returned. */
  async function change(
    path: string,
    body: unknown,
    key = 'version',
    ok: (v: unknown) => boolean = Number.isInteger,
  ): Promise<unknown> {
    const token = await consented();
    const [snap, value] = await c.call(path, {
      body,
      token,
      parse: (b) => [parseSnapshot(b), field(b, key, ok)] as const,
    });
    c.setBase(snap, true);
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
      if (merge) c.emit('merge', (last = merge));
      return merge;
    },
    undoMerge(merge = last ?? undefined) {
      if (!merge) return Promise.resolve();
      if (merge === last) last = null;
      // Deltas, not absolute quantities: a change made since (here or on another device) stays.
      const changes: [MutationName, MutationArgs[MutationName]][] = [
        ...merge.added.map((l) => [l.sku, l.key, -l.qty] as const),
        ...merge.changed.map((l) => [l.sku, l.key, l.from - l.to] as const),
        ...(merge.removed ?? []).map((l) => [l.sku, l.key, l.qty] as const),
      ].map(([sku, key, qty]) => {
        const options = optionsOf(key);
        return ['cart.add', options ? { sku, qty, options } : { sku, qty }];
      });
      if (merge.pickupStoreChanged) changes.push(['cart.setPickupStore', { storeId: null }]);
      return Promise.all(changes.map(([name, args]) => c.mutate(name, args))).then(() => {});
    },
    async logout() {
      await change('/v1/logout', {});
    },
    async createHandoff() {
      return c.call('/v1/handoff', {
        body: {},
        token: await consented(),
        parse: (b) => (
          field(b, 'code', isString),
          field(b, 'url', isString),
          field(b, 'expiresAt', Number.isFinite),
          b as HandoffResponse
        ),
      });
    },
    async claimHandoff(code) {
      return (await change(
        '/v1/handoff/claim',
        { code },
        'mode',
        (v) => v === 'joined' || v === 'copied',
      )) as 'joined' | 'copied';
    },
    async forget() {
      await c.start();
      if (c.device) await c.call('/v1/profile', { method: 'DELETE', token: c.device.token });
      await c.startOver();
    },
  };
}
