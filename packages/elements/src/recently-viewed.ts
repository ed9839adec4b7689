import { LitElement, html, nothing } from 'lit';
import { property } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { ClientController } from './context.js';
import { LocalizeController } from './localize.js';
import { base, cards, listStates, productCard } from './shared.js';
import { createCatalog } from '@omnikit/sdk/catalog';

/**
 * @tag omni-recently-viewed
 * @summary The products this shopper viewed most recently, on any of their devices, as cards
 * with add to cart. Live: a view on another device appears here within moments.
 *
 * @event omni-add-to-cart - From a card's add button (`detail: { sku, qty }`).
 * @slot heading - The heading; "Recently viewed" by default.
 * @slot loading - Shown while loading, in place of the skeleton cards.
 * @slot empty - Shown when nothing was viewed yet.
 * @slot error - Shown when the products could not be loaded.
 * @csspart heading - The heading.
 * @csspart list - The list of cards.
 * @csspart card - A product card (`card skeleton` while loading).
 * @csspart image - A card's image.
 * @csspart link - A card's link to the product page.
 * @csspart title - A card's product title.
 * @csspart price - A card's price.
 * @csspart add-button - A card's add-to-cart button.
 * @cssproperty --omni-card-width - Card width (default `10rem`).
 * @cssproperty --omni-color-skeleton - Placeholder colour.
 */
export class OmniRecentlyViewed extends LitElement {
  static override styles = [base, cards];

  /** How many products at most (1 to 24). */
  @property({ type: Number }) limit = 4;
  /** Leave this product out (the one the page shows). */
  @property() exclude = '';
  /** `grid` (default) or `row` (one scrollable row). */
  @property({ reflect: true }) layout: 'grid' | 'row' = 'grid';

  private readonly client = new ClientController(this, { select: (s) => s.viewed });
  private readonly l = new LocalizeController(this);

  private readonly task = new Task(this, {
    task: async ([client, skus]) =>
      client && skus ? createCatalog(client).products.get(skus.split(' ')) : [],
    args: () => [this.client.client, this.skus()] as const,
  });

  private count() {
    return Math.min(24, Math.max(1, Math.floor(this.limit) || 4));
  }

  private skus(): string {
    return (this.client.value ?? [])
      .map((v) => v.sku)
      .filter((s) => s !== this.exclude)
      .slice(0, this.count())
      .join(' ');
  }

  override render() {
    const { t } = this.l;
    const { status, value } = this.task;
    const error = status === TaskStatus.ERROR;
    // A re-run (a new view) keeps the cards it has until the new ones arrive.
    const loading = !this.client.client || (!value && !error);
    const items = (!error && value) || [];
    return html`<h2 part="heading" id="h"><slot name="heading">${t.recentlyViewed}</slot></h2>
      ${listStates(
        t,
        { loading, error, empty: items.length === 0, count: this.count() },
        t.loadError,
      )}
      <ul
        part="list"
        aria-labelledby="h"
        tabindex=${this.layout === 'row' ? '0' : nothing}
        ?hidden=${!items.length}
      >
        ${items.map((p) => productCard(this.l, p))}
      </ul>`;
  }
}
