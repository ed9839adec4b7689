import { randomUUID } from 'node:crypto';
import type { Snapshot } from '@omnikit/protocol';
import type { Db, Queryable } from './db/index.js';
import type { Logger } from './logger.js';

/**
 * "Profile `profileId` of `siteId` is now at `version`": all a stream needs to re-read. After
 * its listening connection came back, the hub emits `siteId: ''` and `version: 0` (unknown)
 * without snapshot for every watched profile: changes may have been missed, re-read.
 */
export interface PokeEvent {
  siteId: string;
  profileId: string;
  version: number;
  /**
   * The committed profile, when the emitter has it: local streams send it without reading the
   * database again. Never sent through NOTIFY (payloads are small there); remote streams read.
   */
  snapshot?: Omit<Snapshot, 'lastSeq'>;
  /** With `snapshot`: each device of the profile → its lastSeq as of this version. */
  lastSeqs?: Readonly<Record<string, number>>;
}

type Listener = (event: PokeEvent) => void;

/**
 * Fans profile changes out to the open streams: in-process right after a commit, and to other
 * instances through PostgreSQL NOTIFY sent inside the same transaction (so it is delivered
 * only if the change commits). Each instance ignores the notifications it sent itself.
 */
export class PokeHub {
  private readonly instance = randomUUID();
  private readonly byProfile = new Map<string, Map<Listener, string | undefined>>();
  private stopListening: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Db,
    /** Notification channels are database-wide, so each schema gets its own. */
    readonly channel: string,
    private readonly logger: Logger,
  ) {}

  /** Only PostgreSQL can have other instances: a PGlite database belongs to one process. */
  private get shared(): boolean {
    return this.db.kind === 'postgres';
  }

  async start(): Promise<void> {
    if (!this.shared) return;
    this.stopListening = await this.db.listen(
      this.channel,
      (payload) => this.receive(payload),
      () => this.resync(),
    );
  }

  async stop(): Promise<void> {
    await this.stopListening?.();
    this.stopListening = undefined;
  }

  /**
   * The `pg_notify` arguments for `event`, or null when there is no other instance to tell
   * (PGlite); for callers that fold the NOTIFY into one of their own statements.
   */
  notification(event: PokeEvent): { channel: string; payload: string } | null {
    if (!this.shared) return null;
    const payload = JSON.stringify({
      i: this.instance,
      s: event.siteId,
      p: event.profileId,
      v: event.version,
    });
    return { channel: this.channel, payload };
  }

  /** Queues the cross-instance notification inside `tx`; PostgreSQL sends it on commit. */
  async notifyInTx(tx: Queryable, event: PokeEvent): Promise<void> {
    const n = this.notification(event);
    if (n) await tx.query('SELECT pg_notify($1, $2)', [n.channel, n.payload]);
  }

  /** Wakes this instance's streams; call after the commit. */
  emit(event: PokeEvent): void {
    for (const listener of [...(this.byProfile.get(event.profileId)?.keys() ?? [])]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error('poke listener failed', { error: (err as Error).message });
      }
    }
  }

  /** `listener` hears the profile's changes; `deviceId` is the device it streams to. */
  subscribe(profileId: string, listener: Listener, deviceId?: string): () => void {
    let set = this.byProfile.get(profileId);
    if (!set) {
      set = new Map();
      this.byProfile.set(profileId, set);
    }
    set.set(listener, deviceId);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byProfile.get(profileId) === set) this.byProfile.delete(profileId);
    };
  }

  /** The devices streaming the profile from this instance (whose lastSeq a poke must carry). */
  streamingDevices(profileId: string): string[] {
    return [...(this.byProfile.get(profileId)?.values() ?? [])].filter(
      (d): d is string => d !== undefined,
    );
  }

  /** Notifications sent while the listener was down are lost: every local stream re-reads. */
  private resync(): void {
    for (const profileId of [...this.byProfile.keys()]) {
      this.emit({ siteId: '', profileId, version: 0 });
    }
  }

  private receive(payload: string): void {
    let msg: { i?: unknown; s?: unknown; p?: unknown; v?: unknown };
    try {
      msg = JSON.parse(payload) as typeof msg;
    } catch {
      this.logger.warn('ignored malformed poke notification');
      return;
    }
    if (msg.i === this.instance) return;
    if (typeof msg.s !== 'string' || typeof msg.p !== 'string' || typeof msg.v !== 'number') return;
    this.emit({ siteId: msg.s, profileId: msg.p, version: msg.v });
  }
}
