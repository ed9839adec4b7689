// Pokes: "profile P is now at version N", fanned out to the event streams watching P, on this
// instance and (through the notification bus) on every other one.
import type { Snapshot } from '@omnikit/protocol';
import type { Logger } from '../logger.js';
import type { NotificationBus, Topic } from '../notify/bus.js';

/**
 * "Profile `profileId` of `siteId` is now at `version`": all a stream needs to re-read. After
 * the bus lost and regained its listening connection, every watched profile hears `siteId: ''`
 * and `version: 0` (unknown) without snapshot: changes may have been missed, re-read.
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

/** The bus topic of pokes: only the ids and the version cross instances. */
export const pokeTopic: Topic<PokeEvent> = {
  name: 'poke',
  encode: (e) => [{ s: e.siteId, p: e.profileId, v: e.version }],
  decode: (m) =>
    typeof m.s === 'string' && typeof m.p === 'string' && typeof m.v === 'number'
      ? { siteId: m.s, profileId: m.p, version: m.v }
      : undefined,
};

type Listener = (event: PokeEvent) => void;

/** The streams of this instance, by the profile they watch. */
export class PokeHub {
  private readonly byProfile = new Map<string, Map<Listener, string | undefined>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: NotificationBus,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(
      pokeTopic,
      (event) => this.dispatch(event),
      // Pokes sent while the listener was down are lost: every local stream re-reads.
      () => {
        for (const profileId of [...this.byProfile.keys()]) {
          this.dispatch({ siteId: '', profileId, version: 0 });
        }
      },
    );
  }

  stop(): void {
    this.unsubscribe?.();
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

  private dispatch(event: PokeEvent): void {
    for (const listener of [...(this.byProfile.get(event.profileId)?.keys() ?? [])]) {
      // One broken stream must not keep the poke from the others.
      try {
        listener(event);
      } catch (err) {
        this.logger.error('poke listener failed', { error: (err as Error).message });
      }
    }
  }
}
