// The ESM page: the SDK imported as a module (an import map resolves the bare names), no script
// tag and no elements: a badge and a button driven by a dozen lines.
import { createClient } from '@omnikit/sdk';

const config = JSON.parse(document.getElementById('esm-config').textContent);
const omnikit = createClient(config);
const badge = document.getElementById('esm-count');
const button = document.getElementById('esm-add');

omnikit.subscribe(
  (s) => s.cart.count,
  (count) => (badge.textContent = String(count)),
);
// Reading the client starts nothing: start() loads the stored cart (the badge follows) and syncs.
omnikit.start().then(() => (badge.textContent = String(omnikit.cart.count)));
button.addEventListener('click', () => omnikit.cart.add(button.dataset.sku));
