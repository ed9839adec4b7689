// The demo storefront's pages, rendered on the demo server as a brand's own site would render
// them: plain HTML, the omnikit script tag and <omni-*> tags, no framework. Every value from the
// catalog goes through `esc` (product names are data, not markup).

/** Strings of the storefront's own chrome, in English and Korean (the elements bring theirs). */
const STRINGS = {
  en: {
    shop: 'omnikit demo shop',
    skip: 'Skip to content',
    search: 'Search',
    searchLabel: 'Search the catalog',
    categories: 'Categories',
    cart: 'Cart',
    signIn: 'Sign in',
    kiosk: 'Store kiosk',
    esm: 'npm / ESM usage',
    home: 'Home',
    heroTitle: 'Gifts, home and kitchen, one cart everywhere',
    heroText:
      'Add to cart on this device, carry on in another browser, pick up in a store. Open this page in a second browser (or a private window) and sign in as the same customer to watch the cart follow you.',
    trending: 'Trending now',
    forYou: 'Picked for you',
    recent: 'Recently viewed',
    boughtTogether: 'Often bought together',
    stockNear: 'Pick up in a store',
    results: (n, q) => `${n} result${n === 1 ? '' : 's'} for “${q}”`,
    noResults: 'Nothing matched. Try another word, such as “mug” or “lantern”.',
    products: (n) => `${n} product${n === 1 ? '' : 's'}`,
    page: (p, n) => `Page ${p} of ${n}`,
    prev: 'Previous',
    next: 'Next',
    notFound: 'This page does not exist.',
    backHome: 'Back to the shop',
    yourCart: 'Your cart',
    signInTitle: 'Sign in',
    signInText:
      'This stands in for the brand’s own login: the demo server signs a short-lived customer token, and omnikit links this device to that customer’s profile (merging the guest cart by the site’s policy).',
    customer: 'Customer',
    signInButton: 'Sign in',
    signOut: 'Sign out',
    signedInAs: (c) => `Signed in as ${c}.`,
    signedOut: 'You are browsing as a guest.',
    kioskTitle: 'Store kiosk',
    kioskText:
      'What a store tablet shows after scanning a customer’s handoff QR code: their cart and pickup store. Staff can mark lines as collected or adjust them.',
    code: 'Handoff code or URL',
    open: 'Open cart',
    pickup: 'Pickup store',
    none: 'None chosen',
    markCollected: 'Mark collected',
    nextCustomer: 'Done, next customer',
    collectedList: 'Collected today',
    emptyKiosk: 'No customer cart open. Scan a QR code or enter a code.',
    devices: 'This device',
    language: 'Language',
    attribution:
      'Product names, prices and order history: UCI “Online Retail” dataset, Chen, Sain and Guo (2012), CC BY 4.0. Stores and stock are invented for the demo.',
    esmTitle: 'Using the SDK from npm',
    esmText:
      'This page loads no script tag: it imports @omnikit/sdk as an ES module (resolved here by an import map) and drives the same cart with a few lines of code.',
  },
  ko: {
    shop: 'omnikit 데모 상점',
    skip: '본문으로 건너뛰기',
    search: '검색',
    searchLabel: '상품 검색',
    categories: '카테고리',
    cart: '장바구니',
    signIn: '로그인',
    kiosk: '매장 키오스크',
    esm: 'npm / ESM 사용법',
    home: '홈',
    heroTitle: '선물, 리빙, 주방용품. 어디서나 하나의 장바구니',
    heroText:
      '이 기기에서 장바구니에 담고, 다른 브라우저에서 이어서 쇼핑하고, 매장에서 받아 가세요. 다른 브라우저(또는 시크릿 창)에서 이 페이지를 열고 같은 고객으로 로그인하면 장바구니가 따라오는 것을 볼 수 있습니다.',
    trending: '지금 인기 상품',
    forYou: '회원님을 위한 추천',
    recent: '최근 본 상품',
    boughtTogether: '함께 구매한 상품',
    stockNear: '매장 픽업',
    results: (n, q) => `“${q}” 검색 결과 ${n}개`,
    noResults: '일치하는 상품이 없습니다. “mug”나 “lantern” 같은 다른 단어로 검색해 보세요.',
    products: (n) => `상품 ${n}개`,
    page: (p, n) => `${n}페이지 중 ${p}페이지`,
    prev: '이전',
    next: '다음',
    notFound: '페이지를 찾을 수 없습니다.',
    backHome: '상점으로 돌아가기',
    yourCart: '장바구니',
    signInTitle: '로그인',
    signInText:
      '브랜드 자체 로그인을 대신하는 페이지입니다. 데모 서버가 짧은 유효기간의 고객 토큰에 서명하면 omnikit이 이 기기를 해당 고객 프로필에 연결합니다(비회원 장바구니는 사이트 정책에 따라 합쳐집니다).',
    customer: '고객',
    signInButton: '로그인',
    signOut: '로그아웃',
    signedInAs: (c) => `${c}(으)로 로그인했습니다.`,
    signedOut: '비회원으로 둘러보는 중입니다.',
    kioskTitle: '매장 키오스크',
    kioskText:
      '고객의 핸드오프 QR 코드를 스캔한 뒤 매장 태블릿에 보이는 화면입니다: 고객의 장바구니와 픽업 매장. 직원이 상품을 수령 완료로 표시하거나 수량을 조정할 수 있습니다.',
    code: '핸드오프 코드 또는 URL',
    open: '장바구니 열기',
    pickup: '픽업 매장',
    none: '선택 안 함',
    markCollected: '수령 완료로 표시',
    nextCustomer: '완료, 다음 고객',
    collectedList: '오늘 수령 완료',
    emptyKiosk: '열린 고객 장바구니가 없습니다. QR 코드를 스캔하거나 코드를 입력하세요.',
    devices: '이 기기',
    language: '언어',
    attribution:
      '상품명, 가격, 주문 내역: UCI “Online Retail” 데이터셋, Chen, Sain, Guo (2012), CC BY 4.0. 매장과 재고는 데모용으로 만든 것입니다.',
    esmTitle: 'npm으로 SDK 사용하기',
    esmText:
      '이 페이지는 스크립트 태그를 불러오지 않습니다. @omnikit/sdk를 ES 모듈로 가져와(여기서는 import map으로 해석) 몇 줄의 코드로 같은 장바구니를 다룹니다.',
  },
};

