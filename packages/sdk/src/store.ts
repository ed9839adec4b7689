// Durable local state of one browser (all its tabs): the device credentials, the last server
// snapshot (the base), the drafts (changes stored but not yet given a seq) and the outbox of
// mutations the server has not acknowledged yet. The optimistic view is
// `rebase(base, outbox + drafts)`.
//
// A change is stored in two steps so that the first can happen in the call's own task: `save`
// writes it as a draft under a key no other tab can use (its tab's id and a counter), in a
// transaction started and committed at once, without reading anything first (a read would put
// the write behind a round trip, which a closing page does not wait for). `sequence` then gives
// the drafts their seqs and moves them to the outbox in one read-modify-write transaction, so a
// draft becomes exactly one outbox entry whichever tab (or how many) does it.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
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
}

/** An outbox entry: a mutation with the id of the draft it was (absent in older entries). */
export type Entry = Mutation & { id?: string };

export interface Loaded extends Meta {
  outbox: Entry[];
  drafts: Draft[];
}

/**
 * A change before it has a seq. `id` is the id of the tab that made it (`TAB_ID` characters)
 * followed by that tab's counter, so it names the change in every tab and survives sequencing.
 */
export type Draft = Omit<Mutation, 'seq'> & { id: string };

/** The length of a tab id, the prefix of its drafts' ids. */
export const TAB_ID = 10;

/**
 * Drafts (`['d', tab, n]`) and each tab's highest sequenced draft (`['t', tab]`: `[n, at]`)
 * live in the meta store beside the meta record: the store takes any key, so no schema upgrade
 * (which would push tabs still running the previous version to memory) is needed.
 */
type DraftKey = ['d', string, number];
type MarkKey = ['t', string];
interface OmniDB extends DBSchema {
  meta: { key: 'meta' | DraftKey | MarkKey; value: Meta | Draft | [number, number] };
  outbox: { key: number; value: Entry };
}

/** The storage seam: IndexedDB in browsers, memory when consent or the browser says no. */
export interface Store {
  readonly kind: 'indexeddb' | 'memory';
  load(): Promise<Loaded>;
  /**
   * Stores the drafts in a transaction started (and asked to commit) before this returns, so
   * the write is under way in the caller's task; resolves once it is durable.
   */
  save(drafts: readonly Draft[]): Promise<void>;
  /** Gives every stored draft the next seq and moves it to the outbox, atomically; returns the moved. */
  sequence(): Promise<Entry[]>;
  /**
   * Stores the drafts of a tab that went away without storing them, leaving out those it stored
   * (or that were sequenced) already; returns how many it stored.
   */
  rescue(drafts: readonly Draft[]): Promise<number>;
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
}

const VERSION = 1;
const META = 'meta';
const empty = (): Meta => ({ seq: 0, device: null, base: null });
/** In the order made (a tab's own in its order), as the outbox will hold them. */
const ordered = (drafts: readonly Draft[]) =>
  [...drafts].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
const withSeq = (meta: Meta, drafts: readonly Draft[]) =>
  ordered(drafts).map((d) => ({ ...d, seq: ++meta.seq }) as Entry);
const draftKey = (d: Draft): DraftKey => ['d', d.id.slice(0, TAB_ID), +d.id.slice(TAB_ID)];
/** Every `[kind, ...]` key sorts in this range: arrays sort after strings and numbers. */
const all = (kind: 'd' | 't') => IDBKeyRange.bound([kind], [kind, []]);
/** A tab's mark is kept this long after its last draft was sequenced (ms). */
const MARK_TTL = 7 * 864e5;

/** A store that lives as long as the page. */
export function memoryStore(from?: Loaded): Store {
  let meta: Meta = from ? { seq: from.seq, device: from.device, base: from.base } : empty();
  let outbox: Entry[] = from ? [...from.outbox] : [];
  let drafts: Draft[] = from ? [...from.drafts] : [];
  return {
    kind: 'memory',
    load: async () => ({ ...meta, outbox: [...outbox], drafts: [...drafts] }),
    async save(d) {
      drafts.push(...d);
    },
    async sequence() {
      const added = withSeq(meta, drafts);
      drafts = [];
      outbox.push(...added);
      return added;
    },
    // One page, one tab: nobody else to rescue.
    rescue: async () => 0,
    async setBase(base) {
      meta.base = base;
      meta.seq = Math.max(meta.seq, base.lastSeq);
      outbox = outbox.filter((m) => m.seq > base.lastSeq);
    },
    setDevice: async (device) => (meta.device ??= device),
    async reset(keep) {
      meta = keep ? { ...meta, device: null } : empty();
      if (!keep) outbox = drafts = [];
    },
    close() {},
  };
}

/**
 * Opens the IndexedDB store. `lost` is called once when the connection goes away for good:
 * a newer version wants to upgrade (`blocking`), the database was deleted while open, or the
 * browser killed the connection (`terminated`). Rejects with a `storage` error when IndexedDB
 * is missing or the open does not settle within `timeoutMs` (an upgrade blocked by an old tab).
 */
