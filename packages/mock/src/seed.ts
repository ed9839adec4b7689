// The mock's seeded catalog: a few products, stores, counts and orders, small enough to ship in
// the package and real enough for widgets. Products (skus, titles, prices, categories) are from
// the UCI "Online Retail" dataset: Daqing Chen, Sai Liang Sain, Kun Guo (2012), UCI Machine
// Learning Repository, https://doi.org/10.24432/C5BW33, licensed CC BY 4.0
// (https://creativecommons.org/licenses/by/4.0/); selected from demo/data/catalog.json. Stores
// are fictional shops on real streets (demo/data/stores.json); counts and orders are made up.
import type { OpeningHours, StoreInfo } from '@omnikit/protocol';

/** A product as a feed gives it (`POST /v1/admin/products/import`). */
export interface SeedProduct {
  sku: string;
  title: string;
  /** Minor units. */
  price: number;
  currency: string;
  url: string | null;
  image: string | null;
  category: string | null;
  groupId?: string | null;
  description?: string;
  attributes?: Record<string, string>;
}

/** What a mock starts with; every part is optional and replaces the seeded one when given. */
export interface Catalog {
  products: SeedProduct[];
  stores: StoreInfo[];
  /** `[location (a store id or "online"), sku, qty]`, counted a minute before the mock starts. */
  stock: [string, string, number][];
  /** Past orders (skus bought together): the input of also-bought and trending. */
  orders: string[][];
}

const product = (
  sku: string,
  title: string,
  price: number,
  category: string,
  extra?: Partial<SeedProduct>,
): SeedProduct => ({
  sku,
  title,
  price,
  currency: 'GBP',
  url: `/product.html?sku=${sku}`,
  image: `/images/${sku}.svg`,
  category,
  ...extra,
});

const day = ['09:30-18:00'];
const hours = (sun: string[]): OpeningHours => ({
  mon: day,
  tue: day,
  wed: day,
  thu: ['09:30-20:00'],
  fri: day,
  sat: ['09:00-18:00'],
  sun,
});

const store = (
  id: string,
  name: string,
  line1: string,
  city: string,
  postcode: string,
  lat: number,
  lng: number,
  pickup = true,
): StoreInfo => ({
  id,
  name: `omnikit ${name}`,
  address: { line1, city, postcode, country: 'GB' },
  lat,
  lng,
  hours: hours(pickup ? ['11:00-17:00'] : []),
  pickup,
});

/** The default catalog (see the attribution at the top of this file). */
export const seedCatalog: Catalog = {
  products: [
    product('22423', 'Regency Cakestand 3 Tier', 1275, 'Gifts'),
    product('22699', 'Roses Regency Teacup and Saucer', 295, 'Mugs & cups'),
    product('22697', 'Green Regency Teacup and Saucer', 295, 'Mugs & cups', {
      groupId: 'G-22697',
      attributes: { colour: 'Green' },
    }),
    product('85099B', 'Jumbo Bag Red Retrospot', 208, 'Bags'),
    product('22386', 'Jumbo Bag Pink Polkadot', 208, 'Bags'),
    product('85099F', 'Jumbo Bag Strawberry', 208, 'Bags'),
    product('85123A', 'White Hanging Heart T-Light Holder', 295, 'Candles & lights', {
      groupId: 'G-21733',
      attributes: { colour: 'White' },
    }),
    product('21212', 'Pack of 72 Retrospot Cake Cases', 55, 'Kitchen & baking'),
  ],
  stores: [
    store(
      'lon-covent-garden',
      'Covent Garden',
      '12 Neal Street',
      'London',
      'WC2H 9PU',
      51.5147,
      -0.1263,
    ),
    store(
      'brighton',
      'Brighton',
      '14 Kensington Gardens',
      'Brighton',
      'BN1 4AL',
      50.8256,
      -0.1383,
      false,
    ),
    store('manchester', 'Manchester', '30 Oldham Street', 'Manchester', 'M1 1JN', 53.4837, -2.2343),
    store('edinburgh', 'Edinburgh', '52 George Street', 'Edinburgh', 'EH2 2LR', 55.953, -3.2003),
  ],
  stock: [
    ['online', '22423', 40],
    ['lon-covent-garden', '22423', 12],
    ['manchester', '22423', 2],
    ['edinburgh', '22423', 0],
    ['online', '22699', 3],
    ['lon-covent-garden', '22699', 25],
    ['online', '85099B', 100],
    ['manchester', '85099B', 30],
    ['brighton', '85099B', 4],
    ['online', '85123A', 0],
  ],
  orders: [
    ['22423', '22699', '22697'],
    ['22423', '22699'],
    ['22699', '22697', '21212'],
    ['85099B', '22386'],
    ['85099B', '22386', '85099F'],
    ['85123A'],
  ],
};
