// What the commerce routes share, built once per server by `commerceExtension`.
import type { ExtensionContext } from '../../extension.js';
import type { SiteConfig } from '../../config/sites.js';
import type { SiteModels } from '../models.js';
import type { StockStreams } from './stock-streams.js';

export interface CommerceRuntime {
  ctx: ExtensionContext;
  models: SiteModels;
  streams: StockStreams;
  /** Seeding and warm-up; every handler waits for it. */
  ready: Promise<void>;
  importMaxBytes: number;
  productsMaxAgeSeconds: number;
  defaultLowStockThreshold: number;
  /** Stops hearing commerce notices (the extension closing). */
  stopListening(): void;
}

/** The site's "low stock" threshold, or the extension's default. */
export function lowThreshold(rt: CommerceRuntime, site: SiteConfig): number {
  return site.lowStockThreshold ?? rt.defaultLowStockThreshold;
}
