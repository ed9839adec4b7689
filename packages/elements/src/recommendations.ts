import { LitElement, html, nothing } from 'lit';
import { property } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import type { OmniClient, Recommendation, Strategy } from '@omnikit/sdk';
import { ClientController } from './context.js';
import { LocalizeController } from './localize.js';
import { base, cards, listStates, productCard } from './shared.js';
import { createCatalog } from '@omnikit/sdk/catalog';

/** Loads recommendations; when the asked strategy fails, the server's own last resort (trending). */
async function load(
  client: OmniClient,
  strategy: Strategy,
  sku: string,
  limit: number,
): Promise<{ items: Recommendation[]; anchors: Map<string, string> }> {
  const query = { strategy, limit, ...(sku ? { sku } : {}) };
  let items: Recommendation[];
  try {
    items = await client.recommendations.get(query);
  } catch (e) {
    // Never random items: the fallback is the same ranked trending list the server ends in.
    if (strategy === 'trending' || strategy === 'recently-viewed') throw e;
    items = await client.recommendations.get({ strategy: 'trending', limit });
  }
  // Reasons name their anchor product: fetch the anchors' titles (cached by the SDK).
  const anchorSkus = [...new Set(items.flatMap((i) => (i.reason.sku ? [i.reason.sku] : [])))];
  const anchors = new Map<string, string>();
  if (anchorSkus.length) {
    const found = await createCatalog(client)
      .products.get(anchorSkus)
      .catch(() => []);
    for (const p of found) anchors.set(p.sku, p.title);
  }
  return { items, anchors };
}

/**
 * @tag omni-recommendations
 * @summary Personalized product recommendations as cards (a grid, or a scrollable row with
 * `layout="row"`), each saying why it is shown, with add to cart. A skeleton of `limit` cards
 * holds the space while loading. If the strategy fails it falls back to trending items; if that
 * fails too it shows the `error` slot (empty by default, so the element collapses): never
 * random items.
 *
 * @event omni-add-to-cart - From a card's add button (`detail: { sku, qty }`).
 * @slot heading - The heading; "Recommended for you" by default.
 * @slot loading - Shown while loading, in place of the skeleton cards.
 * @slot empty - Shown when there is nothing to recommend.
 * @slot error - Shown when recommendations could not be loaded; empty by default.
 * @csspart heading - The heading.
 * @csspart list - The list of cards.
 * @csspart card - A product card (`card skeleton` while loading).
 * @csspart image - A card's image.
 * @csspart link - A card's link to the product page.
 * @csspart title - A card's product title.
 * @csspart price - A card's price.
 * @csspart reason - Why the item is shown.
 * @csspart add-button - A card's add-to-cart button.
 * @cssproperty --omni-card-width - Card width (default `10rem`).
 * @cssproperty --omni-color-accent - Buttons and focus rings.
 * @cssproperty --omni-color-skeleton - Placeholder colour.
 */
export class OmniRecommendations extends LitElement {
  static override styles = [base, cards];

  /** `personalized` (default), `also-bought`, `also-viewed`, `trending` or `recently-viewed`. */
  @property() strategy: Strategy = 'personalized';
  /** The anchor product (`also-bought`, `also-viewed`). */
  @property() sku = '';
  /** How many items (1 to 24). */
  @property({ type: Number }) limit = 4;
  /** `grid` (default) or `row` (one scrollable row). */
  @property({ reflect: true }) layout: 'grid' | 'row' = 'grid';

  // The cart's lines are excluded by the server: a change of cart asks again.
  private readonly client = new ClientController(this, {
    select: (s) => s.cart.lines.map((l) => l.sku).join(' '),
  });
  private readonly l = new LocalizeController(this);

  private readonly task = new Task(this, {
    task: async ([client, strategy, sku, limit]) =>
      client ? load(client, strategy, sku, limit) : { items: [], anchors: new Map() },
    args: () =>
      [this.client.client, this.strategy, this.sku, this.count(), this.client.value] as const,
  });

  private count() {
    return Math.min(24, Math.max(1, Math.floor(this.limit) || 4));
  }

  override render() {
    const { t } = this.l;
    const { status, value } = this.task;
    // Until the client arrives and has answered, the skeleton holds the space.
    const error = status === TaskStatus.ERROR;
    // A re-run (the cart changed) keeps the cards it has until the new ones arrive.
    const loading = !this.client.client || (!value && !error);
    const items = (!error && value?.items) || [];
    const reason = (r: Recommendation['reason']) =>
      t.reason[r.code](r.sku ? (value?.anchors.get(r.sku) ?? r.sku) : '');
    return html`<h2 part="heading" id="h">
        <slot name="heading">${t.recommended}</slot>
      </h2>
      ${listStates(t, { loading, error, empty: items.length === 0, count: this.count() })}
      <ul
        part="list"
        aria-labelledby="h"
        tabindex=${this.layout === 'row' ? '0' : nothing}
        ?hidden=${!items.length}
      >
        ${items.map((i) => productCard(this.l, i.product, reason(i.reason)))}
      </ul>`;
  }
}
