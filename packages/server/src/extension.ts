// The plug-in contract of the server. An extension (the commerce APIs are one) brings its own
// tables and routes, and reaches the core's data only through the context it is given: the
// core's tables (profiles, devices, events) are never queried by an extension's SQL.
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ProfileState } from '@omnikit/protocol';
import type { SiteConfig } from './config/sites.js';
import type { Db, Migration, Queryable } from './db/index.js';
import type { AppEnv, AuthedDevice, DeviceEnv, SiteEnv } from './http/env.js';
import type { JsonLimits } from './http/body.js';
import type { EventStreams } from './http/event-stream.js';
import type { Logger } from './logger.js';
import type { NotificationBus } from './notify/bus.js';
import type { EventRecord, StoredEvent } from './sync/store/events.js';

export type { EventKind, EventRecord, StoredEvent } from './sync/store/events.js';

/** Records and reads the core's events (views, cart additions, purchases, handoffs). */
export interface EventsRecorder {
  /** Records events inside the caller's transaction. */
  record(tx: Queryable, events: readonly EventRecord[]): Promise<void>;
  /**
   * For tailing: events after id `after` in id order (at most `limit`), plus those among `ids`
   * (skipped earlier while their transaction was still committing).
   */
  read(
    q: Queryable,
    range: { after: number; ids: readonly number[]; limit: number },
  ): Promise<StoredEvent[]>;
  /** A profile's purchase events: each sku once with its latest time, newest first. */
  purchases(
    q: Queryable,
    siteId: string,
    profileId: string,
    limit: number,
  ): Promise<{ sku: string; at: number }[]>;
}

/** A profile as an extension may see it. */
export interface ProfileView {
  id: string;
  customerId: string | null;
  state: ProfileState;
}

/** Reads the core's profiles. */
export interface ProfileReader {
  /** The device's current profile (undefined when the device is unknown). */
  ofDevice(q: Queryable, device: AuthedDevice): Promise<ProfileView | undefined>;
  /**
   * `ofDevice` plus the profile's purchase events (as `EventsRecorder.purchases` lists them),
   * in one round trip.
   */
  withPurchases(
    q: Queryable,
    device: AuthedDevice,
    limit: number,
  ): Promise<(ProfileView & { purchases: { sku: string; at: number }[] }) | undefined>;
  /** The profile id of a customer of the site, when they ever signed in there. */
  ofCustomer(q: Queryable, siteId: string, customerId: string): Promise<string | null>;
}

/** What an extension's routes get: storage, sites, the core's middleware and services. */
export interface ExtensionContext {
  db: Db;
  logger: Logger;
  sites: ReadonlyMap<string, SiteConfig>;
  now: () => number;
  /** Bearer device token → `c.var.device`, `c.var.site`; applies the device rate limit. */
  requireDevice: MiddlewareHandler<DeviceEnv>;
  /** `X-Omni-Key` (or `?key=`) publishable key → `c.var.site`. */
  requireSiteKey: MiddlewareHandler<SiteEnv>;
  /** `X-Omni-Admin-Key` → `c.var.site`. */
  requireAdmin: MiddlewareHandler<SiteEnv>;
  /** The JSON body, bounded in size (413), depth (400) and members (413), then parsed (400). */
  readJson(c: Context, limits?: Partial<JsonLimits>): Promise<unknown>;
  /** The server's event-stream writer (heartbeats, slots, shutdown). */
  streams: EventStreams;
  /** The server's notification bus (this instance and the others on the same database). */
  bus: NotificationBus;
  events: EventsRecorder;
  profiles: ProfileReader;
}

/**
 * A plug-in for the catalog, stock and recommendation APIs: its migrations run after the core
 * ones (same runner, same advisory lock) and its routes are mounted on the same app.
 */
export interface ServerExtension {
  name: string;
  migrations?: Migration[];
  routes?(app: Hono<AppEnv>, ctx: ExtensionContext): void;
  /** Ends the extension's own long-lived work (listeners, timers) when the server closes. */
  close?(): Promise<void>;
  /**
   * Retention is deleting these events (past the site's `eventDays`; each profile's in time
   * order, whole profiles per call): fold what the extension keeps of them into its own tables,
   * inside the transaction that deletes them.
   */
  onEventsPruned?(tx: Queryable, siteId: string, events: readonly StoredEvent[]): Promise<void>;
  /** Erases the extension's data of a profile, inside `DELETE /v1/profile`'s transaction. */
  onProfileErased?(
    tx: Queryable,
    profile: { siteId: string; profileId: string; customerId: string | null },
  ): Promise<void>;
}
