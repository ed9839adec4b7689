export { OmniCartButton } from './cart-button.js';
