// How elements find their SDK client: through @lit/context, so a page can hold several clients
// (one per subtree) or none. The embed provides its global client with `provideClient`.
import { ContextConsumer, ContextProvider, ContextRoot, createContext } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ClientEventMap, ClientState, OmniClient } from '@omnikit/sdk';

/** The context omnikit elements read their client from (a global symbol: two copies still meet). */
export const clientContext = createContext<OmniClient | undefined>(Symbol.for('omnikit.client'));

const roots = new WeakSet<Document>();

/** Holds context requests no provider answered yet, and replays them when one appears. */
function ensureRoot(doc: Document) {
  if (roots.has(doc)) return;
  new ContextRoot().attach(doc.documentElement);
  roots.add(doc);
}

/**
 * Provides `client` to every omnikit element inside `host` (an element or the whole document's
 * `documentElement`). Elements that asked before the provider existed receive it now. Returns
 * the provider: `setValue(other)` switches the client of every element below it.
 */
export function provideClient(
  host: HTMLElement,
  client: OmniClient | undefined,
): ContextProvider<typeof clientContext> {
  ensureRoot(host.ownerDocument);
  const provider = new ContextProvider(host, { context: clientContext, initialValue: client });
  // A plain element has no controller lifecycle: announce the provider now, so elements that
  // asked before it existed (held by the root) get the client.
  if (!('addController' in host)) provider.hostConnected();
  return provider;
}

type Host = ReactiveControllerHost & HTMLElement;

export interface ClientControllerOptions<T> {
  /** The part of the client's state the element renders; it re-renders when it changes. */
  select: (state: ClientState) => T;
  /** Client events the element listens to while connected. */
  on?: { [K in keyof ClientEventMap]?: (detail: ClientEventMap[K]) => void };
}

/**
 * The one way an element reaches the SDK: the provided client, and the selected part of its
 * state, subscribed while the element is connected and dropped when it leaves the page.
 */
export class ClientController<T> implements ReactiveController {
  /** The client provided to this element, if any. */
  client: OmniClient | undefined;
  /** The selected state; undefined without a client. */
  value: T | undefined;
  private stops: (() => void)[] = [];

  constructor(
    private readonly host: Host,
    private readonly options: ClientControllerOptions<T>,
  ) {
    host.addController(this);
    // Before the first request: a provider created later (an async embed) still answers it.
    ensureRoot(host.ownerDocument);
    new ContextConsumer(host, {
      context: clientContext,
      subscribe: true,
      callback: (client) => this.use(client),
    });
  }

  hostConnected(): void {
    this.listen();
  }

  hostDisconnected(): void {
    this.stop();
  }

  private use(client: OmniClient | undefined) {
    if (client === this.client) return;
    this.stop();
    this.client = client;
    this.value = undefined;
    this.listen();
    this.host.requestUpdate();
  }

  private listen() {
    const { client, host, options } = this;
    if (!client || !host.isConnected || this.stops.length) return;
    // Reading the client never starts it: an element shown on the page does (loads the stored
    // cart, syncs).
    void client.start();
    this.value = options.select(client.state);
    this.stops.push(
      client.subscribe(options.select, (value) => {
        this.value = value;
        host.requestUpdate();
      }),
    );
    for (const [type, listener] of Object.entries(options.on ?? {})) {
      this.stops.push(client.on(type as keyof ClientEventMap, listener as () => void));
    }
    host.requestUpdate();
  }

  private stop() {
    this.stops.forEach((s) => s());
    this.stops = [];
  }
}
