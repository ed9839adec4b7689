import { readFile } from 'node:fs/promises';
import { importSPKI, type CryptoKey } from 'jose';
import type { MergePolicy } from '@omnikit/protocol';

/** How a site's backend signs the customer tokens given to `POST /v1/identify`. */
export type CustomerTokenKey =
  { alg: 'HS256'; secret: string } | { alg: 'RS256'; publicKey: string };

/** One tenant: a storefront with its own keys, origins and policies. */
export interface SiteConfig {
  id: string;
  /** Public key the SDK sends as `X-Omni-Key` to register devices. Not a secret. */
  publishableKey: string;
  /** Origins allowed by CORS, e.g. `https://shop.example`. */
  allowedOrigins: string[];
  /** Verification key of the brand's customer tokens; identify is refused without one. */
  customerToken?: CustomerTokenKey;
  /** Expected `iss` of customer tokens (required with `customerToken`). */
  issuer?: string;
  /** Expected `aud` of customer tokens (required with `customerToken`). */
  audience?: string;
  /** Secret for the admin API (catalog, stock). */
  adminKey?: string;
  /** Guest-to-account cart merge policy; `sum` by default. */
  mergePolicy?: MergePolicy;
  /** Handoff: the page that claims a code (`?omni_handoff=CODE` is appended). */
  handoff?: { url?: string; allowLinking?: boolean };
  /** Stock at or below this count shows as "low stock". */
  lowStockThreshold?: number;
  /** How long unused rows are kept (see `DEFAULT_RETENTION`); each field given replaces its default. */
  retention?: Partial<RetentionPolicy>;
}

/**
 * What garbage collection (`omnikit-server gc`, and the server's own schedule) deletes, in days.
 * Profiles with a customer id are never deleted by it, nor anything a device in use points to.
 */
export interface RetentionPolicy {
  /**
   * Anonymous profiles no device points to any more (left by a logout, a handoff, a guest
   * merged into an account) and no open handoff code can reach, after this long unchanged.
   */
  orphanProfileDays: number;
  /**
   * A device unseen this long is deleted (the SDK registers again and carries its local state
   * over), then its profile when that was anonymous and had no other device.
   */
  idleDeviceDays: number;
  /**
   * Sooner for a device that never changed anything: alone on an anonymous profile still at
   * version 0 (a registration flood, a visit that left nothing); the shopper loses nothing.
   */
  emptyDeviceDays: number;
  /**
   * Events older than this are deleted. Views are first folded into the co-view counts the
   * recommendations keep; purchases stay while their profile exists (a customer's history).
   */
  eventDays: number;
}

/** The retention of a site that sets none. */
export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = {
  orphanProfileDays: 1,
  idleDeviceDays: 180,
  emptyDeviceDays: 7,
  eventDays: 365,
};

const retentionKeys = Object.keys(DEFAULT_RETENTION) as (keyof RetentionPolicy)[];

const mergePolicies: readonly MergePolicy[] = ['sum', 'max', 'prefer-account', 'prefer-guest'];

