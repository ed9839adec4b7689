// Hand-rolled runtime validation: a few tiny combinators instead of a schema library, because
// this file ships in the browser SDK, whose every byte counts (test/size-budgets.json).
import { OmniError } from './errors.js';
import {
  maxBatch,
  maxLines,
  maxMutationIdLength,
  mutationIdPattern,
  maxOptionKeyLength,
  maxOptionValueLength,
  maxOptions,
  maxPrefValueLength,
  maxPrefs,
  maxQtyPerLine,
  maxSkuLength,
  maxStoreIdLength,
  maxViewed,
  prefKeyPattern,
  skuPattern,
  storeIdPattern,
} from './limits.js';
import type {
  CartLine,
  HandoffClaimRequest,
  HandoffClaimResponse,
  HandoffResponse,
  IdentifyRequest,
  IdentifyResponse,
  MergeSummary,
  Mutation,
  MutationResult,
  Poke,
  ProfileState,
  PushRequest,
  PushResponse,
  RegisterDeviceRequest,
  RegisterDeviceResponse,
  SiblingDeviceRequest,
  Snapshot,
  ViewedItem,
} from './types.js';
import { lineKey } from './key.js';

type Obj = Record<string, unknown>;

/** Throws the `invalid_argument` error that names the offending field path. */
export function invalid(path: string, problem: string, details: Obj = {}): never {
  throw new OmniError('invalid_argument', `${path} ${problem}`, { details: { path, ...details } });
}

function obj(v: unknown, path: string): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Obj)
    : invalid(path, 'must be an object');
}

function arr(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) invalid(path, 'must be an array');
  return v.length <= max ? v : invalid(path, `must have at most ${max} items`, { max });
}

/**
 * Whether a database stores `s` as it is: PostgreSQL refuses a NUL in text and jsonb, and an
 * unpaired surrogate in jsonb (text gets U+FFFD instead: not what was sent either). A write
 * with one failed with a 500, and a client retried it for ever.
 */
export const storable = (s: string) => !/\0|[\uD800-\uDFFF]/u.test(s);

/** A string of `min`-`max` characters matching `re` (named in the error, for developers). */
function str(v: unknown, path: string, max = 1024, re?: RegExp, min = 1): string {
  if (typeof v !== 'string') return invalid(path, 'must be a string');
  if (!storable(v)) invalid(path, 'must not contain NUL or an unpaired surrogate');
  if (v.length < min || v.length > max) {
    invalid(path, `must be ${min}-${max} characters long`, { max });
  }
  return !re || re.test(v) ? v : invalid(path, `must match ${re}`);
}

// 2 ** 53 - 1 is Number.MAX_SAFE_INTEGER, in fewer bytes once minified.
function int(v: unknown, path: string, min: number, max = 2 ** 53 - 1): number {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max
    ? (v as number)
    : invalid(path, `must be an integer from ${min} to ${max}`, { min, max });
}

/** A time in ms since the epoch: finite, not negative, within the range of Date. */
function time(v: unknown, path: string): number {
  return typeof v === 'number' && v >= 0 && v <= 8.64e15
    ? v
    : invalid(path, 'must be a finite time in ms since the epoch');
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  return values.includes(v as T) ? (v as T) : invalid(path, `must be one of ${values.join(', ')}`);
}

const bool = (v: unknown, path: string): boolean =>
  typeof v === 'boolean' ? v : invalid(path, 'must be true or false');

const nullable = <T>(v: unknown, path: string, f: (v: unknown, path: string) => T): T | null =>
  v === null ? null : f(v, path);

const id = (v: unknown, path: string) => str(v, path, 256);
const sku = (v: unknown, path: string) => str(v, path, maxSkuLength, skuPattern);
const prefKey = (v: unknown, path: string) => str(v, path, 32, prefKeyPattern);
const storeId = (v: unknown, path: string) => str(v, path, maxStoreIdLength, storeIdPattern);
const prefValue = (v: unknown, path: string) => str(v, path, maxPrefValueLength, undefined, 0);
const seq = (v: unknown, path: string) => int(v, path, 1);
const count = (v: unknown, path: string) => int(v, path, 0);
const qty = (v: unknown, path: string) => int(v, path, 1, maxQtyPerLine);

