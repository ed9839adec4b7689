// Durable local state of one browser (all its tabs): the device credentials, the last server
// snapshot (the base) and the outbox of mutations the server has not acknowledged yet. The
// optimistic view is `rebase(base, outbox)`, so committing an outbox entry and its seq in one
// transaction is what makes a change durable together with the view it produced.
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

export interface Loaded extends Meta {
  outbox: Mutation[];
}

/** A mutation before it has a seq. */
export type Draft = Omit<Mutation, 'seq'>;

interface OmniDB extends DBSchema {
  meta: { key: 'meta'; value: Meta };
  outbox: { key: number; value: Mutation };
}

/** The storage seam: IndexedDB in browsers, memory when consent or the browser says no. */
export interface Store {
  readonly kind: 'indexeddb' | 'memory';
  load(): Promise<Loaded>;
  /** Gives the drafts the next seqs and appends them to the outbox, atomically. */
  append(drafts: readonly Draft[]): Promise<Mutation[]>;
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
const withSeq = (meta: Meta, drafts: readonly Draft[]) =>
  drafts.map((d) => ({ ...d, seq: ++meta.seq }) as Mutation);

/** A store that lives as long as the page. */
export function memoryStore(from?: Loaded): Store {
  let meta: Meta = from ? { seq: from.seq, device: from.device, base: from.base } : empty();
  let outbox: Mutation[] = from ? [...from.outbox] : [];
  return {
    kind: 'memory',
    load: async () => ({ ...meta, outbox: [...outbox] }),
    async append(drafts) {
      const added = withSeq(meta, drafts);
      outbox.push(...added);
      return added;
    },
    async setBase(base) {
      meta.base = base;
      meta.seq = Math.max(meta.seq, base.lastSeq);
      outbox = outbox.filter((m) => m.seq > base.lastSeq);
    },
    setDevice: async (device) => (meta.device ??= device),
    async reset(keep) {
      meta = keep ? { ...meta, device: null } : empty();
      if (!keep) outbox = [];
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
    (await tx.objectStore(META).get(META)) ?? empty();

  return {
    kind: 'indexeddb',
    async load() {
      const tx = db.transaction([META, 'outbox']);
      const [m, outbox] = await Promise.all([
        tx.objectStore(META).get(META),
        tx.objectStore('outbox').getAll(),
      ]);
      return { ...(m ?? empty()), outbox };
    },
    async append(drafts) {
      const tx = rw();
      const m = await meta(tx);
      const added = withSeq(m, drafts);
      await Promise.all([
        tx.objectStore(META).put(m, META),
        ...added.map((a) => tx.objectStore('outbox').put(a)),
        tx.done,
      ]);
      return added;
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
