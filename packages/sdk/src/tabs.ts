// Cross-tab plumbing: a message transport (BroadcastChannel, or the in-memory double tests use to
// simulate other tabs) and leader election (Web Locks), so exactly one tab talks to the server.

/** How the tabs of one browser talk. Messages are structured-cloned and never echo back. */
export interface TabTransport {
  post(message: unknown): void;
  /** Returns the unsubscribe. */
  listen(cb: (message: unknown) => void): () => void;
  close(): void;
}

/** Creates the transport of one namespace. */
export type TabTransportFactory = (name: string) => TabTransport;

/** The browser's transport: a BroadcastChannel per namespace (or none where missing). */
export const broadcastTabs: TabTransportFactory = (name) => {
  if (typeof BroadcastChannel === 'undefined') return memoryTabs()(name);
  const ch = new BroadcastChannel(name);
  return {
    post: (m) => ch.postMessage(m),
    listen(cb) {
      const h = (e: MessageEvent) => cb(e.data);
      ch.addEventListener('message', h);
      return () => ch.removeEventListener('message', h);
    },
    close: () => ch.close(),
  };
};

/**
 * An in-memory transport hub: every transport it creates for the same name hears the others,
 * asynchronously and through `structuredClone`, the way BroadcastChannel behaves. Use one hub
 * per simulated browser.
 */
export function memoryTabs(): TabTransportFactory {
  const hub = new Map<string, Set<(m: unknown) => void>>();
  return (name) => {
    const peers = hub.get(name) ?? new Set();
    hub.set(name, peers);
    const mine = new Set<(m: unknown) => void>();
    const deliver = (m: unknown) => mine.forEach((cb) => cb(structuredClone(m)));
    peers.add(deliver);
    return {
      post(m) {
        for (const p of peers) if (p !== deliver) setTimeout(p, 0, m);
      },
      listen(cb) {
        mine.add(cb);
        return () => mine.delete(cb);
      },
      close: () => peers.delete(deliver),
    };
  };
}

/**
 * Runs `lead` while this tab is the leader of `name`, until `signal` aborts. With Web Locks
 * the role moves to a waiting tab the moment the leader closes or its page goes away. Without
 * them (very old browsers) every tab leads: pushes are idempotent per seq, so this costs
 * duplicate requests, never duplicate changes.
 */
export function lead(name: string, signal: AbortSignal, lead: () => void): void {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  if (!locks) return lead();
  locks
    .request(name, { signal }, () => {
      // Granted just as the client closed: give the role straight back.
      if (signal.aborted) return;
      lead();
      return new Promise((release) => signal.addEventListener('abort', release));
    })
    .catch(() => {
      // AbortError: the client closed before it became the leader.
    });
}
