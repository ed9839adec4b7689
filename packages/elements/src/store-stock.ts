import { LitElement, css, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import type { Availability, OmniError, OpeningHours, StockAnswer } from '@omnikit/sdk';
import { createCatalog, type StockNear } from '@omnikit/sdk/catalog';
import { ClientController } from './context.js';
import { LocalizeController } from './localize.js';
import { base, emit } from './shared.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/**
 * @tag omni-store-stock
 * @summary "Pick up near me": the stores' stock of one product, stores with stock first, in
 * honest bands (a count when few are left), with distance, today's opening hours and how old
 * each figure is. The shopper's position is asked only when they press "Use my location"; a
 * postcode works too. Choosing a store makes it the cart's pickup store (on every device). The
 * figures update live.
 *
 * @event omni-store-select - The shopper chose a pickup store (`detail: { storeId }`).
 * @slot heading - The heading; "Pick up near me" by default.
 * @slot loading - Shown while the stock loads, in place of the placeholder rows.
 * @slot empty - Shown when the site has no stores.
 * @slot error - Shown when the stock could not be loaded (or the postcode is unknown).
 * @csspart heading - The heading.
 * @csspart locate - The "Use my location" button.
 * @csspart postcode - The postcode form.
 * @csspart stores - The scrollable list of stores.
 * @csspart store - One store (`store chosen` for the pickup store).
 * @csspart band - A store's availability.
 * @csspart choose - A store's "Pick up here" button.
 * @csspart online - Online availability.
 * @cssproperty --omni-stock-height - Height of the store list (default `20rem`); it scrolls.
 * @cssproperty --omni-color-success - "In stock".
 * @cssproperty --omni-color-warning - "Low stock".
 * @cssproperty --omni-color-danger - "Out of stock".
 */
export class OmniStoreStock extends LitElement {
  static override styles = [
    base,
    css`
      form,
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: end;
      }
      .controls {
        margin-block-end: var(--_gap);
      }
      label {
        display: flex;
        flex-direction: column;
        font-size: 0.9em;
      }
      input {
        font: inherit;
        inline-size: 9ch;
        min-block-size: 2.25rem;
        padding-inline: 0.4em;
        border: 1px solid var(--_muted);
        border-radius: var(--_radius);
      }
      .box {
        block-size: var(--omni-stock-height, 20rem);
        overflow-y: auto;
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto;
        grid-template-rows: repeat(3, 1.4em);
        column-gap: var(--_gap);
        align-items: center;
        padding: 0.5rem 0.75rem;
        border-block-end: 1px solid var(--_border);
      }
      li > button,
      li > .chosen {
        grid-column: 2;
        grid-row: 1 / 4;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        min-inline-size: 0;
        white-space: nowrap;
      }
      .row > * {
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .name {
        font-weight: 600;
      }
      [data-band='in_stock'] {
        color: var(--_success);
      }
      [data-band='low_stock'] {
        color: var(--_warning);
      }
      [data-band='out_of_stock'] {
        color: var(--_danger);
      }
      .chosen {
        font-weight: 600;
        color: var(--_success);
      }
      [part~='online'] {
        margin: 0.5rem 0 0;
        line-height: 1.4;
        min-block-size: 1.4em;
      }
      .message {
        margin: 0.75rem;
      }
    `,
  ];

  /** The product. */
  @property() sku = '';

  @state() private origin: StockNear | null = null;
  @state() private locating = false;
  @state() private noLocation = false;
  /** The latest answer of the live stream, newer than the first fetch. */
  @state() private live: StockAnswer | null = null;

  private readonly client = new ClientController(this, { select: (s) => s.cart.pickupStore });
  private readonly l = new LocalizeController(this);
  private watching = '';
  private unwatch: (() => void) | undefined;
  /** Re-renders the "as of" ages once a minute. */
  private ticker: ReturnType<typeof setInterval> | undefined;

  private readonly answer = new Task(this, {
    task: async ([client, sku, origin]) => {
      if (!client || !sku) return null;
      return createCatalog(client).stock.near({ sku, ...origin });
    },
    args: () => [this.client.client, this.sku, this.origin] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.ticker = setInterval(() => this.requestUpdate(), 60_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.ticker);
    this.unwatch?.();
    this.unwatch = undefined;
    this.watching = '';
  }

  protected override willUpdate(): void {
    // One live stream for the current product and origin, opened once the first answer is in.
    // (Here rather than in updated(): resetting `live` then would cost a second render.)
    const client = this.client.client;
    const key =
      client && this.sku && this.answer.value ? JSON.stringify([this.sku, this.origin]) : '';
    if (key === this.watching) return;
    this.unwatch?.();
    this.unwatch = undefined;
    this.watching = key;
    this.live = null;
    if (key && client) {
      this.unwatch = createCatalog(client).stock.watch(
        [this.sku],
        (a) => {
          if (a.sku === this.sku) this.live = a;
        },
        {
          near: this.origin ?? undefined,
          // A watch the server refused answers no more: the first answer stands.
          onError: (e) => {
            if (!e.retryable) this.live = null;
          },
        },
      );
    }
  }

  private handleLocate() {
    this.noLocation = false;
    const geo = navigator.geolocation;
    if (!geo) {
      this.noLocation = true;
      return;
    }
    this.locating = true;
    // The browser asks for permission only now, after the shopper pressed the button.
    geo.getCurrentPosition(
      (pos) => {
        this.locating = false;
        this.origin = {
          lat: Math.round(pos.coords.latitude * 1e4) / 1e4,
          lng: Math.round(pos.coords.longitude * 1e4) / 1e4,
        };
      },
      () => {
        this.locating = false;
        this.noLocation = true;
      },
      { maximumAge: 600_000, timeout: 15_000 },
    );
  }

  private handlePostcode(e: SubmitEvent) {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('postal');
    const postal = (input as HTMLInputElement | null)?.value.trim();
    this.noLocation = false;
    if (postal) this.origin = { postal };
  }

  private async handleChoose(storeId: string) {
    emit(this, 'omni-store-select', { storeId });
    await this.client.client?.cart.setPickupStore(storeId);
  }

  private band(a: Availability) {
    const { t } = this.l;
    const text =
      a.band === 'in_stock'
        ? t.inStock
        : a.band === 'low_stock'
          ? t.lowStock(a.count)
          : t.outOfStock;
    return html`<span part="band" data-band=${a.band}>${text}</span>`;
  }

  private today(hours: OpeningHours) {
    const { t } = this.l;
    const ranges = hours[DAYS[new Date().getDay()]!] ?? [];
    return ranges.length ? t.openToday(ranges.join(', ').replace(/-/g, '–')) : t.closedToday;
  }

  private renderStores(answer: StockAnswer) {
    const { t } = this.l;
    const chosen = this.client.value;
    return html`<ul aria-label=${t.stores}>
      ${answer.stores.map((s) => {
        const a = s.store.address;
        const isChosen = s.store.id === chosen;
        return html`<li part=${isChosen ? 'store chosen' : 'store'} data-store=${s.store.id}>
          <span class="row">
            <span class="name">${s.store.name}</span>${this.band(s.availability)}
          </span>
          <span class="row muted">
            <span>${[a.line1, a.city, a.postcode].filter(Boolean).join(', ')}</span>
            ${s.distanceKm === null ? nothing : html`<span>${t.away(this.l.distance(s.distanceKm))}</span>`}
          </span>
          <span class="row muted">
            <span>${this.today(s.store.hours)}</span>
            <span>${t.asOf(s.updatedAt === null ? t.notReported : this.l.ago(s.updatedAt))}</span>
          </span>
          ${
            isChosen
              ? html`<span class="chosen">${t.pickupStore}</span>`
              : s.store.pickup
                ? html`<button part="choose" @click=${() => this.handleChoose(s.store.id)}>
                    ${t.pickHere}<span class="sr-only">: ${s.store.name}</span>
                  </button>`
                : nothing
          }
        </li>`;
      })}
    </ul>`;
  }

  override render() {
    const { t } = this.l;
    const { status, error } = this.answer;
    const answer = this.live ?? this.answer.value ?? null;
    const failed = status === TaskStatus.ERROR;
    const loading = !failed && (!answer || status === TaskStatus.PENDING);
    const badPostcode =
      failed &&
      !!this.origin?.postal &&
      (error as OmniError | undefined)?.code === 'invalid_argument';
    return html`<h2 part="heading"><slot name="heading">${t.pickUpNearMe}</slot></h2>
      <div class="controls">
        <button part="locate" ?disabled=${this.locating} @click=${this.handleLocate}>
          ${this.locating ? t.locating : t.useLocation}
        </button>
        <form part="postcode" @submit=${this.handlePostcode}>
          <label>${t.postcode}<input name="postal" autocomplete="postal-code" required /></label>
          <button type="submit">${t.find}</button>
        </form>
      </div>
      <p class="muted" role="status">${this.noLocation ? t.noLocation : ''}</p>
      <div
        class="box"
        part="stores"
        role="region"
        tabindex="0"
        aria-label=${t.stores}
        aria-busy=${loading}
      >
        <div ?hidden=${!loading}>
          <slot name="loading">
            <span class="sr-only">${t.loading}</span>
            <ul aria-hidden="true">
              ${[0, 1, 2].map(
                () =>
                  html`<li>
                    <span class="bone"></span><span class="bone"></span><span class="bone"></span>
                  </li>`,
              )}
            </ul>
          </slot>
        </div>
        <div ?hidden=${!failed}>
          <slot name="error">
            <p class="message">${badPostcode ? t.badPostcode : t.loadError}</p>
          </slot>
        </div>
        <div ?hidden=${loading || failed || !!answer?.stores.length}>
          <slot name="empty"><p class="message muted">${t.noItems}</p></slot>
        </div>
        ${!loading && !failed && answer ? this.renderStores(answer) : nothing}
      </div>
      <p part="online">
        ${answer && !failed ? html`${t.online}: ${this.band(answer.online.availability)}` : ''}
      </p>`;
  }
}

declare global {
  interface HTMLElementEventMap {
    'omni-store-select': CustomEvent<{ storeId: string }>;
  }
}
