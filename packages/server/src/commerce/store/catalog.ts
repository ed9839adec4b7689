// The product feed import shared by the admin route, the CLI and the demo seeding: parse, diff
// against the stored rows, and upsert in one transaction, never partially in silence.
import { OmniError } from '@omnikit/protocol';
import type { Db } from '../../db/index.js';
import type { NotificationBus } from '../../notify/bus.js';
import { commerceTopic } from '../core/notices.js';
import { diffCatalog, parseFeed, type FeedFormat, type RejectedRow } from '../core/feed.js';
import { readProducts, upsertProducts } from './products.js';

/** What an import did (or, when `applied` is false, would have done). */
export interface ImportReport {
  /** False when rows were rejected and the import was not partial: nothing was written. */
  applied: boolean;
  created: number;
  updated: number;
  unchanged: number;
  rejected: RejectedRow[];
}

export interface ImportOptions {
  format?: FeedFormat;
  /** Write the good rows even when some were rejected. */
  partial?: boolean;
  maxBytes?: number;
  now: number;
  /** Tells the other instances (each reloads its catalog); the caller reloads its own. */
  bus?: NotificationBus;
}

/** Imports a feed for one site; returns the report and the skus that are new to the catalog. */
export async function importFeed(
  db: Db,
  siteId: string,
  text: string,
  options: ImportOptions,
): Promise<{ report: ImportReport; createdSkus: string[] }> {
  const { products, rejected } = parseFeed(text, {
    ...(options.format ? { format: options.format } : {}),
    ...(options.maxBytes ? { limits: { maxBytes: options.maxBytes } } : {}),
  });
  if (products.length === 0 && rejected.length === 0) {
    throw new OmniError('invalid_argument', 'The feed has no product rows');
  }
  const apply = rejected.length === 0 || options.partial === true;
  return db.transaction(async (tx) => {
    // Two imports of one site run one after the other, so each diff sees the other's result.
    await tx.query('SELECT pg_advisory_xact_lock(1869440107, hashtext($1))', [`catalog:${siteId}`]);
    const stored = new Map(
      (
        await readProducts(
          tx,
          siteId,
          products.map((p) => p.sku),
        )
      ).map((p) => [p.sku, p]),
    );
    const diff = diffCatalog((sku) => stored.get(sku), products);
    const report: ImportReport = {
      applied: apply,
      created: diff.created.length,
      updated: diff.updated.length,
      unchanged: diff.unchanged.length,
      rejected,
    };
    if (!apply) return { report, createdSkus: [] };
    await upsertProducts(tx, siteId, [...diff.created, ...diff.updated], options.now);
    if (diff.created.length > 0 || diff.updated.length > 0) {
      await options.bus?.notifyInTx(tx, commerceTopic, { type: 'catalog', siteId, skus: [] });
    }
    return { report, createdSkus: diff.created.map((p) => p.sku) };
  });
}