export const LANGS = /** @type {const} */ (['en', 'ko']);
const PAGE_SIZE = 24;

/** Escapes text for HTML element content and double-quoted attribute values. */
export const esc = (value) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

export const slug = (category) =>
  category
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/**
 * Everything the pages need from the catalog: products by sku, categories by slug, and a
 * search over titles (every word of the query must start a word of the title, case-insensitive).
 */
export function indexCatalog(products) {
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const categories = new Map();
  for (const p of products) {
    const s = slug(p.category);
    if (!categories.has(s)) categories.set(s, { name: p.category, products: [] });
    categories.get(s).products.push(p);
  }
  const words = new Map(products.map((p) => [p.sku, p.title.toLowerCase().split(/[^a-z0-9]+/)]));
  const search = (query) => {
    const terms = query
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
    if (!terms.length) return [];
    return products.filter((p) => {
      const w = words.get(p.sku);
      return terms.every((t) => w.some((x) => x.startsWith(t)));
    });
  };
  return { bySku, categories, search };
}

/**
 * The page shell. `config` carries what the script tag needs (API URL, key, currency) and the
 * language; `path` is the current page's path (for the language switch's way back).
 */
function layout(config, { title, path, body, scripts = '', head = '', omnikit = true }) {
  const t = STRINGS[config.lang];
  const other = config.lang === 'en' ? 'ko' : 'en';
  const nav = [...config.catalog.categories]
    .map(([s, c]) => `<li><a href="/c/${s}">${esc(c.name)}</a></li>`)
    .join('');
  const tag = omnikit
    ? `<script src="/omnikit.min.js" data-endpoint="${esc(config.apiUrl)}" data-key="${esc(config.publishableKey)}" data-locale="${config.lang}" data-currency="${esc(config.currency)}" data-track-views async></script>`
    : '';
  return `<!doctype html>
<html lang="${config.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · ${esc(t.shop)}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/shop.css">
${head}
${tag}
<script type="module" src="/shop.js"></script>
</head>
<body>
<a class="skip" href="#main">${esc(t.skip)}</a>
<header class="top">
  <a class="brand" href="/">${esc(t.shop)}</a>
  <form class="search" action="/search" role="search">
    <label class="visually-hidden" for="q">${esc(t.searchLabel)}</label>
    <input id="q" name="q" type="search" placeholder="${esc(t.searchLabel)}" value="${esc(config.query ?? '')}">
    <button type="submit">${esc(t.search)}</button>
  </form>
  <nav class="account" aria-label="${esc(t.shop)}">
    <a href="/signin.html" id="account-link">${esc(t.signIn)}</a>
    <a href="/lang?to=${other}&amp;back=${encodeURIComponent(path)}" lang="${other}" hreflang="${other}" aria-label="${esc(t.language)}: ${other === 'ko' ? '한국어' : 'English'}">${other === 'ko' ? '한국어' : 'English'}</a>
    ${omnikit ? `<omni-cart-button></omni-cart-button>` : ''}
  </nav>
</header>
<nav class="categories" aria-label="${esc(t.categories)}"><ul>${nav}</ul></nav>
<main id="main">
${body}
</main>
${omnikit ? `<omni-cart variant="drawer" id="cart-drawer"></omni-cart>` : ''}
<footer>
  <p>${esc(t.attribution)}</p>
  <p><a href="/cart.html">${esc(t.cart)}</a> · <a href="/kiosk.html">${esc(t.kiosk)}</a> · <a href="/esm.html">${esc(t.esm)}</a></p>
</footer>
${omnikit ? devicesPanel(t) : ''}
${scripts}
</body>
</html>`;
}

