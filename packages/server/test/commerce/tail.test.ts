import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tail } from '../../src/commerce/models.js';

test('a tail hands every row over once, including one that commits after a higher id', () => {
  const tail = new Tail<{ id: number }>();
  const seen: number[] = [];
  const take = (ids: number[], now = 0) =>
    tail.absorb(
      ids.map((id) => ({ id })),
      now,
      (row) => seen.push(row.id),
    );
  assert.equal(take([1, 2, 4]), 3);
  assert.deepEqual(tail.missing, [3], 'id 3 was handed out but not visible yet');
  assert.equal(tail.after, 4);
  // The next query returns the late row (asked for by id) and a new one; old rows are ignored.
  assert.equal(take([3, 2, 5]), 1);
  assert.deepEqual(seen, [1, 2, 4, 3, 5]);
  assert.deepEqual(tail.missing, []);
  // A gap that never fills (a rolled-back transaction) is forgotten after a minute.
  take([7], 1_000);
  assert.deepEqual(tail.missing, [6]);
  take([], 62_000);
  assert.deepEqual(tail.missing, []);
  // Ids as strings (int8 from pg) compare as numbers.
  const wide = new Tail<{ id: string }>();
  wide.absorb([{ id: '9' }, { id: '10' }], 0, () => {});
  assert.equal(wide.after, 10);
});
