import { expect } from '@open-wc/testing';
import { readPageProduct } from '@omnikit/sdk/page-product';

function page(html: string): Document {
  return new DOMParser().parseFromString(
    `<!doctype html><html><head>${html}</head><body></body></html>`,
    'text/html',
  );
}

describe('readPageProduct', () => {
  it('reads the sku from schema.org Product JSON-LD, including inside @graph', () => {
    const doc = page(`
      <script type="application/ld+json">{ not json</script>
      <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
        {"@type":"BreadcrumbList"},
        {"@type":["Product"],"sku":" 85123A ","name":"WHITE HANGING HEART T-LIGHT HOLDER"}]}</script>`);
    expect(readPageProduct(doc)).to.deep.equal({
      sku: '85123A',
      name: 'WHITE HANGING HEART T-LIGHT HOLDER',
    });
  });

  it('falls back to the product:retailer_item_id meta tag', () => {
    const doc = page(`<meta property="product:retailer_item_id" content="22423">`);
    expect(readPageProduct(doc)).to.deep.equal({ sku: '22423' });
  });

  it('returns undefined for a page without a product', () => {
    expect(
      readPageProduct(page('<script type="application/ld+json">{"@type":"Organization"}</script>')),
    ).to.equal(undefined);
  });
});