/** A mutation's id (see `Mutation`). */
export const mutationId = (v: unknown, path: string) =>
  str(v, path, maxMutationIdLength, mutationIdPattern);

/** Options sorted by key (the canonical form), or undefined when there are none. */
function options(v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  const keys = Object.keys(obj(v, path)).sort();
  if (keys.length > maxOptions) {
    invalid(path, `must have at most ${maxOptions} options`, { max: maxOptions });
  }
  // Object.fromEntries defines own properties, so even a `__proto__` key stays plain data.
  return keys.length
    ? Object.fromEntries(
        keys.map((k) => [
          str(k, `${path} key`, maxOptionKeyLength),
          str((v as Obj)[k], `${path}.${k}`, maxOptionValueLength),
        ]),
      )
    : undefined;
}

/** `base` plus `options` when there are any (an absent `options` means none, on the wire too). */
export const withOptions = <T extends object>(base: T, o: Record<string, string> | undefined) =>
  o ? { ...base, options: o } : base;

/** Checks an untrusted value is a well-formed mutation and returns a clean copy of it. */
export function validateMutation(input: unknown, path = 'mutation'): Mutation {
  const m = obj(input, path);
  const head = { seq: seq(m.seq, `${path}.seq`), at: time(m.at, `${path}.at`) };
  const p = `${path}.args`;
  const a = obj(m.args, p);
  switch (m.name) {
    case 'cart.add': {
      const q = int(a.qty, `${p}.qty`, -maxQtyPerLine, maxQtyPerLine);
      if (q === 0) invalid(`${p}.qty`, 'must not be 0');
      const args = withOptions(
        { sku: sku(a.sku, `${p}.sku`), qty: q },
        options(a.options, `${p}.options`),
      );
      return { ...head, name: m.name, args };
    }
    case 'cart.setQuantity': {
      const args = withOptions(
        { sku: sku(a.sku, `${p}.sku`), qty: int(a.qty, `${p}.qty`, 0, maxQtyPerLine) },
        options(a.options, `${p}.options`),
      );
      return { ...head, name: m.name, args };
    }
    case 'cart.remove': {
      const args = withOptions({ sku: sku(a.sku, `${p}.sku`) }, options(a.options, `${p}.options`));
      return { ...head, name: m.name, args };
    }
    case 'cart.clear':
      return { ...head, name: m.name, args: {} };
    case 'cart.setPickupStore':
      return {
        ...head,
        name: m.name,
        args: { storeId: nullable(a.storeId, `${p}.storeId`, storeId) },
      };
    case 'viewed.add':
      return { ...head, name: m.name, args: { sku: sku(a.sku, `${p}.sku`) } };
    case 'prefs.set':
      return {
        ...head,
        name: m.name,
        args: {
          key: prefKey(a.key, `${p}.key`),
          value: nullable(a.value, `${p}.value`, prefValue),
        },
      };
    default:
      return invalid(`${path}.name`, `is not a known mutation: ${JSON.stringify(m.name)}`);
  }
}

function cartLine(v: unknown, path: string): CartLine {
  const l = obj(v, path);
  const s = sku(l.sku, `${path}.sku`);
  const o = options(l.options, `${path}.options`);
  const key = str(l.key, `${path}.key`);
  if (key !== lineKey(s, o)) invalid(`${path}.key`, 'does not match sku and options');
  const line = { key, sku: s, qty: qty(l.qty, `${path}.qty`) };
  return {
    ...withOptions(line, o),
    addedAt: time(l.addedAt, `${path}.addedAt`),
    updatedAt: time(l.updatedAt, `${path}.updatedAt`),
  };
}

