// The product feed's column names, shared by the server's importer and the mock's, so that a
// feed one of them accepts the other accepts too.

/** A product field a feed column can fill. */
export type FeedField =
  | 'sku'
  | 'groupId'
  | 'title'
  | 'description'
  | 'price'
  | 'currency'
  | 'url'
  | 'image'
  | 'category'
  | 'attributes';

/** Header spellings seen in real feeds (Google Merchant, Shopify exports), lower-cased, mapped to our fields. */
export const FEED_COLUMNS: Readonly<Record<string, FeedField>> = {
  sku: 'sku',
  id: 'sku',
  groupid: 'groupId',
  group_id: 'groupId',
  item_group_id: 'groupId',
  title: 'title',
  name: 'title',
  description: 'description',
  price: 'price',
  currency: 'currency',
  url: 'url',
  link: 'url',
  image: 'image',
  image_link: 'image',
  category: 'category',
  attributes: 'attributes',
};
