// The public API of @omnikit/server. Where things live: README.md ("Layers").
export { startServer, type RunningServer, type ServerOptions } from './server.js';
export { createApp, type AppOptions, type AppServices } from './http/app.js';
export type {
  AppContext,
  AppEnv,
  AuthedDevice,
  DeviceEnv,
  FaultAction,
  FaultHook,
  SiteEnv,
} from './http/env.js';
export type { Auth } from './http/auth.js';
export { RefusalLog } from './http/middleware.js';
export { EventStreams, type EventStream, type StreamSlot } from './http/event-stream.js';
export type {
  EventsRecorder,
  ExtensionContext,
  ProfileReader,
  ProfileView,
  ServerExtension,
} from './extension.js';
export type { EventKind, EventRecord, StoredEvent } from './sync/store/events.js';
export type { PushCommitted } from './sync/http/index.js';
export {
  coreMigrations,
  migrate,
  openDb,
  type DatabaseOptions,
  type Db,
  type Migration,
  type Queryable,
  type QueryResult,
  type Row,
} from './db/index.js';
export {
  commerceExtension,
  forgetCustomer,
  type CommerceExtension,
  type CommerceOptions,
} from './commerce/extension.js';
export { runImportCli } from './commerce/cli.js';
export { jsonLogger, silentLogger, type Logger, type LogFields } from './logger.js';
export { NotificationBus, type Publish, type Topic } from './notify/bus.js';
export { PokeHub, pokeTopic, type PokeEvent } from './sync/pokes.js';
export {
  collectGarbage,
  gcLogFields,
  type GcCounts,
  type GcOptions,
  type GcReport,
} from './sync/gc.js';
export type { BucketOptions, Limiters, RateLimitOptions } from './http/limits.js';
export {
  loadSites,
  resolveSites,
  SiteConfigError,
  validateSites,
  type CustomerTokenKey,
  DEFAULT_RETENTION,
  type ResolvedSite,
  type RetentionPolicy,
  type SiteConfig,
} from './config/sites.js';