/** A configuration mistake found at start; the message names the offending field. */
export class SiteConfigError extends Error {
  override readonly name = 'SiteConfigError';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

function validateSite(raw: unknown, at: string): SiteConfig {
  const fail = (field: string, why: string): never => {
    throw new SiteConfigError(`${at}.${field}: ${why}`);
  };
  if (!isObj(raw)) throw new SiteConfigError(`${at}: must be an object`);
  if (!isNonEmptyString(raw.id) || !/^[A-Za-z0-9._-]{1,64}$/.test(raw.id)) {
    fail('id', 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  }
  if (!isNonEmptyString(raw.publishableKey)) fail('publishableKey', 'must be a non-empty string');
  const origins = raw.allowedOrigins ?? [];
  if (!Array.isArray(origins)) fail('allowedOrigins', 'must be an array of origins');
  (origins as unknown[]).forEach((o, i) => {
    if (typeof o !== 'string' || !isOrigin(o)) {
      fail(
        `allowedOrigins[${i}]`,
        `${JSON.stringify(o)} is not an origin like https://shop.example`,
      );
    }
  });
  const site: SiteConfig = {
    id: raw.id as string,
    publishableKey: raw.publishableKey as string,
    allowedOrigins: origins as string[],
  };
  if (raw.customerToken !== undefined) {
    const key = raw.customerToken;
    if (!isObj(key)) fail('customerToken', 'must be {alg, secret} or {alg, publicKey}');
    const k = key as Obj;
    if (k.alg === 'HS256') {
      if (typeof k.secret !== 'string' || k.secret.length < 32) {
        fail('customerToken.secret', 'must be a string of at least 32 characters');
      }
      site.customerToken = { alg: 'HS256', secret: k.secret as string };
    } else if (k.alg === 'RS256') {
      if (!isNonEmptyString(k.publicKey) || !k.publicKey.includes('BEGIN PUBLIC KEY')) {
        fail('customerToken.publicKey', 'must be a PEM SPKI public key (BEGIN PUBLIC KEY)');
      }
      site.customerToken = { alg: 'RS256', publicKey: k.publicKey as string };
    } else {
      fail('customerToken.alg', 'must be "HS256" or "RS256"');
    }
    if (!isNonEmptyString(raw.issuer)) fail('issuer', 'is required with customerToken');
    if (!isNonEmptyString(raw.audience)) fail('audience', 'is required with customerToken');
    site.issuer = raw.issuer as string;
    site.audience = raw.audience as string;
  }
  if (raw.adminKey !== undefined) {
    if (typeof raw.adminKey !== 'string' || raw.adminKey.length < 16) {
      fail('adminKey', 'must be a string of at least 16 characters');
    }
    site.adminKey = raw.adminKey as string;
  }
  if (raw.mergePolicy !== undefined) {
    if (!mergePolicies.includes(raw.mergePolicy as MergePolicy)) {
      fail('mergePolicy', `must be one of ${mergePolicies.join(', ')}`);
    }
    site.mergePolicy = raw.mergePolicy as MergePolicy;
  }
  if (raw.handoff !== undefined) {
    if (!isObj(raw.handoff)) fail('handoff', 'must be an object {url, allowLinking}');
    const h = raw.handoff as Obj;
    if (h.url !== undefined) {
      if (typeof h.url !== 'string' || !URL.canParse(h.url)) fail('handoff.url', 'must be a URL');
    }
    if (h.allowLinking !== undefined && typeof h.allowLinking !== 'boolean') {
      fail('handoff.allowLinking', 'must be a boolean');
    }
    site.handoff = {
      ...(h.url === undefined ? {} : { url: h.url as string }),
      allowLinking: h.allowLinking === true,
    };
  }
  if (raw.lowStockThreshold !== undefined) {
    const n = raw.lowStockThreshold;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      fail('lowStockThreshold', 'must be a non-negative integer');
    }
    site.lowStockThreshold = n as number;
  }
  if (raw.retention !== undefined) {
    if (!isObj(raw.retention))
      fail('retention', `must be an object of ${retentionKeys.join(', ')}`);
    const r = raw.retention as Obj;
    const retention: Partial<RetentionPolicy> = {};
    for (const key of Object.keys(r)) {
      if (!(retentionKeys as string[]).includes(key)) {
        fail(`retention.${key}`, `is not one of ${retentionKeys.join(', ')}`);
      }
      const days = r[key];
      // Fractions allowed (hours); a ten-year cap keeps the cut-off dates representable.
      if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > 3650) {
        fail(`retention.${key}`, 'must be a number of days above 0 and at most 3650');
      }
      retention[key as keyof RetentionPolicy] = days as number;
    }
    site.retention = retention;
  }
  return site;
}

/**
 * Validates a sites configuration (an array of sites, or `{ sites: [...] }`) and returns it
 * normalized; throws a {@link SiteConfigError} naming the first bad field.
 */
export function validateSites(value: unknown): SiteConfig[] {
  const list = isObj(value) && Array.isArray(value.sites) ? value.sites : value;
  if (!Array.isArray(list)) {
    throw new SiteConfigError('sites: expected an array of sites or {"sites": [...]}');
  }
  const sites = list.map((raw, i) => validateSite(raw, `sites[${i}]`));
  const ids = new Set<string>();
  const keys = new Set<string>();
  sites.forEach((site, i) => {
    if (ids.has(site.id)) throw new SiteConfigError(`sites[${i}].id: duplicate id "${site.id}"`);
    if (keys.has(site.publishableKey)) {
      throw new SiteConfigError(`sites[${i}].publishableKey: used by another site`);
    }
    ids.add(site.id);
    keys.add(site.publishableKey);
  });
  return sites;
}

/** Reads and validates a sites JSON file. */
export async function loadSites(path: string): Promise<SiteConfig[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SiteConfigError(`${path}: cannot read (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SiteConfigError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  try {
    return validateSites(json);
  } catch (err) {
    if (err instanceof SiteConfigError) throw new SiteConfigError(`${path}: ${err.message}`);
    throw err;
  }
}

/** A site with its verification key imported once, ready for requests. */
export interface ResolvedSite {
  config: SiteConfig;
  verifyKey: CryptoKey | Uint8Array | null;
  origins: ReadonlySet<string>;
  mergePolicy: MergePolicy;
  retention: Readonly<RetentionPolicy>;
}

/** Imports each site's customer-token key so a bad PEM fails the start, not the first identify. */
export async function resolveSites(sites: SiteConfig[]): Promise<Map<string, ResolvedSite>> {
  const out = new Map<string, ResolvedSite>();
  for (const [i, config] of validateSites(sites).entries()) {
    let verifyKey: CryptoKey | Uint8Array | null = null;
    const key = config.customerToken;
    if (key?.alg === 'HS256') verifyKey = new TextEncoder().encode(key.secret);
    if (key?.alg === 'RS256') {
      try {
        verifyKey = await importSPKI(key.publicKey, 'RS256');
      } catch (err) {
        throw new SiteConfigError(
          `sites[${i}].customerToken.publicKey: not a usable RS256 key (${(err as Error).message})`,
        );
      }
    }
    out.set(config.id, {
      config,
      verifyKey,
      origins: new Set(config.allowedOrigins),
      mergePolicy: config.mergePolicy ?? 'sum',
      retention: { ...DEFAULT_RETENTION, ...config.retention },
    });
  }
  return out;
}
