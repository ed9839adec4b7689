// The IndexedDB store: the durable state of one browser, shared by all its tabs (store.ts has
// what it holds).
//
// A change is stored in two steps so that the first can happen in the call's own task and can
// never wait behind another transaction: `save` writes it as a draft, keyed by its tab's id and
// a counter, into a database of its own (`<name>:drafts`) whose transactions all write without
// reading and are committed at once. Chromium aborts a committed transaction that still waits
// behind one whose end depends on the page (a read, or any transaction not committed
// explicitly) when the page goes away; the main database has many of those (loads, pushes).
// `sequence` then gives drafts their seqs in the main database, in one transaction that also
// records each tab's highest sequenced draft (its mark), so a draft becomes exactly one outbox
// entry however many tabs (or retries) sequence it, and is deleted from the drafts afterwards.
// A `pagehide` that may freeze the page aborts the transactions that read, and the upgrade that
// creates the database (bfcache.ts).
import {
  openDB,
  unwrap,
  wrap,
  type DBSchema,
  type IDBPObjectStore,
  type IDBPTransaction,
} from 'idb';
import { freezeGuard, kept, listen, tag } from './bfcache.js';
import { withTimeout } from './core.js';
import {
  byTab,
  draftKey,
  empty,
  marked,
  tabOf,
  withSeq,
  type Draft,
  type Entry,
  type Meta,
  type Store,
} from './store.js';

/**
 * Each tab's mark (`['t', tab]`: its highest sequenced draft and when) lives in the meta store
 * beside the meta record: that store takes any key, so no schema upgrade (which would push tabs
 * still running the previous version to memory) is needed.
 */
type MarkKey = ['t', string];
interface OmniDB extends DBSchema {
  meta: { key: 'meta' | MarkKey; value: Meta | [number, number] };
  outbox: { key: number; value: Entry };
}
type Stores = ('meta' | 'outbox')[];
interface DraftsDB extends DBSchema {
  drafts: { key: [string, number]; value: Draft };
}

const VERSION = 1;
const META = 'meta';
/**
 * A tab's mark is kept this long after its last draft was sequenced (ms). A draft left behind
 * between sequencing and its deletion is sequenced (skipped, deleted) by the next tab to start.
 */
const MARK_TTL = 30 * 864e5;
/** Every mark key sorts in this range: arrays sort after strings. */
const marks = () => IDBKeyRange.bound(['t'], ['t', []]);
const clear = (...s: IDBObjectStore[]) => s.forEach((o) => o.clear());
/** The marks in the meta store `kv` by tab, with their records' keys and values. */
const readMarks = async (kv: IDBPObjectStore<OmniDB, Stores, 'meta', IDBTransactionMode>) => {
  const [keys, values] = (await Promise.all([kv.getAllKeys(marks()), kv.getAll(marks())])) as [
    MarkKey[],
    [number, number][],
  ];
  return [new Map(keys.map((k, i) => [k[1], values[i]![0]])), keys, values] as const;
};

type Lost = (deleted: boolean) => void;
/**
 * Opens the IndexedDB store. `lost` is called once when the connection goes away for good:
 * a newer version wants to upgrade (`blocking`: the data stays), the database was deleted while
 * open (devtools, clear-site-data: `blocking` to no version), or the browser killed it
 * (`terminated`: storage cleared, maybe); `deleted` unless the data stays. Rejects when
 * IndexedDB is missing or the open does not settle within `timeoutMs` while the page is shown
 * (an upgrade blocked by an old tab).
 */
