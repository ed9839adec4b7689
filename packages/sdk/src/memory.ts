// The memory store: what a tab keeps when IndexedDB is missing, fails or was deleted, or
// without consent; in a memory group (tab-sync.ts), each tab's copy of the group's changes.
import { merged, without } from './core.js';
import {
  empty,
  withSeq,
  type Draft,
  type Entry,
  type Loaded,
  type Meta,
  type Store,
} from './store.js';

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
    async sequence(list) {
      const ids = new Set(list.map((d) => d.id));
      const added = withSeq(
        meta,
        drafts.filter((d) => ids.has(d.id)),
      );
      drafts = without(drafts, list);
      outbox.push(...added);
      return added;
    },
    async setBase(base) {
      meta.base = base;
      meta.seq = Math.max(meta.seq, base.lastSeq);
      outbox = outbox.filter((m) => m.seq > base.lastSeq);
    },
    // Only a memory group's leader registers: the device it announces is the group's.
    setDevice: async (device) => (meta.device = device),
    async reset(keep) {
      meta = keep ? { ...meta, device: null } : empty();
      if (!keep) [outbox, drafts] = [[], []];
    },
    close() {},
    add(es) {
      drafts = without(drafts, es);
      // Seqs start at 1: none is left out as below the floor.
      outbox = merged(outbox, es);
      meta.seq = Math.max(meta.seq, ...es.map((e) => e.seq));
    },
  };
}
