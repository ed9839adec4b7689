// The demo shop's own page code: the devices panel, the stand-in sign-in and the store kiosk.
// Everything omnikit does here goes through the client the script tag created (window.omnikit);
// text from the server is set with textContent, never as HTML.

/** The client of the omnikit script tag, once it exists. */
const client = () =>
  window.omnikit?.cart
    ? Promise.resolve(window.omnikit)
    : new Promise((resolve) =>
        document.addEventListener('omnikit:ready', () => resolve(window.omnikit), { once: true }),
      );

const $ = (selector) => document.querySelector(selector);
const strings = () => JSON.parse($('#strings')?.textContent ?? '{}');
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

/** Shows this device's id, profile, customer and sync state, live. */
function devicesPanel(omnikit) {
  const panel = $('#devices');
  if (!panel) return;
  const show = (s) => {
    const values = {
      deviceId: s.identity.deviceId ?? '—',
      profileId: s.identity.profileId ?? '—',
      customerId: s.identity.customerId ?? 'guest',
      state: s.status.state,
      pending: String(s.status.pending),
      storage: s.status.storage,
    };
    for (const [field, value] of Object.entries(values)) {
      const dd = panel.querySelector(`[data-field="${field}"]`);
      if (dd) dd.textContent = value;
    }
  };
  show(omnikit.state);
  omnikit.subscribe((s) => s, show);
}

/** The cart button opens the drawer (on pages that have one). */
function cartDrawer() {
  const drawer = $('#cart-drawer');
  if (!drawer) return;
  document.addEventListener('omni-cart-open', () => drawer.show?.());
}

function signInPage(omnikit) {
  const form = $('#sign-in');
  if (!form) return;
  const t = strings();
  const who = $('#who');
  const out = $('#sign-out');
  const show = (customer) => {
    who.textContent = customer ? t.signedInAs.replace('{c}', customer) : t.signedOut;
    out.hidden = !customer;
  };
  show(omnikit.state.identity.customerId);
  omnikit.subscribe((s) => s.identity.customerId, show);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const res = await fetch('/demo/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: form.customer.value }),
    });
    if (!res.ok) {
      who.textContent = `${res.status} ${res.statusText}`;
      return;
    }
    const { token } = await res.json();
    await omnikit.identity.identify(token);
  });
  out.addEventListener('click', () => omnikit.identity.logout());
}

/** A code typed in, or the whole handoff URL (a QR scanner types the URL). */
function handoffCode(input) {
  const text = input.trim();
  try {
    return new URL(text).searchParams.get('omni_handoff') ?? text;
  } catch {
    return text;
  }
}

function kioskPage(omnikit) {
  const form = $('#claim');
  if (!form) return;
  const t = strings();
  const status = $('#kiosk-status');
  const list = $('#kiosk-lines');
  const pickup = $('#pickup');
  const show = (cart) => {
    $('#kiosk-empty').hidden = cart.lines.length > 0;
    list.replaceChildren(
      ...cart.lines.map((line) => {
        const options = Object.values(line.options ?? {}).join(', ');
        const collect = el('button', { type: 'button', textContent: t.markCollected });
        collect.addEventListener('click', () => {
          $('#collected').append(el('li', { textContent: `${line.qty} × ${line.sku}` }));
          omnikit.cart.remove(line.sku, line.options);
        });
        const qty = el('input', {
          type: 'number',
          min: '0',
          max: '999',
          value: String(line.qty),
          ariaLabel: `${line.sku} qty`,
        });
        qty.addEventListener('change', () =>
          omnikit.cart.setQuantity(line.sku, Number(qty.value), line.options),
        );
        const li = el(
          'li',
          {},
          el('span', { textContent: options ? `${line.sku} (${options})` : line.sku }),
          qty,
          collect,
        );
        li.dataset.sku = line.sku;
        return li;
      }),
    );
    pickup.value = cart.pickupStore ?? '';
  };
  show(omnikit.state.cart);
  omnikit.subscribe((s) => s.cart, show);
  pickup.addEventListener('change', () => omnikit.cart.setPickupStore(pickup.value || null));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const mode = await omnikit.identity.claimHandoff(handoffCode(form.code.value));
      status.textContent = mode;
      form.reset();
    } catch (e) {
      status.textContent = e.message;
    }
  });
  $('#next-customer').addEventListener('click', async () => {
    await omnikit.identity.logout();
    $('#collected').replaceChildren();
  });
}

cartDrawer();
client().then((omnikit) => {
  devicesPanel(omnikit);
  signInPage(omnikit);
  kioskPage(omnikit);
});
