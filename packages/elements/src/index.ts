// The element classes (no side effects: import '@omnikit/elements/define' to register the tags),
// the client context and the localize controller.
export { OmniAddToCart } from './add-to-cart.js';
export { OmniCart } from './cart.js';
export { OmniCartButton } from './cart-button.js';
export { OmniHandoff } from './handoff.js';
export { OmniRecentlyViewed } from './recently-viewed.js';
export { OmniRecommendations } from './recommendations.js';
export { OmniStoreStock } from './store-stock.js';
export {
  ClientController,
  clientContext,
  provideClient,
  type ClientControllerOptions,
} from './context.js';
export { LocalizeController, setDefaultLanguage } from './localize.js';
export type { Lang, Strings } from './strings.js';
export type { QrEncoder, QrPath } from './qr-load.js';