function devicesPanel(t) {
  return `<details class="devices" id="devices">
  <summary>${esc(t.devices)}</summary>
  <dl>
    <dt>device</dt><dd data-field="deviceId">…</dd>
    <dt>profile</dt><dd data-field="profileId">…</dd>
    <dt>customer</dt><dd data-field="customerId">…</dd>
    <dt>sync</dt><dd data-field="state">…</dd>
    <dt>pending</dt><dd data-field="pending">…</dd>
    <dt>storage</dt><dd data-field="storage">…</dd>
  </dl>
</details>`;
}

function card(p, config) {
  return `<li class="card">
  <a href="/product.html?sku=${encodeURIComponent(p.sku)}">
    <img src="${esc(p.image)}" alt="" width="400" height="400" loading="lazy">
    <span class="title">${esc(p.title)}</span>
  </a>
  <span class="price">${esc(config.price(p.price))}</span>
  <omni-add-to-cart sku="${esc(p.sku)}"></omni-add-to-cart>
</li>`;
}

function grid(list, config) {
  return `<ul class="grid">${list.map((p) => card(p, config)).join('')}</ul>`;
}

function pager(config, base, page, total) {
  const t = STRINGS[config.lang];
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages === 1) return '';
  const link = (p, label, rel) =>
    `<a href="${base}${base.includes('?') ? '&amp;' : '?'}page=${p}" rel="${rel}">${esc(label)}</a>`;
  return `<nav class="pager" aria-label="${esc(t.page(page, pages))}">
${page > 1 ? link(page - 1, t.prev, 'prev') : '<span></span>'}
<span>${esc(t.page(page, pages))}</span>
${page < pages ? link(page + 1, t.next, 'next') : '<span></span>'}
</nav>`;
}

const slice = (list, page) => list.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);

