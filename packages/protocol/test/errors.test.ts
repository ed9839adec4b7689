import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OmniError, ErrorCode, errorBody, isErrorCode, errorStatus } from '@omnikit/protocol';

test('every error code has an HTTP status', () => {
  for (const code of Object.values(ErrorCode)) assert.equal(typeof errorStatus[code], 'number');
});

test('OmniError round-trips through its wire body', () => {
  const err = new OmniError('rate_limited', 'Slow down', { details: { retryAfter: 2 } });
  assert.equal(err.status, 429);
  assert.equal(err.retryable, true);
  const back = OmniError.fromBody(429, JSON.parse(JSON.stringify(errorBody(err))));
  assert.deepEqual(
    [back.code, back.message, back.details, back.retryable],
    ['rate_limited', 'Slow down', { retryAfter: 2 }, true],
  );
});

test('a malformed error body becomes a typed error, never a crash', () => {
  assert.equal(OmniError.fromBody(502, '<html>').code, 'unavailable');
  assert.equal(OmniError.fromBody(400, { error: { code: 'nope', message: 1 } }).code, 'internal');
  assert.equal(new OmniError('invalid_argument', 'x').retryable, false);
  assert.equal(isErrorCode('toString'), false);
});
