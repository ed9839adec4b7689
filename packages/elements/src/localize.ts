// The one localize controller: an element's language is the nearest `lang` attribute (crossing
// shadow roots), else the configured default, else English. Intl does prices, distances and ages.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { strings, type Lang, type Strings } from './strings.js';

type Host = ReactiveControllerHost & HTMLElement;

const hosts = new Set<Host>();
let configured = '';
let observer: MutationObserver | undefined;

const refresh = () => hosts.forEach((h) => h.requestUpdate());

/** Sets the language used where no `lang` attribute says otherwise (the embed's `data-locale`). */
export function setDefaultLanguage(lang: string): void {
  configured = lang;
  refresh();
}

/** The nearest `lang` attribute value at or above `el`, looking through shadow roots. */
function nearestLang(el: Element): string {
  let node: Node | null = el;
  while (node) {
    if (node instanceof Element) {
      const lang = node.closest('[lang]')?.getAttribute('lang');
      if (lang) return lang;
    }
    const root: Node = node.getRootNode();
    node = root instanceof ShadowRoot ? root.host : null;
  }
  return '';
}

const formats = new Map<string, Intl.NumberFormat>();
const numberFormat = (locale: string, o: Intl.NumberFormatOptions) => {
  const key = locale + JSON.stringify(o);
  let f = formats.get(key);
  if (!f) formats.set(key, (f = new Intl.NumberFormat(locale, o)));
  return f;
};

export class LocalizeController implements ReactiveController {
  constructor(private readonly host: Host) {
    host.addController(this);
  }

  hostConnected(): void {
    hosts.add(this.host);
    // One observer for the whole document: a page that switches `lang` re-renders every element.
    if (!observer) {
      observer = new MutationObserver(refresh);
      observer.observe(document.documentElement, {
        attributes: true,
        attributeFilter: ['lang'],
        subtree: true,
      });
    }
  }

  hostDisconnected(): void {
    hosts.delete(this.host);
  }

  /** The BCP 47 tag Intl formats with (`en` when none is usable). */
  get locale(): string {
    const tag = nearestLang(this.host) || configured || 'en';
    try {
      return Intl.getCanonicalLocales(tag)[0] ?? 'en';
    } catch {
      return 'en';
    }
  }

  /** The language of the strings: Korean for `ko*`, English otherwise. */
  get lang(): Lang {
    return this.locale.toLowerCase().startsWith('ko') ? 'ko' : 'en';
  }

  get t(): Strings {
    return strings[this.lang];
  }

  /** A price given in minor units of `currency` (pence, won). */
  price(minor: number, currency: string): string {
    const f = numberFormat(this.locale, { style: 'currency', currency });
    return f.format(minor / 10 ** (f.resolvedOptions().maximumFractionDigits ?? 2));
  }

  distance(km: number): string {
    return numberFormat(this.locale, {
      style: 'unit',
      unit: 'kilometer',
      maximumFractionDigits: 1,
    }).format(km);
  }

  /** How long ago `at` was, e.g. "5 min. ago". */
  ago(at: number, now = Date.now()): string {
    const rtf = new Intl.RelativeTimeFormat(this.locale, { numeric: 'auto', style: 'short' });
    const minutes = Math.round((at - now) / 60_000);
    if (Math.abs(minutes) < 60) return rtf.format(minutes, 'minute');
    const hours = Math.round(minutes / 60);
    if (Math.abs(hours) < 48) return rtf.format(hours, 'hour');
    return rtf.format(Math.round(hours / 24), 'day');
  }

  list(items: string[]): string {
    return new Intl.ListFormat(this.locale, { type: 'conjunction' }).format(items);
  }
}
