// Registers every omnikit element. Importing this module is the only side effect of the package.
import { DEV_MODE } from '@omnikit/sdk';
import { OmniAddToCart } from './add-to-cart.js';
import { OmniCart } from './cart.js';
import { OmniCartButton } from './cart-button.js';
import { OmniHandoff } from './handoff.js';
import { OmniRecentlyViewed } from './recently-viewed.js';
import { OmniRecommendations } from './recommendations.js';
import { OmniStoreStock } from './store-stock.js';

const elements = {
  'omni-add-to-cart': OmniAddToCart,
  'omni-cart': OmniCart,
  'omni-cart-button': OmniCartButton,
  'omni-handoff': OmniHandoff,
  'omni-recently-viewed': OmniRecentlyViewed,
  'omni-recommendations': OmniRecommendations,
  'omni-store-stock': OmniStoreStock,
} as const;

/** Registers every omnikit element; safe to call more than once. */
export function defineElements(registry: CustomElementRegistry = customElements): void {
  for (const [tag, element] of Object.entries(elements)) {
    const existing = registry.get(tag);
    if (!existing) registry.define(tag, element);
    else if (DEV_MODE && existing !== element) {
      console.warn(
        `[omnikit] (dev) <${tag}> is already defined by another class; keeping that one.`,
      );
    }
  }
}

defineElements();

declare global {
  interface HTMLElementTagNameMap {
    'omni-add-to-cart': OmniAddToCart;
    'omni-cart': OmniCart;
    'omni-cart-button': OmniCartButton;
    'omni-handoff': OmniHandoff;
    'omni-recently-viewed': OmniRecentlyViewed;
    'omni-recommendations': OmniRecommendations;
    'omni-store-stock': OmniStoreStock;
  }
}