export async function idbStore(name: string, lost: () => void, timeoutMs: number): Promise<Store> {
  let conn: IDBPDatabase<OmniDB> | undefined;
  const gone = () => {
    conn?.close();
    lost();
  };
  const opening = openDB<OmniDB>(name, VERSION, {
    upgrade(up, oldVersion) {
      // Versioned: each step brings the schema from the previous version to the next.
      if (oldVersion < 1) {
        up.createObjectStore(META);
        up.createObjectStore('outbox', { keyPath: 'seq' });
      }
    },
    blocking: gone,
    terminated: gone,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const db = (conn = await Promise.race([
    opening,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // If it opens after all, close it at once: this page has moved on to memory.
        opening.then(
          (late) => late.close(),
          () => {},
        );
        reject(new Error('open timed out (blocked by another tab?)'));
      }, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer)));
  // Deleting the database from another connection (devtools, clear-site-data) fires
  // `versionchange` on this one, which idb reports as `blocking`.

  const rw = () => db.transaction([META, 'outbox'], 'readwrite');
  const meta = async (tx: ReturnType<typeof rw>) =>
    ((await tx.objectStore(META).get(META)) as Meta | undefined) ?? empty();
  const draftsOf = (tx: { objectStore(name: typeof META): { getAll(r: IDBKeyRange): unknown } }) =>
    tx.objectStore(META).getAll(all('d')) as Promise<Draft[]>;

  return {
    kind: 'indexeddb',
    async load() {
      const tx = db.transaction([META, 'outbox']);
      const [m, outbox, drafts] = await Promise.all([
        tx.objectStore(META).get(META) as Promise<Meta | undefined>,
        tx.objectStore('outbox').getAll(),
        draftsOf(tx),
      ]);
      return { ...(m ?? empty()), outbox, drafts };
    },
    save(drafts) {
      // Everything up to commit() happens now, in the caller's task; nothing waits for a read.
      const tx = db.transaction(META, 'readwrite');
      const done = tx.done;
      for (const d of drafts) void tx.store.put(d, draftKey(d));
      // Older browsers without commit() commit when the task ends.
      tx.commit?.();
      return done;
    },
    async sequence() {
      const tx = rw();
      const [m, drafts] = await Promise.all([meta(tx), draftsOf(tx)]);
      if (!drafts.length) return (await tx.done, []);
      const added = withSeq(m, drafts);
      const marks = new Map<string, number>();
      for (const d of drafts) {
        const [, tab, n] = draftKey(d);
        marks.set(tab, Math.max(n, marks.get(tab) ?? 0));
      }
      const now = Date.now();
      const kv = tx.objectStore(META);
      // Marks of tabs long gone go: a rescue comes within moments of a tab's end.
      const [keys, values] = await Promise.all([kv.getAllKeys(all('t')), kv.getAll(all('t'))]);
      keys.forEach((k, i) => (values[i] as number[])[1]! < now - MARK_TTL && kv.delete(k));
      await Promise.all([
        kv.put(m, META),
        ...drafts.map((d) => kv.delete(draftKey(d))),
        ...[...marks].map(([tab, n]) => kv.put([n, now], ['t', tab])),
        ...added.map((a) => tx.objectStore('outbox').add(a)),
        tx.done,
      ]);
      return added;
    },
    async rescue(drafts) {
      const tx = rw();
      const store = tx.objectStore(META);
      let stored = 0;
      for (const d of drafts) {
        const key = draftKey(d);
        const mark = (await store.get(['t', key[1]])) as [number, number] | undefined;
        // Sequenced already (a tab's drafts are sequenced in its order), or stored already.
        if ((mark && mark[0] >= key[2]) || (await store.getKey(key))) continue;
        void store.put(d, key);
        stored++;
      }
      await tx.done;
      return stored;
    },
    async setBase(base) {
      const tx = rw();
      const m = await meta(tx);
      m.base = base;
      m.seq = Math.max(m.seq, base.lastSeq);
      await Promise.all([
        tx.objectStore(META).put(m, META),
        base.lastSeq > 0 && tx.objectStore('outbox').delete(IDBKeyRange.upperBound(base.lastSeq)),
        tx.done,
      ]);
    },
    async setDevice(device) {
      const tx = rw();
      const m = await meta(tx);
      if (!m.device) {
        m.device = device;
        await tx.objectStore(META).put(m, META);
      }
      await tx.done;
      return m.device;
    },
    async reset(keep) {
      const tx = rw();
      const m = await meta(tx);
      await Promise.all([
        ...(keep
          ? [tx.objectStore(META).put({ ...m, device: null }, META)]
          : [tx.objectStore(META).clear(), tx.objectStore('outbox').clear()]),
        tx.done,
      ]);
    },
    close: () => db.close(),
  };
}

/** Wraps any storage failure into the typed error the client reports. */
export const storageError = (cause: unknown): OmniError =>
  new OmniError('storage', `Local storage is unavailable: ${(cause as Error)?.message ?? cause}`, {
    retryable: false,
    cause,
  });