export function homePage(config) {
  const t = STRINGS[config.lang];
  return layout(config, {
    title: t.home,
    path: '/',
    body: `<section class="hero">
  <h1>${esc(t.heroTitle)}</h1>
  <p>${esc(t.heroText)}</p>
</section>
<omni-recently-viewed limit="8"><span slot="heading">${esc(t.recent)}</span></omni-recently-viewed>
<omni-recommendations strategy="personalized" limit="8"><span slot="heading">${esc(t.forYou)}</span></omni-recommendations>
<omni-recommendations strategy="trending" limit="8"><span slot="heading">${esc(t.trending)}</span></omni-recommendations>`,
  });
}

export function categoryPage(config, s, page) {
  const t = STRINGS[config.lang];
  const c = config.catalog.categories.get(s);
  if (!c) return null;
  return layout(config, {
    title: c.name,
    path: `/c/${s}`,
    body: `<h1>${esc(c.name)}</h1>
<p class="count">${esc(t.products(c.products.length))}</p>
${grid(slice(c.products, page), config)}
${pager(config, `/c/${s}`, page, c.products.length)}`,
  });
}

export function searchPage(config, query, page) {
  const t = STRINGS[config.lang];
  const found = config.catalog.search(query);
  const path = `/search?q=${encodeURIComponent(query)}`;
  return layout(
    { ...config, query },
    {
      title: `${t.search}: ${query}`,
      path,
      body: `<h1>${esc(t.results(found.length, query))}</h1>
${found.length ? grid(slice(found, page), config) : `<p>${esc(t.noResults)}</p>`}
${pager(config, esc(path), page, found.length)}`,
    },
  );
}

export function productPage(config, sku) {
  const t = STRINGS[config.lang];
  const p = config.catalog.bySku.get(sku);
  if (!p) return null;
  const attrs = Object.entries(p.attributes ?? {})
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('');
  // The SDK reads the page's product from its JSON-LD (data-track-views): no page code.
  const jsonLd = JSON.stringify({
    '@context': 'https://schema.org',
    '@type': 'Product',
    sku: p.sku,
    name: p.title,
    image: p.image,
    offers: {
      '@type': 'Offer',
      price: (p.price / config.minorPerMajor).toFixed(String(config.minorPerMajor).length - 1),
      priceCurrency: p.currency,
    },
  }).replace(/</g, '\\u003c');
  return layout(config, {
    title: p.title,
    path: `/product.html?sku=${encodeURIComponent(sku)}`,
    head: `<script type="application/ld+json">${jsonLd}</script>`,
    body: `<nav class="crumbs" aria-label="breadcrumb"><a href="/">${esc(t.home)}</a> › <a href="/c/${slug(p.category)}">${esc(p.category)}</a></nav>
<article class="product">
  <img src="${esc(p.image)}" alt="${esc(p.title)}" width="400" height="400">
  <div>
    <h1>${esc(p.title)}</h1>
    <p class="price">${esc(config.price(p.price))}</p>
    <p>${esc(p.description)}</p>
    ${attrs ? `<dl class="attrs">${attrs}</dl>` : ''}
    <omni-add-to-cart sku="${esc(p.sku)}"></omni-add-to-cart>
    <omni-store-stock sku="${esc(p.sku)}"><span slot="heading">${esc(t.stockNear)}</span></omni-store-stock>
  </div>
</article>
<omni-recommendations strategy="also-bought" sku="${esc(p.sku)}" limit="6"><span slot="heading">${esc(t.boughtTogether)}</span></omni-recommendations>`,
  });
}

export function cartPage(config) {
  const t = STRINGS[config.lang];
  return layout(config, {
    title: t.yourCart,
    path: '/cart.html',
    body: `<h1>${esc(t.yourCart)}</h1>
<omni-cart></omni-cart>
<omni-recently-viewed limit="6"><span slot="heading">${esc(t.recent)}</span></omni-recently-viewed>`,
  });
}

