import type { ClientOptions } from '@omnikit/sdk';

/** The configuration a brand writes as `data-*` attributes on the omnikit `<script>` tag. */
export interface EmbedConfig {
  endpoint: string;
  publishableKey: string;
  locale?: string;
  currency?: string;
  consent: 'granted' | 'pending' | 'denied';
  trackViews: boolean;
}

/** Why a script tag's configuration was refused. */
export class EmbedConfigError extends Error {
  override readonly name = 'EmbedConfigError';
}

const CONSENT = ['granted', 'pending', 'denied'] as const;

/**
 * Reads the configuration from the omnikit script tag: `data-endpoint` (required, absolute or
 * relative to the page), `data-key` (required), `data-locale`, `data-currency` (ISO 4217),
 * `data-consent` (`granted` by default) and `data-track-views` (boolean attribute).
 */
export function readScriptConfig(
  script: HTMLScriptElement,
  base = script.ownerDocument.baseURI,
): EmbedConfig {
  const data = script.dataset;
  if (!data['endpoint']) throw new EmbedConfigError('omnikit: the script tag needs data-endpoint');
  if (!data['key']) throw new EmbedConfigError('omnikit: the script tag needs data-key');
  const endpoint = new URL(data['endpoint'], base).href.replace(/\/+$/, '');
  const consent = data['consent'] ?? 'granted';
  if (!(CONSENT as readonly string[]).includes(consent)) {
    throw new EmbedConfigError(`omnikit: data-consent must be one of ${CONSENT.join(', ')}`);
  }
  const currency = data['currency']?.toUpperCase();
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) {
    throw new EmbedConfigError('omnikit: data-currency must be an ISO 4217 code such as GBP');
  }
  const config: EmbedConfig = {
    endpoint,
    publishableKey: data['key'],
    consent: consent as EmbedConfig['consent'],
    trackViews: data['trackViews'] !== undefined && data['trackViews'] !== 'false',
  };
  if (data['locale']) config.locale = data['locale'];
  if (currency) config.currency = currency;
  return config;
}

/** The SDK options an embed configuration stands for. */
export function clientOptions(config: EmbedConfig): ClientOptions {
  const options: ClientOptions = {
    endpoint: config.endpoint,
    publishableKey: config.publishableKey,
    consent: config.consent,
  };
  if (config.locale) options.locale = config.locale;
  if (config.currency) options.currency = config.currency;
  return options;
}
