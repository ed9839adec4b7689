// The pure reducers of the replicated profile state. The server and every device run exactly
// this code, so a device that applies the server's order converges to the server's state.
// Rules: never mutate an input, never read the clock (times come from the mutation's `at`),
// return the same object when nothing changes, throw only OmniError.
import { OmniError } from './errors.js';
import { lineKey } from './key.js';
import { maxLines, maxPrefs, maxQtyPerLine, maxRecentIds, maxViewed } from './limits.js';
import type { CartLine, Mutation, MutationResult, ProfileState } from './types.js';
import { invalid, mutationId, validateMutation } from './validate.js';

/** The state of a brand-new profile. */
export function emptyState(): ProfileState {
  return { cart: { lines: [], pickupStore: null }, viewed: [], prefs: {} };
}

const withLines = (s: ProfileState, lines: CartLine[]): ProfileState => ({
  ...s,
  cart: { ...s.cart, lines },
});

/** Applies one mutation; throws OmniError('invalid_argument') if it is malformed or breaks a limit. */
export function applyMutation(state: ProfileState, mutation: Mutation): ProfileState {
  const m = validateMutation(mutation);
  const at = m.at;
  switch (m.name) {
    case 'cart.add':
    case 'cart.setQuantity':
    case 'cart.remove': {
      const { sku, options } = m.args;
      const key = lineKey(sku, options);
      const lines = state.cart.lines;
      const i = lines.findIndex((l) => l.key === key);
      const cur = lines[i];
      const qty = Math.min(
        m.name === 'cart.remove'
          ? 0
          : m.name === 'cart.add'
            ? (cur?.qty ?? 0) + m.args.qty
            : m.args.qty,
        maxQtyPerLine,
      );
      if (qty <= 0)
        return cur
          ? withLines(
              state,
              lines.filter((_, j) => j !== i),
            )
          : state;
      if (cur) {
        return cur.qty === qty
          ? state
          : withLines(
              state,
              lines.map((l) => (l === cur ? { ...l, qty, updatedAt: at } : l)),
            );
      }
      if (lines.length >= maxLines) {
        invalid('cart.lines', `is full: a cart holds at most ${maxLines} lines`, {
          limit: 'maxLines',
          max: maxLines,
        });
      }
      const line: CartLine = {
        key,
        sku,
        qty,
        ...(options && { options }),
        addedAt: at,
        updatedAt: at,
      };
      return withLines(state, [...lines, line]);
    }
    case 'cart.clear':
      return state.cart.lines.length ? withLines(state, []) : state;
    case 'cart.setPickupStore':
      return state.cart.pickupStore === m.args.storeId
        ? state
        : { ...state, cart: { ...state.cart, pickupStore: m.args.storeId } };
    case 'viewed.add': {
      const { sku } = m.args;
      const viewed = [{ sku, at }, ...state.viewed.filter((v) => v.sku !== sku)];
      return { ...state, viewed: viewed.slice(0, maxViewed) };
    }
    case 'prefs.set': {
      const { key, value } = m.args;
      const { prefs } = state;
      const has = Object.hasOwn(prefs, key);
      if (value === null) {
        if (!has) return state;
        const { [key]: _gone, ...rest } = prefs;
        return { ...state, prefs: rest };
      }
      if (has && prefs[key] === value) return state;
      if (!has && Object.keys(prefs).length >= maxPrefs) {
        invalid('prefs', `is full: a profile holds at most ${maxPrefs} preferences`, {
          limit: 'maxPrefs',
          max: maxPrefs,
        });
      }
      return { ...state, prefs: { ...prefs, [key]: value } };
    }
  }
}

/** Applies mutations in order, skipping the ones that fail, exactly as the server consumes them. */
export function reduce(
  mutations: readonly Mutation[],
  initial: ProfileState = emptyState(),
): ProfileState {
  return rebase(initial, mutations).state;
}

/** Why a mutation was not applied. */
export interface Rejection {
  mutation: Mutation;
  error: OmniError;
}

/**
 * Re-applies a device's still-pending mutations on top of a server snapshot (the optimistic
 * view). Mutations that now fail are left out and returned in `rejected`.
 */
export function rebase(
  serverState: ProfileState,
  pending: readonly Mutation[],
): { state: ProfileState; rejected: Rejection[] } {
  let state = serverState;
  const rejected: Rejection[] = [];
  for (const mutation of pending) {
    try {
      state = applyMutation(state, mutation);
    } catch (error) {
      if (!(error instanceof OmniError)) throw error;
      rejected.push({ mutation, error });
    }
  }
  return { state, rejected };
}

/** The outcome of one push batch. */
export interface BatchResult {
  state: ProfileState;
  lastSeq: number;
  results: MutationResult[];
  /**
   * The profile's recent mutation ids after the batch (at most `maxRecentIds`, oldest first):
   * the `recent` given, the same array, when the batch applied no id.
   */
  recent: readonly string[];
}

/**
 * The server's push rule: skips `seq <= lastSeq` (idempotent retries) and a mutation whose `id`
 * is among the profile's `recent` ones (applied already, under another seq or device), applies
 * the rest in order; an invalid mutation is consumed (`rejected`, lastSeq advances) without
 * stopping the batch. Throws only when a `seq` itself is unusable, before changing anything.
 */
export function applyBatch(
  state: ProfileState,
  lastSeq: number,
  mutations: readonly Mutation[],
  recent: readonly string[] = [],
): BatchResult {
  const seqs = mutations.map((m, i) => {
    const seq: unknown = (m as { seq?: unknown } | null)?.seq;
    return Number.isSafeInteger(seq) && (seq as number) > 0
      ? (seq as number)
      : invalid(`mutations[${i}].seq`, 'must be a positive integer');
  });
  const results: MutationResult[] = [];
  const ids = [...recent];
  let added = false;
  mutations.forEach((m, i) => {
    const seq = seqs[i] as number;
    if (seq <= lastSeq) {
      results.push({ seq, status: 'skipped' });
      return;
    }
    lastSeq = seq;
    try {
      const id = m.id === undefined ? undefined : mutationId(m.id, 'mutation.id');
      if (id !== undefined && ids.includes(id)) {
        results.push({ seq, status: 'skipped' });
        return;
      }
      state = applyMutation(state, m);
      if (id !== undefined) {
        ids.push(id);
        added = true;
      }
      results.push({ seq, status: 'applied' });
    } catch (error) {
      if (!(error instanceof OmniError)) throw error;
      results.push({
        seq,
        status: 'rejected',
        error: { code: error.code, message: error.message },
      });
    }
  });
  return { state, lastSeq, results, recent: added ? recentIds(ids) : recent };
}

/** `ids` without repeats (each at its last place), the latest `maxRecentIds` of them. */
export const recentIds = (ids: readonly string[]) =>
  [...new Set([...ids].reverse())].reverse().slice(-maxRecentIds);