export function signInPage(config) {
  const t = STRINGS[config.lang];
  const options = config.customers
    .map((c) => `<option value="${esc(c.id)}">${esc(c.name)}</option>`)
    .join('');
  return layout(config, {
    title: t.signInTitle,
    path: '/signin.html',
    body: `<h1>${esc(t.signInTitle)}</h1>
<p>${esc(t.signInText)}</p>
<p id="who" role="status">${esc(t.signedOut)}</p>
<form id="sign-in" class="panel">
  <label for="customer">${esc(t.customer)}</label>
  <select id="customer" name="customer">${options}</select>
  <button type="submit">${esc(t.signInButton)}</button>
</form>
<p><button type="button" id="sign-out" hidden>${esc(t.signOut)}</button></p>
<omni-cart></omni-cart>`,
    scripts: `<script type="application/json" id="strings">${JSON.stringify({
      signedOut: t.signedOut,
      signedInAs: t.signedInAs('{c}'),
    }).replace(/</g, '\\u003c')}</script>`,
  });
}

export function kioskPage(config) {
  const t = STRINGS[config.lang];
  const stores = config.stores
    .map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`)
    .join('');
  return layout(config, {
    title: t.kioskTitle,
    path: '/kiosk.html',
    body: `<h1>${esc(t.kioskTitle)}</h1>
<p>${esc(t.kioskText)}</p>
<form id="claim" class="panel">
  <label for="code">${esc(t.code)}</label>
  <input id="code" name="code" autocomplete="off" required>
  <button type="submit">${esc(t.open)}</button>
</form>
<p id="kiosk-status" role="status"></p>
<section class="kiosk" aria-labelledby="h-kiosk-cart">
  <h2 id="h-kiosk-cart">${esc(t.yourCart)}</h2>
  <p id="kiosk-empty">${esc(t.emptyKiosk)}</p>
  <ul id="kiosk-lines" class="lines"></ul>
  <label for="pickup">${esc(t.pickup)}</label>
  <select id="pickup"><option value="">${esc(t.none)}</option>${stores}</select>
  <p><button type="button" id="next-customer">${esc(t.nextCustomer)}</button></p>
  <h3>${esc(t.collectedList)}</h3>
  <ul id="collected"></ul>
</section>`,
    scripts: `<script type="application/json" id="strings">${JSON.stringify({
      markCollected: t.markCollected,
    }).replace(/</g, '\\u003c')}</script>`,
  });
}

export function esmPage(config) {
  const t = STRINGS[config.lang];
  const importMap = JSON.stringify({
    imports: {
      '@omnikit/sdk': '/esm/sdk/index.js',
      '@omnikit/protocol': '/esm/protocol/index.js',
      idb: '/esm/idb/index.js',
    },
  });
  return layout(config, {
    title: t.esmTitle,
    path: '/esm.html',
    omnikit: false,
    head: `<script type="importmap">${importMap}</script>`,
    body: `<h1>${esc(t.esmTitle)}</h1>
<p>${esc(t.esmText)}</p>
<pre><code>npm install @omnikit/sdk

import { createClient } from '@omnikit/sdk';

const omnikit = createClient({ endpoint: '${esc(config.apiUrl)}', publishableKey: '${esc(config.publishableKey)}' });
omnikit.subscribe((s) =&gt; s.cart.count, (count) =&gt; (badge.textContent = String(count)));
await omnikit.start();
await omnikit.cart.add('85123A');</code></pre>
<p><button type="button" id="esm-add" data-sku="85123A">+1 White Hanging Heart T-Light Holder</button>
<span role="status">${esc(t.cart)}: <output id="esm-count">…</output></span></p>
<script type="application/json" id="esm-config">${JSON.stringify({
      endpoint: config.apiUrl,
      publishableKey: config.publishableKey,
      currency: config.currency,
    }).replace(/</g, '\\u003c')}</script>
<script type="module" src="/esm-demo.js"></script>`,
  });
}

export function notFoundPage(config) {
  const t = STRINGS[config.lang];
  return layout(config, {
    title: t.notFound,
    path: '/',
    body: `<h1>${esc(t.notFound)}</h1><p><a href="/">${esc(t.backHome)}</a></p>`,
  });
}

export const pageNumber = (value) => {
  const n = Number.parseInt(value ?? '1', 10);
  return Number.isFinite(n) && n > 0 && n < 10_000 ? n : 1;
};
