// What the sync routes are built on. Each route module takes only the part it uses.
import type { Mutation } from '@omnikit/protocol';
import type { ResolvedSite } from '../../config/sites.js';
import type { Db } from '../../db/index.js';
import type { ServerExtension } from '../../extension.js';
import type { Auth } from '../../http/auth.js';
import type { EventStreams } from '../../http/event-stream.js';
import type { Limiters } from '../../http/limits.js';
import type { Logger } from '../../logger.js';
import type { NotificationBus } from '../../notify/bus.js';
import type { PokeHub } from '../pokes.js';

/** One committed push: the mutations it consumed (applied or rejected), in the server's order. */
export interface PushCommitted {
  siteId: string;
  deviceId: string;
  profileId: string;
  version: number;
  consumed: Mutation[];
}

export interface SyncServices {
  db: Db;
  sites: ReadonlyMap<string, ResolvedSite>;
  logger: Logger;
  now: () => number;
  auth: Auth;
  limiters: Limiters;
  bus: NotificationBus;
  pokes: PokeHub;
  streams: EventStreams;
  /** Their erasure hooks run inside `DELETE /v1/profile`'s transaction. */
  extensions: readonly ServerExtension[];
  /** Observes every committed push (metrics; the sync tests' server-side log). */
  onPushCommitted: ((event: PushCommitted) => void) | undefined;
}
