// The sync API: devices, push and pull, poke streams, identity, handoff.
import type { Hono } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { deviceRoutes } from './devices.js';
import { handoffRoutes } from './handoff.js';
import { identityRoutes } from './identity.js';
import { pushRoutes } from './push.js';
import type { SyncServices } from './services.js';
import { streamRoutes } from './stream.js';

export type { PushCommitted, SyncServices } from './services.js';

export function syncRoutes(app: Hono<AppEnv>, services: SyncServices): void {
  deviceRoutes(app, services);
  pushRoutes(app, services);
  streamRoutes(app, services);
  identityRoutes(app, services);
  handoffRoutes(app, services);
}