function viewedItem(v: unknown, path: string): ViewedItem {
  const i = obj(v, path);
  return { sku: sku(i.sku, `${path}.sku`), at: time(i.at, `${path}.at`) };
}

/** Validates a replicated profile state (limits included) and returns a clean copy. */
export function parseProfileState(input: unknown, path = 'state'): ProfileState {
  const s = obj(input, path);
  const cart = obj(s.cart, `${path}.cart`);
  const lines = arr(cart.lines, `${path}.cart.lines`, maxLines).map((l, i) =>
    cartLine(l, `${path}.cart.lines[${i}]`),
  );
  const p = obj(s.prefs, `${path}.prefs`);
  const keys = Object.keys(p);
  if (keys.length > maxPrefs) invalid(`${path}.prefs`, `must have at most ${maxPrefs} keys`);
  return {
    cart: {
      lines,
      pickupStore: nullable(cart.pickupStore, `${path}.cart.pickupStore`, storeId),
    },
    viewed: arr(s.viewed, `${path}.viewed`, maxViewed).map((v, i) =>
      viewedItem(v, `${path}.viewed[${i}]`),
    ),
    prefs: Object.fromEntries(
      keys.map((k) => [prefKey(k, `${path}.prefs key`), prefValue(p[k], `${path}.prefs.${k}`)]),
    ),
  };
}

/** Validates a `POST /v1/devices` body; an absent body means `{}`. */
export function parseRegisterDeviceRequest(input: unknown): RegisterDeviceRequest {
  const b = obj(input ?? {}, 'body');
  return {
    ...(b.channel !== undefined && {
      channel: oneOf(b.channel, 'body.channel', ['web', 'app', 'store'] as const),
    }),
    ...(b.state !== undefined && { state: parseProfileState(b.state, 'body.state') }),
  };
}

/** Validates a `POST /v1/devices` answer. */
export function parseRegisterDeviceResponse(input: unknown): RegisterDeviceResponse {
  const b = obj(input, 'body');
  return {
    deviceId: id(b.deviceId, 'body.deviceId'),
    token: str(b.token, 'body.token', 4096),
    profileId: id(b.profileId, 'body.profileId'),
  };
}

/** Validates a `POST /v1/devices/sibling` body (answered like `POST /v1/devices`); none is `{}`. */
export function parseSiblingDeviceRequest(input: unknown): SiblingDeviceRequest {
  obj(input === undefined ? {} : input, 'body');
  return {};
}

/**
 * Validates a push envelope: the device id, the batch size and every `seq`. The mutations
 * themselves are checked one by one by `applyBatch`, so that a bad one is rejected alone.
 */
export function parsePushRequest(input: unknown): PushRequest {
  const b = obj(input, 'body');
  const mutations = arr(b.mutations, 'body.mutations', maxBatch).map((m, i) => {
    seq(obj(m, `body.mutations[${i}]`).seq, `body.mutations[${i}].seq`);
    return m as Mutation;
  });
  return { deviceId: id(b.deviceId, 'body.deviceId'), mutations };
}

function mutationResult(v: unknown, path: string): MutationResult {
  const r = obj(v, path);
  const s = seq(r.seq, `${path}.seq`);
  const status = oneOf(r.status, `${path}.status`, ['applied', 'skipped', 'rejected'] as const);
  if (status !== 'rejected') return { seq: s, status };
  const e = obj(r.error, `${path}.error`);
  return {
    seq: s,
    status,
    error: {
      code: str(e.code, `${path}.error.code`, 64),
      message: str(e.message, `${path}.error.message`, 4096, undefined, 0),
    },
  };
}

/** Validates a `POST /v1/sync/push` answer. */
export function parsePushResponse(input: unknown): PushResponse {
  const b = obj(input, 'body');
  return {
    version: count(b.version, 'body.version'),
    lastSeq: count(b.lastSeq, 'body.lastSeq'),
    results: arr(b.results, 'body.results', maxBatch).map((r, i) =>
      mutationResult(r, `body.results[${i}]`),
    ),
  };
}

