// Retention: deletes what no device in use and no customer needs any more, by each site's policy
// (`SiteConfig.retention`). Runs in bounded batches, each its own short transaction that first
// takes a transaction-level advisory lock: instances on one database never collect at once
// (the one that finds the lock taken leaves the work to its holder), and requests never wait
// long behind a batch. Used by the server's schedule and by `omnikit-server gc`.
import type { ResolvedSite } from '../config/sites.js';
import type { Db, Queryable } from '../db/index.js';
import type { ServerExtension } from '../extension.js';
import type { Logger } from '../logger.js';
import {
  collectExpired,
  collectIdleDevices,
  collectOrphanProfiles,
  takeOldEvents,
} from './store/retention.js';

const DAY = 86_400_000;
/** Codes and tickets are kept a day past their expiry (a late claim still gets its 410). */
const EXPIRED_GRACE_MS = DAY;

/** Rows deleted, by what they were. */
export interface GcCounts {
  /** Devices, with their stream tickets and handoff codes. */
  devices: number;
  /** Anonymous profiles no device reaches, with their codes. */
  profiles: number;
  /** Events past the site's `eventDays`. */
  events: number;
  /** Expired stream tickets and handoff codes. */
  expired: number;
}

export interface GcReport {
  /** False when another instance held the collection lock (it does the work instead). */
  ran: boolean;
  /** Per site. */
  sites: Record<string, GcCounts>;
  /** All rows deleted. */
  rows: number;
  ms: number;
}

export interface GcOptions {
  /** Rows (devices, profiles, events) per batch transaction; 1000 by default. */
  batchSize?: number;
  /** Clock (ms since epoch). */
  now?: () => number;
  /** Stops between batches when it returns true (the server is closing). */
  stopped?: () => boolean;
}

/** The lock's key pair: the migrations' class id and this schema's collection. */
async function tryLock(tx: Queryable): Promise<boolean> {
  const { rows } = await tx.query<{ ok: boolean }>(
    `SELECT pg_try_advisory_xact_lock(1869440107, hashtext('gc:' || current_schema())) AS ok`,
  );
  return rows[0]?.ok === true;
}

/** One collection pass over every site. */
export async function collectGarbage(
  db: Db,
  sites: ReadonlyMap<string, ResolvedSite>,
  extensions: readonly ServerExtension[],
  options: GcOptions = {},
): Promise<GcReport> {
  const started = performance.now();
  const now = (options.now ?? Date.now)();
  const limit = options.batchSize ?? 1000;
  const report: GcReport = { ran: true, sites: {}, rows: 0, ms: 0 };
  let busy = false;

  /** Runs batches of `step` until one deletes nothing; false once the lock was refused. */
  const drain = async (step: (tx: Queryable) => Promise<number>): Promise<number> => {
    let total = 0;
    for (;;) {
      if (options.stopped?.()) return total;
      const n = await db.transaction(async (tx) => {
        if (!(await tryLock(tx))) {
          busy = true;
          return 0;
        }
        return step(tx);
      });
      if (busy || n === 0) return total;
      total += n;
    }
  };

  for (const [siteId, site] of sites) {
    const policy = site.retention;
    const counts: GcCounts = { devices: 0, profiles: 0, events: 0, expired: 0 };
    report.sites[siteId] = counts;
    counts.expired = await drain((tx) => collectExpired(tx, siteId, now - EXPIRED_GRACE_MS, limit));
    if (!busy) {
      await drain(async (tx) => {
        const n = await collectIdleDevices(
          tx,
          siteId,
          {
            idleBefore: now - policy.idleDeviceDays * DAY,
            emptyBefore: now - policy.emptyDeviceDays * DAY,
            now,
          },
          limit,
        );
        counts.profiles += n.profiles;
        counts.devices += n.devices;
        return n.devices + n.profiles;
      });
    }
    if (!busy) {
      counts.profiles += await drain((tx) =>
        collectOrphanProfiles(
          tx,
          siteId,
          { before: now - policy.orphanProfileDays * DAY, now },
          limit,
        ),
      );
    }
    if (!busy) {
      counts.events = await drain(async (tx) => {
        const events = await takeOldEvents(tx, siteId, now - policy.eventDays * DAY, {
          profiles: Math.max(1, Math.floor(limit / 10)),
          rows: limit,
        });
        // Whatever an extension keeps of them (recommendations' co-view counts) is folded in
        // by the same transaction that deletes them: never counted twice, never lost.
        if (events.length > 0) {
          for (const extension of extensions) await extension.onEventsPruned?.(tx, siteId, events);
        }
        return events.length;
      });
    }
    report.rows += counts.devices + counts.profiles + counts.events + counts.expired;
    if (busy) break;
  }
  report.ran = !busy;
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** Runs `collectGarbage` every `intervalMs` (first after a random part of it) until stopped. */
export class GcSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly run: (stopped: () => boolean) => Promise<GcReport>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    // Spread over the interval so instances started together do not all try at once.
    this.schedule(this.intervalMs / 2 + Math.random() * (this.intervalMs / 2));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.run(() => this.stopped)
        .then(
          (report) => {
            if (report.rows > 0 || !report.ran) this.logger.info('gc', gcLogFields(report));
          },
          (err: Error) => this.logger.error('gc failed', { error: err.message }),
        )
        .finally(() => {
          this.running = undefined;
          this.schedule(this.intervalMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** Stops the timer and waits for a pass under way (it ends after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

/** A report as flat log fields: `rows`, `ms`, `ran`, and `<site>.<what>` counts. */
export function gcLogFields(report: GcReport): Record<string, number | boolean> {
  const fields: Record<string, number | boolean> = {
    ran: report.ran,
    rows: report.rows,
    ms: report.ms,
  };
  for (const [site, counts] of Object.entries(report.sites)) {
    for (const [what, n] of Object.entries(counts)) fields[`${site}.${what}`] = n as number;
  }
  return fields;
}
