// The storage seam: what a tab keeps of the browser's shared state (the device credentials, the
// last server snapshot: the base, the drafts: changes stored but not yet given a seq, and the
// outbox of mutations the server has not acknowledged yet), and the helpers both stores share.
// The optimistic view is `rebase(base, outbox + drafts)`. IndexedDB (idb-store.ts) keeps it for
// every tab of the browser; memory (memory.ts) when that fails, or without consent.
import { OmniError, type Mutation, type Snapshot } from '@omnikit/protocol';

/** What the server gave this browser at registration. The token never leaves storage. */
export interface Device {
  deviceId: string;
  token: string;
  profileId: string;
}

/** Everything but the outbox, kept in one record so one read gives a consistent picture. */
export interface Meta {
  /** Last seq handed out for this device; never decreases while the device lives. */
  seq: number;
  device: Device | null;
  base: Snapshot | null;
  /**
   * When the IndexedDB store was last emptied (forget(), in any tab): a page that did not hear
   * of it (in the back/forward cache then) drops the drafts it knew from before, as the tabs
   * that heard it did. They were the forgotten profile's, and the marks that would say which
   * were sent went with the reset.
   */
  reset?: number;
}

/** An outbox entry: a mutation with the id of the draft it was (absent in older entries). */
export type Entry = Mutation & { id?: string };

export interface Loaded extends Meta {
  outbox: Entry[];
  drafts: Draft[];
  /** Each tab's mark (the IndexedDB store's): its drafts up to it are entries already. */
  marks?: ReadonlyMap<string, number>;
}

/**
 * A change before it has a seq. `id` is the id of the tab that made it (`TAB_ID` characters)
 * followed by that tab's counter, so it names the change in every tab and survives sequencing.
 */
export type Draft = Omit<Mutation, 'seq'> & { id: string };

/** The length of a tab id, the prefix of its drafts' ids. */
export const TAB_ID = 10;
/** The tab that made a draft. */
export const tabOf = (d: Draft) => d.id.slice(0, TAB_ID);

/** The storage seam: IndexedDB in browsers, memory when consent or the browser says no. */
export interface Store {
  readonly kind: 'indexeddb' | 'memory';
  /** Reads it all; `withMarks`: each tab's mark too (only a read the tab adopts needs them). */
  load(withMarks?: boolean): Promise<Loaded>;
  /**
   * Stores the drafts in a transaction started (and asked to commit) before this returns, so
   * the write is under way in the caller's task; resolves once it is durable.
   */
  save(drafts: readonly Draft[]): Promise<void>;
  /**
   * Gives the drafts (stored ones, or ones whose tab went away: any tab may) the next seqs in
   * the outbox, except those sequenced already, and deletes them from the drafts; returns the
   * new outbox entries. A tab's drafts must come in its order, with every stored one before.
   */
  sequence(drafts: readonly Draft[]): Promise<Entry[]>;
  /** Sets the base and drops the outbox entries it includes (`seq <= lastSeq`). */
  setBase(base: Snapshot): Promise<void>;
  /** Stores `device` unless one is already there (another tab won); returns the stored one. */
  setDevice(device: Device): Promise<Device>;
  /**
   * Empties the store; with `keep`, only forgets the device: the last snapshot and the outbox
   * stay, for a new device to carry over (the server no longer knows the old one).
   */
  reset(keep?: boolean): Promise<void>;
  close(): void;
  /** Memory only: takes entries another tab sequenced (their drafts are no longer drafts). */
  add?(entries: readonly Entry[]): void;
}

export const empty = (): Meta => ({ seq: 0, device: null, base: null });
/** In the order made (a tab's own in its order), as the outbox will hold them. */
const ordered = (drafts: readonly Draft[]) =>
  [...drafts].sort((a, b) => a.at - b.at || byTab(a, b));
/** By tab, then in the tab's order. */
export const byTab = (a: Draft, b: Draft) => {
  const [x, i] = draftKey(a);
  const [y, j] = draftKey(b);
  return x < y ? -1 : x > y ? 1 : i - j;
};
export const withSeq = (meta: Meta, drafts: readonly Draft[]) =>
  ordered(drafts).map((d) => ({ ...d, seq: ++meta.seq }) as Entry);
/** A draft's tab and its number there (the tab's counter when it made it). */
export const draftKey = (d: { id: string }): [string, number] => [
  d.id.slice(0, TAB_ID),
  +d.id.slice(TAB_ID),
];
/** Whether `d` is at or below its tab's mark in `marks`: sequenced already. */
export const marked = (marks: ReadonlyMap<string, number>, d: { id: string }) => {
  const [tab, n] = draftKey(d);
  return n <= (marks.get(tab) ?? 0);
};
/** Wraps any storage failure into the typed error the client reports. */
export const storageError = (cause: unknown): OmniError =>
  new OmniError('storage', `Local storage is unavailable: ${(cause as Error)?.message ?? cause}`, {
    retryable: false,
    cause,
  });
