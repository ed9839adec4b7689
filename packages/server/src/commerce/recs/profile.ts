// Builds the model's view of a profile from the replicated profile state (all devices) plus the
// profile's purchases (web orders and store purchases recorded for the customer).
import type { ProfileState } from '@omnikit/protocol';
import type { ProfileItems, TimedSku } from './model.js';

/** The recommendation input for one profile: its views, its cart (by last change) and purchases. */
export function profileItems(
  state: Pick<ProfileState, 'cart' | 'viewed'>,
  purchased: readonly TimedSku[] = [],
): ProfileItems {
  return {
    viewed: state.viewed.map((v) => ({ sku: v.sku, at: v.at })),
    // The last change says how fresh the shopper's interest is, not the first add.
    cart: state.cart.lines.map((line) => ({ sku: line.sku, at: line.updatedAt })),
    purchased: [...purchased],
  };
}
