// How one answer is gathered: in order, until the limit, skipping what is blocked or taken;
// and the reason a profile item gives for what it brings.
import type { Reason } from '@omnikit/protocol';
import type { EventType, ScoredItem } from './options.js';

export function reasonFor(type: EventType, sku: string): Reason {
  switch (type) {
    case 'view':
      return { code: 'because_you_viewed', sku, text: `because you viewed ${sku}` };
    case 'add_to_cart':
      return { code: 'because_in_cart', sku, text: `because ${sku} is in your cart` };
    case 'purchase':
      return { code: 'because_you_bought', sku, text: `because you bought ${sku}` };
  }
}

/** Gathers results in order until the limit, skipping blocked and already-chosen skus. */
export class Collector {
  readonly items: ScoredItem[] = [];
  private readonly taken = new Set<string>();
  private readonly soft = new Set<string>();
  private readonly limit: number;
  private readonly filter: ((sku: string) => boolean) | undefined;

  constructor(limit: number, filter?: (sku: string) => boolean) {
    this.limit = limit;
    this.filter = filter;
  }

  get full(): boolean {
    return this.items.length >= this.limit;
  }

  block(sku: string): void {
    this.taken.add(sku);
  }

  /** Blocks a sku for the personalized stage only; trending may still show it. */
  blockSoft(sku: string): void {
    this.soft.add(sku);
  }

  add(sku: string, score: number, reason: Reason): void {
    if (this.full || this.taken.has(sku)) return;
    if (reason.code.startsWith('because_') && this.soft.has(sku)) return;
    if (this.filter && !this.filter(sku)) return;
    this.taken.add(sku);
    this.items.push({ sku, score, reason });
  }
}