function snapshot(input: unknown, path: string): Snapshot {
  const b = obj(input, path);
  return {
    profileId: id(b.profileId, `${path}.profileId`),
    customerId: nullable(b.customerId, `${path}.customerId`, id),
    version: count(b.version, `${path}.version`),
    lastSeq: count(b.lastSeq, `${path}.lastSeq`),
    state: parseProfileState(b.state, `${path}.state`),
  };
}

/** Validates a `GET /v1/sync/pull` answer. */
export function parseSnapshot(input: unknown): Snapshot {
  return snapshot(input, 'body');
}

/** Validates the data of a `poke` server-sent event. */
export function parsePoke(input: unknown): Poke {
  const b = obj(input, 'poke');
  const version = count(b.version, 'poke.version');
  return b.snapshot === undefined
    ? { version }
    : { version, snapshot: snapshot(b.snapshot, 'poke.snapshot') };
}

/** Validates a `POST /v1/identify` body. */
export function parseIdentifyRequest(input: unknown): IdentifyRequest {
  return { token: str(obj(input, 'body').token, 'body.token', 8192) };
}

const line = (v: unknown, path: string) => {
  const l = obj(v, path);
  return { key: str(l.key, `${path}.key`), sku: sku(l.sku, `${path}.sku`) };
};

/** Validates a merge summary (the `merge` of an identify answer). */
export function parseMergeSummary(input: unknown, path = 'merge'): MergeSummary {
  const b = obj(input, path);
  const list = <T>(k: string, f: (v: Obj, p: string) => T) =>
    arr(b[k], `${path}.${k}`, 2 * maxLines).map((v, i) => {
      const p = `${path}.${k}[${i}]`;
      return { ...line(v, p), ...f(v as Obj, p) };
    });
  const withQty = (v: Obj, p: string) => ({ qty: qty(v.qty, `${p}.qty`) });
  const summary: MergeSummary = {
    policy: oneOf(b.policy, `${path}.policy`, [
      'sum',
      'max',
      'prefer-account',
      'prefer-guest',
    ] as const),
    added: list('added', withQty),
    changed: list('changed', (v, p) => ({
      from: qty(v.from, `${p}.from`),
      to: qty(v.to, `${p}.to`),
    })),
    dropped: list('dropped', (v, p) => ({
      ...withQty(v, p),
      reason: oneOf(v.reason, `${p}.reason`, ['policy', 'limit'] as const),
    })),
    pickupStoreChanged: bool(b.pickupStoreChanged, `${path}.pickupStoreChanged`),
    viewedAdded: int(b.viewedAdded, `${path}.viewedAdded`, 0, maxViewed),
  };
  if (b.removed !== undefined) summary.removed = list('removed', withQty);
  return summary;
}

/** Validates a `POST /v1/identify` answer. */
export function parseIdentifyResponse(input: unknown): IdentifyResponse {
  const b = obj(input, 'body');
  return {
    ...snapshot(b, 'body'),
    merge: nullable(b.merge, 'body.merge', parseMergeSummary),
  };
}

/** Validates a `POST /v1/handoff` answer. */
export function parseHandoffResponse(input: unknown): HandoffResponse {
  const b = obj(input, 'body');
  return {
    code: id(b.code, 'body.code'),
    url: str(b.url, 'body.url', 2048),
    expiresAt: time(b.expiresAt, 'body.expiresAt'),
  };
}

/** Validates a `POST /v1/handoff/claim` body. */
export function parseHandoffClaimRequest(input: unknown): HandoffClaimRequest {
  return { code: id(obj(input, 'body').code, 'body.code') };
}

/** Validates a `POST /v1/handoff/claim` answer. */
export function parseHandoffClaimResponse(input: unknown): HandoffClaimResponse {
  const b = obj(input, 'body');
  return {
    ...snapshot(b, 'body'),
    mode: oneOf(b.mode, 'body.mode', ['joined', 'copied'] as const),
  };
}
