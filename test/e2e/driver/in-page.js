// Runs inside the page, never imported: the driver sends this source ahead of every query
// (test/e2e/driver/index.ts). It finds elements the way the journeys name them, by CSS, role and
// accessible name, text or label, through open shadow roots (the storefront is Lit elements),
// in every engine alike: WebDriver has no shadow-piercing role query, and one implementation
// means one meaning of "the button named Undo" in Chromium, Firefox and WebKit.
// The roles and names cover what the journeys use (HTML-AAM implicit roles for the common
// elements; name from aria-labelledby, aria-label, <label>, alt, then content), not all of ARIA.
window.__omnikitE2E ||= (() => {
  const norm = (s) => s.replace(/\s+/g, ' ').trim();

  /** Every element under `root` in tree order, each host's open shadow tree before its children. */
  const walk = (root, out = []) => {
    for (const el of root.children) {
      out.push(el);
      if (el.shadowRoot) walk(el.shadowRoot, out);
      walk(el, out);
    }
    return out;
  };

  /** The parent in the flat tree: the slot a node is assigned to, else its parent or host. */
  const flatParent = (node) => {
    if (node.assignedSlot) return node.assignedSlot;
    const parent = node.parentNode;
    return parent instanceof ShadowRoot ? parent.host : parent instanceof Element ? parent : null;
  };

  const skipped = new Set(['script', 'style', 'template', 'noscript']);

  /**
   * The text a shopper sees in `node`: shadow trees rendered, slots filled; with `displayed`,
   * without what is not displayed (a `hidden` loading slot or empty-cart text).
   */
  const flatText = (node, displayed = false) => {
    if (node.nodeType === Node.TEXT_NODE) return node.data;
    if (node.nodeType !== Node.ELEMENT_NODE || skipped.has(node.localName)) return '';
    if (displayed && getComputedStyle(node).display === 'none') return '';
    let kids = node.shadowRoot ? node.shadowRoot.childNodes : node.childNodes;
    if (node.localName === 'slot' && node.assignedNodes().length) kids = node.assignedNodes();
    return [...kids].map((k) => flatText(k, displayed)).join(node.shadowRoot ? ' ' : '');
  };

  const implicitRole = (el) => {
    const tag = el.localName;
    if (/^h[1-6]$/.test(tag)) return 'heading';
    if (tag === 'input') {
      const type = (el.getAttribute('type') || 'text').toLowerCase();
      if (['button', 'submit', 'reset', 'image'].includes(type)) return 'button';
      if (type === 'checkbox' || type === 'radio') return type;
      if (type === 'search') return el.hasAttribute('list') ? 'combobox' : 'searchbox';
      if (['text', 'email', 'tel', 'url'].includes(type))
        return el.hasAttribute('list') ? 'combobox' : 'textbox';
      return null;
    }
    if (tag === 'select') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
    if (tag === 'a' || tag === 'area') return el.hasAttribute('href') ? 'link' : null;
    if (tag === 'img') return el.getAttribute('alt') === '' ? 'presentation' : 'img';
    const plain = {
      button: 'button',
      dialog: 'dialog',
      textarea: 'textbox',
      ul: 'list',
      ol: 'list',
      li: 'listitem',
      nav: 'navigation',
      main: 'main',
      output: 'status',
      table: 'table',
    };
    return plain[tag] ?? null;
  };

  const roleOf = (el) => (el.getAttribute('role') || '').trim().split(/\s+/)[0] || implicitRole(el);

  /** Hidden from the accessibility tree: aria-hidden on the way up, or not rendered. */
  const hiddenForAria = (el) => {
    for (let n = el; n; n = flatParent(n))
      if (n.getAttribute('aria-hidden') === 'true') return true;
    return !el.checkVisibility({ visibilityProperty: true });
  };

  /** Playwright's "visible": a non-empty box and not visibility:hidden. */
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };

  const nameFromContent = new Set([
    'button',
    'link',
    'heading',
    'checkbox',
    'radio',
    'option',
    'tab',
    'menuitem',
    'cell',
    'listitem',
  ]);

  /** The text that names `node` when it is part of an element named from content. */
  const contentText = (node, referenced) => {
    if (node.nodeType === Node.TEXT_NODE) return node.data;
    if (node.nodeType !== Node.ELEMENT_NODE || skipped.has(node.localName)) return '';
    if (!referenced) {
      const style = getComputedStyle(node);
      if (node.getAttribute('aria-hidden') === 'true' || style.display === 'none') return '';
      if (style.visibility === 'hidden') return '';
    }
    const label = node.getAttribute('aria-label');
    if (label && label.trim()) return ` ${label} `;
    if (node.localName === 'img') return ` ${node.getAttribute('alt') ?? ''} `;
    let kids = node.shadowRoot ? node.shadowRoot.childNodes : node.childNodes;
    if (node.localName === 'slot' && node.assignedNodes().length) kids = node.assignedNodes();
    const inner = [...kids].map((k) => contentText(k, referenced)).join('');
    return getComputedStyle(node).display === 'inline' ? inner : ` ${inner} `;
  };

  /** The name given by aria-labelledby, aria-label or a <label>; '' when none. */
  const labelName = (el) => {
    const ids = el.getAttribute('aria-labelledby');
    if (ids) {
      const root = el.getRootNode();
      const text = ids
        .split(/\s+/)
        .map((id) => root.getElementById(id))
        .filter(Boolean)
        .map((n) => contentText(n, true))
        .join(' ');
      if (norm(text)) return norm(text);
    }
    const label = el.getAttribute('aria-label');
    if (label && norm(label)) return norm(label);
    if (el.labels && el.labels.length)
      return norm([...el.labels].map((l) => contentText(l, true)).join(' '));
    return '';
  };

  const accessibleName = (el) => {
    const labelled = labelName(el);
    if (labelled) return labelled;
    if (el.localName === 'img') return norm(el.getAttribute('alt') ?? '');
    if (el.localName === 'input' && ['button', 'submit', 'reset'].includes(el.type))
      return norm(el.value);
    if (el.localName === 'svg') return norm(el.querySelector('title')?.textContent ?? '');
    if (nameFromContent.has(roleOf(el))) {
      const text = norm(contentText(el, false));
      if (text) return text;
    }
    return norm(el.getAttribute('title') || el.getAttribute('placeholder') || '');
  };

  /** Playwright's matching: a string is a case-insensitive substring unless exact. */
  const matches = (text, m, exact) => {
    if (typeof m === 'string')
      return exact ? text === norm(m) : text.toLowerCase().includes(norm(m).toLowerCase());
    return new RegExp(m.source, m.flags).test(text);
  };

  /** `scope` and everything in it, shadow trees included. */
  const within = (scope) =>
    scope === document
      ? walk(document)
      : [scope, ...(scope.shadowRoot ? walk(scope.shadowRoot) : []), ...walk(scope)];

  const find = (scope, step) => {
    if (step.kind === 'css') {
      const roots = [
        scope,
        ...within(scope).flatMap((el) => (el.shadowRoot ? [el.shadowRoot] : [])),
      ];
      return roots.flatMap((r) => [...r.querySelectorAll(step.css)]);
    }
    const all = within(scope).filter((el) => !skipped.has(el.localName));
    if (step.kind === 'role')
      return all.filter(
        (el) =>
          roleOf(el) === step.role &&
          !hiddenForAria(el) &&
          (step.name === undefined || matches(accessibleName(el), step.name, step.exact)),
      );
    if (step.kind === 'label')
      return all.filter(
        (el) =>
          el.matches('input, select, textarea, [role]') &&
          matches(labelName(el), step.text, step.exact),
      );
    // Text: the deepest elements whose rendered text matches (not every ancestor of them).
    const hits = all.filter((el) => matches(norm(flatText(el)), step.text, step.exact));
    const ancestors = new Set();
    for (const el of hits) for (let n = flatParent(el); n; n = flatParent(n)) ancestors.add(n);
    return hits.filter((el) => !ancestors.has(el));
  };

  /** The elements a chain of steps names, in order, without repeats. */
  const resolve = (steps) => {
    let set = [document];
    for (const step of steps) {
      if (step.kind === 'first') {
        set = set.slice(0, 1);
        continue;
      }
      const next = new Set();
      for (const scope of set) for (const el of find(scope, step)) next.add(el);
      set = [...next];
    }
    return set;
  };

  /** The one element `steps` names; throws like a strict locator when none or several do. */
  const one = (steps) => {
    const els = resolve(steps);
    if (els.length !== 1) throw new Error(`${els.length} elements match ${JSON.stringify(steps)}`);
    return els[0];
  };

  /** The element a click at the centre of `el` lands on, through open shadow roots. */
  const hitAt = (el) => {
    const box = el.getBoundingClientRect();
    const x = box.left + box.width / 2;
    const y = box.top + box.height / 2;
    let hit = document.elementFromPoint(x, y);
    for (let inner = hit?.shadowRoot?.elementFromPoint(x, y); inner && inner !== hit;) {
      hit = inner;
      inner = hit.shadowRoot?.elementFromPoint(x, y);
    }
    return hit;
  };
  const landsOn = (el) => {
    for (let n = hitAt(el); n; n = flatParent(n)) if (n === el) return true;
    return false;
  };

  /**
   * Whether a click at the centre of `el` reaches it, as Playwright checks before clicking:
   * when something covers it (a fixed bar), it is scrolled to the middle of the view first.
   */
  const clickable = (el) => {
    if (landsOn(el)) return true;
    el.scrollIntoView({ block: 'center', inline: 'center' });
    return landsOn(el);
  };

  /** What the page's client holds and what its main element shows (for a wait that timed out). */
  const explain = () => {
    const client = window.omnikit;
    const main = document.querySelector('main');
    return {
      url: location.pathname + location.search,
      visibility: document.visibilityState,
      // An error's message is not an own enumerable property: JSON would drop it.
      status: client && { ...client.state.status, error: `${client.state.status.error ?? ''}` },
      lines: client?.state.cart.lines.map((l) => `${l.sku} x ${l.qty}`),
      shown: main ? flatText(main, true).replace(/\s+/g, ' ').trim().slice(0, 400) : null,
    };
  };

  return { resolve, one, visible, clickable, accessibleName, explain };
})();