export async function idbStore(name: string, lost: Lost, timeoutMs: number): Promise<Store> {
  const conns: { close(): void }[] = [];
  // Not before the store is open: for a connection of an open that failed (closed as it went,
  // see `closeOpens`), nor, as before, for the main database's while the drafts' still opens.
  const gone = (deleted: boolean) =>
    conns.length && (conns.forEach((c) => c.close()), lost(deleted));
  const on = {
    blocking: (_: number, next: number | null) => gone(next === null),
    terminated: () => gone(true),
  };
  // Before the open: its timeout must know of a `pagehide` during it (the page's first store).
  const guard = freezeGuard();
  // The upgrade that creates the database is a transaction too: frozen in the back/forward cache
  // before it ends, it holds every later open of the database (each page of the site then moves
  // to memory after `timeoutMs`; Chromium keeps such a page cached). Aborted by the `pagehide`,
  // it is redone from the start (nothing of it was written) once the page is shown again. One
  // not yet begun when the page froze (its open still waiting, say on an old tab) is not tracked.
  let opens: readonly Promise<{ close(): void }>[] = [];
  const open = () =>
    Promise.all(
      (opens = [
        openDB<OmniDB>(name, VERSION, {
          upgrade(up, oldVersion, _, tx) {
            guard.track(tx);
            // Versioned: each step brings the schema from the previous version to the next.
            if (oldVersion < 1) {
              up.createObjectStore(META);
              up.createObjectStore('outbox', { keyPath: 'seq' });
            }
          },
          ...on,
        }),
        openDB<DraftsDB>(`${name}:drafts`, 1, {
          upgrade(up, _, __, tx) {
            guard.track(tx);
            up.createObjectStore('drafts');
          },
          ...on,
        }),
      ] as const),
    ).catch((e: unknown) => (closeOpens(), Promise.reject(e)));
  // Either that opens (late, or while the other failed) is closed: aborted, or this page moved
  // to memory. Resolves once every open has settled.
  const closeOpens = () => Promise.allSettled(opens.map((o) => o.then((c) => c.close())));
  // Nor is the page cached while it opens, where an `unload` listener keeps it out (desktop
  // Chromium and Firefox, unless the site's Permissions-Policy denies `unload`): an upgrade the
  // browser began before the page froze but had not yet handed to it is out of the abort's reach
  // (seen in CI: the site's next page in memory after 5 s). Left, the page unloads, and the
  // browser aborts its upgrade. Until the opens settle, late ones included (a blocked open).
  const off = listen('unload', () => {});
  // Timed as the store's calls are (core.ts): time spent frozen in the bfcache does not count.
  const [db, dr] = await withTimeout(guard.run(open), timeoutMs).then(
    (r) => (off(), r),
    (e) => {
      guard.stop();
      void closeOpens().then(off);
      throw e;
    },
  );
  conns.push(db, dr);

  /** The base this tab last read or wrote: a redone `setBase` does not write over another's. */
  let seen: string | null = null;
  const rw = () => guard.track(db.transaction([META, 'outbox'], 'readwrite'));
  /** The meta record (or an empty one) read in `tx`. */
  const meta = async (tx: IDBPTransaction<OmniDB, Stores, IDBTransactionMode>) =>
    ((await tx.objectStore(META).get(META)) as Meta | undefined) ?? empty();
  // A write without reads (to the drafts unless told), under way before this returns and committed
  // at once: never behind a read, nor aborted by a freeze (not tracked). On the native stores: an
  // abort rejects the `done` returned, not also request promises that nobody observes.
  const write = (f: (...s: IDBObjectStore[]) => void, d = unwrap(dr), names = ['drafts']) => {
    const tx = d.transaction(names, 'readwrite');
    f(...names.map((n) => tx.objectStore(n)));
    // Older browsers without commit() commit when the task ends.
    tx.commit?.();
    return wrap(tx).done;
  };

  return {
    kind: 'indexeddb',
    load: (withMarks) =>
      guard.run(async () => {
        const tx = guard.track(db.transaction([META, 'outbox']));
        const td = guard.track(dr.transaction('drafts'));
        const all = Promise.all([
          meta(tx),
          tx.objectStore('outbox').getAll(),
          td.store.getAll(),
          withMarks && readMarks(tx.objectStore(META)),
        ]);
        // Committed at once, so a draft's write queued behind never waits for this page.
        td.commit?.();
        tx.commit?.();
        const [m, outbox, drafts, read] = await all;
        seen = tag(m.base);
        return { ...m, outbox, drafts, marks: read ? read[0] : undefined };
      }),
    save: (drafts) => write((s) => drafts.forEach((d) => s.put(d, draftKey(d)))),
    sequence: (list) => guard.run(() => sequence(list)),
    setBase: (base) =>
      guard.run(async (again) => {
        const tx = rw();
        const m = await meta(tx);
        if (again && kept(m.base, base, seen)) return;
        m.base = base;
        m.seq = Math.max(m.seq, base.lastSeq);
        await Promise.all([
          tx.objectStore(META).put(m, META),
          base.lastSeq > 0 && tx.objectStore('outbox').delete(IDBKeyRange.upperBound(base.lastSeq)),
          tx.done,
        ]);
        seen = tag(base);
      }),
    setDevice: (device) =>
      guard.run(async () => {
        const tx = rw();
        const m = await meta(tx);
        if (!m.device) {
          m.device = device;
          await tx.objectStore(META).put(m, META);
        }
        await tx.done;
        return m.device;
      }),
    reset: (keep) =>
      keep
        ? // Reads the meta record to keep the rest: guarded, so run again after a freeze, which is
          // harmless (a device stored meanwhile goes too, but every tab registers again on reset).
          guard.run(async () => {
            const tx = rw();
            const m = await meta(tx);
            await Promise.all([tx.objectStore(META).put({ ...m, device: null }, META), tx.done]);
          })
        : // Forgetting reads nothing: committed at once, not aborted by a freeze. Left: Chromium
          // aborts the main one alone if the page goes while a read queued before it still runs.
          // The time of the reset stays, its marks gone, for pages that did not hear of it.
          Promise.all([
            write(clear),
            write(
              (kv, ob) => (clear(kv, ob), kv.put({ ...empty(), reset: Date.now() }, META)),
              unwrap(db),
              [META, 'outbox'],
            ),
          ]).then(() => {}),
    close() {
      guard.stop();
      conns.forEach((c) => c.close());
    },
  };

  async function sequence(list: readonly Draft[]): Promise<Entry[]> {
    if (!list.length) return [];
    const tx = rw();
    const kv = tx.objectStore(META);
    const now = Date.now();
    const [m, [mark, keys, values]] = await Promise.all([meta(tx), readMarks(kv)]);
    // Marks of tabs long gone go (awaited below, as every request's promise here).
    const old = keys.map((k, i) => values[i]![1] < now - MARK_TTL && kv.delete(k));
    // Per tab in its order, so a mark never passes a draft not looked at yet.
    const fresh = [...list].sort(byTab).filter((d) => {
      if (marked(mark, d)) return false;
      mark.set(...draftKey(d));
      return true;
    });
    const added = withSeq(m, fresh);
    await Promise.all([
      ...old,
      kv.put(m, META),
      ...[...new Set(list.map(tabOf))].map((tab) => kv.put([mark.get(tab)!, now], ['t', tab])),
      ...added.map((a) => tx.objectStore('outbox').add(a)),
      tx.done,
    ]);
    // Sequenced: the drafts can go (one left behind now is skipped by its mark next time).
    // The entries are committed (a leader may be sending them): returned even when this fails
    // (the database deleted meanwhile), or memory would sequence their drafts a second time.
    try {
      await write((s) => list.forEach((d) => s.delete(draftKey(d))));
    } catch {
      // Skipped by the marks, or gone with the database.
    }
    return added;
  }
}
