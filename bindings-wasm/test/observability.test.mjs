// Observability users already run: state changes on node:diagnostics_channel, OpenTelemetry
// instruments read back through the real SDK (@opentelemetry/sdk-metrics), and the
// resilience4j-named Prometheus text read back by a real parser (parse-prometheus-text-format).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import diagnosticsChannel from 'node:diagnostics_channel';
import { CircuitBreaker } from '../dist/index.mjs';

const require = createRequire(import.meta.url);
const tripAfter2 = { window: 'consecutive', consecutiveFailures: 2, openDurationMs: 1000 };
const clocked = (opts) => {
  const t = { now: 0 };
  return [new CircuitBreaker({ now: () => t.now, ...opts }), t];
};

describe("state changes on diagnostics_channel 'cbreaker:transition'", () => {
  test('every transition is published once, with its breaker, name and cause', async () => {
    const seen = [];
    const onMessage = (m, name) => seen.push([name, m.breaker, m.name, `${m.from}->${m.to}:${m.cause}@${m.at}`]);
    diagnosticsChannel.subscribe('cbreaker:transition', onMessage);
    try {
      const [b, t] = clocked({ ...tripAfter2, name: 'payments' });
      b.tryAcquire().failure();
      await b.call(() => Promise.reject(new Error('boom'))).catch(() => {});
      assert.equal(b.tryAcquire(), undefined);
      t.now = 1000;
      await b.call(() => 'ok');
      b.forceOpen();
      assert.deepEqual(seen.map(([ch]) => ch), Array(4).fill('cbreaker:transition'));
      assert.ok(seen.every(([, breaker, name]) => breaker === b && name === 'payments'));
      assert.deepEqual(seen.map(([, , , s]) => s), ['closed->open:consecutive_failures@0',
        'open->half_open:open_elapsed@1000', 'half_open->closed:probes_succeeded@1000', 'closed->forced_open:force_open@1000']);
      // The same transitions the 'statechange' event and the snapshot count.
      assert.equal(Object.values(b.snapshot().transitions).reduce((x, y) => x + y), 4);
    } finally {
      diagnosticsChannel.unsubscribe('cbreaker:transition', onMessage);
    }
  });

  test('nothing is published while nobody subscribes; the same module under require()', () => {
    const channel = diagnosticsChannel.channel('cbreaker:transition');
    assert.equal(channel.hasSubscribers, false);
    const cjs = require('../dist/index.cjs');
    const seen = [];
    const onMessage = (m) => seen.push(m.to);
    diagnosticsChannel.subscribe('cbreaker:transition', onMessage);
    try {
      new cjs.CircuitBreaker({ now: () => 0 }).trip();
      assert.deepEqual(seen, ['open']);
    } finally {
      diagnosticsChannel.unsubscribe('cbreaker:transition', onMessage);
    }
  });
});
