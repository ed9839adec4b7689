import { expect } from '@open-wc/testing';
import { readScriptConfig, EmbedConfigError } from '@omnikit/embed';

function tag(attrs: Record<string, string>): HTMLScriptElement {
  const script = document.createElement('script');
  for (const [k, v] of Object.entries(attrs)) script.setAttribute(k, v);
  return script;
}

describe('readScriptConfig', () => {
  it('reads the data-* attributes, resolving a relative endpoint against the page', () => {
    const config = readScriptConfig(
      tag({
        'data-endpoint': '/api/',
        'data-key': 'pk_demo',
        'data-currency': 'gbp',
        'data-track-views': '',
      }),
      'https://shop.example/products/1',
    );
    expect(config).to.deep.equal({
      endpoint: 'https://shop.example/api',
      publishableKey: 'pk_demo',
      consent: 'granted',
      trackViews: true,
      currency: 'GBP',
    });
  });

  it('refuses a tag without its key or with a bad consent value', () => {
    expect(() => readScriptConfig(tag({ 'data-endpoint': '/' }))).to.throw(
      EmbedConfigError,
      /data-key/,
    );
    expect(() =>
      readScriptConfig(tag({ 'data-endpoint': '/', 'data-key': 'k', 'data-consent': 'maybe' })),
    ).to.throw(EmbedConfigError, /data-consent/);
  });
});

describe('dist/omnikit.js', () => {
  it('configures itself from its own script tag, defines the elements and fires omnikit:ready', async () => {
    const ready = new Promise<CustomEvent>((resolve) =>
      document.addEventListener('omnikit:ready', resolve as EventListener, { once: true }),
    );
    const script = tag({
      src: '/packages/embed/dist/omnikit.min.js',
      'data-endpoint': '/api',
      'data-key': 'pk_test',
    });
    script.async = true;
    document.head.append(script);
    const event = await ready;
    expect(event.detail.config.publishableKey).to.equal('pk_test');
    expect(window.omnikit?.config.endpoint).to.equal(new URL('/api', location.href).href);
    expect(customElements.get('omni-cart-button')).to.be.a('function');
  });
});
