// The commerce HTTP API, one module per resource: admin writes (catalog import, stores, stock),
// orders, public reads (products, stock near me, live stock) and per-profile recommendations.
import type { Hono } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { adminRoutes } from './admin.js';
import { orderRoutes } from './orders.js';
import { productRoutes } from './products.js';
import { recommendationRoutes } from './recommendations.js';
import type { CommerceRuntime } from './runtime.js';
import { stockRoutes } from './stock.js';

export type { CommerceRuntime } from './runtime.js';

export function commerceRoutes(app: Hono<AppEnv>, rt: CommerceRuntime): void {
  adminRoutes(app, rt);
  orderRoutes(app, rt);
  productRoutes(app, rt);
  stockRoutes(app, rt);
  recommendationRoutes(app, rt);
}
