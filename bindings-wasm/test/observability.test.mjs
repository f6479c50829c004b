// Observability users already run: state changes on node:diagnostics_channel, OpenTelemetry
// instruments read back through the real SDK (@opentelemetry/sdk-metrics), and the
// resilience4j-named Prometheus text read back by a real parser (parse-prometheus-text-format).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import diagnosticsChannel from 'node:diagnostics_channel';
import { MeterProvider, MetricReader, DataPointType } from '@opentelemetry/sdk-metrics';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { CircuitBreaker, instrument, prometheusText } from '../dist/index.mjs';

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

// A count window of 4 tripping at 60 % failures (at least 2 calls), slow at 100 ms.
const scripted = (name) => clocked({ name, window: 'count', windowSize: 4, minimumCalls: 2, failureRateThreshold: 60,
  slowCallDurationMs: 100, openDurationMs: 10_000, halfOpenMaxCalls: 1, successThreshold: 1 });

function tripRejectRecover(b, t) {
  b.tryAcquire().success({ durationMs: 200 }); // slow
  b.tryAcquire().ignore();
  b.tryAcquire().failure({ durationMs: 10 });
  b.tryAcquire().failure({ durationMs: 10 }); // 2 of 3: open
  assert.equal(b.tryAcquire(), undefined);
  assert.equal(b.tryAcquire(), undefined);
  t.now = 10_000;
  b.tryAcquire().success({ durationMs: 10 }); // the probe closes it
  b.tryAcquire().success({ durationMs: 300 }); // slow
  b.tryAcquire().failure({ durationMs: 10 });
  b.tryAcquire().success({ durationMs: 10 });
}

class TestReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

/** Every metric the SDK collected: name -> { descriptor, type, monotonic, points: Map(attrs -> value) }. */
async function collect(reader) {
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  const out = {};
  for (const sm of resourceMetrics.scopeMetrics) {
    assert.equal(sm.scope.name, 'cbreaker');
    for (const m of sm.metrics) {
      out[m.descriptor.name] = {
        descriptor: m.descriptor, type: m.dataPointType, monotonic: m.isMonotonic,
        points: new Map(m.dataPoints.map((p) => [JSON.stringify(Object.entries(p.attributes).sort()), p.value])),
      };
    }
  }
  return out;
}
const key = (attrs) => JSON.stringify(Object.entries(attrs).sort());
const at = (name, more = {}) => key({ 'circuit_breaker.name': name, ...Object.fromEntries(Object.entries(more).map(([k, v]) => [`circuit_breaker.${k}`, v])) });

/** Prometheus text -> Map(`family{sorted labels}` -> number), through a real parser. */
function parsed(text) {
  const out = new Map();
  for (const family of parsePrometheusTextFormat(text)) {
    for (const m of family.metrics) {
      const labels = Object.entries(m.labels ?? {}).sort().map(([k, v]) => `${k}=${v}`).join(',');
      if (family.type === 'SUMMARY') out.set(`${family.name}_count{${labels}}`, Number(m.count));
      else out.set(`${family.name}{${labels}}`, Number(m.value));
    }
  }
  return out;
}

describe('OpenTelemetry instruments (the core\'s table) through @opentelemetry/sdk-metrics', () => {
  test('after a trip, rejections and a recovery every instrument reads exactly the core\'s counters', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const [b, t] = scripted('payments');
    const handle = instrument([b], { meterProvider: provider, durations: true });
    tripRejectRecover(b, t);
    const s = b.snapshot();
    assert.deepEqual([s.successes, s.failures, s.ignored, s.rejected, s.slow], [4, 3, 1, 2, 2]);
    assert.deepEqual([s.windowCalls, s.windowFailures, s.windowSlow], [3, 1, 1]);
    const got = await collect(reader);
    const prom = parsed(prometheusText([b]));
    const n = 'payments';
    const outcomes = { success: s.successes, failure: s.failures, ignored: s.ignored, rejected: s.rejected };
    assert.equal(got['circuit_breaker.calls'].type, DataPointType.SUM);
    assert.equal(got['circuit_breaker.calls'].monotonic, true);
    assert.deepEqual(got['circuit_breaker.calls'].points, new Map(Object.entries(outcomes).map(([o, v]) => [at(n, { outcome: o }), v])));
    for (const [o, v] of Object.entries(outcomes)) assert.equal(prom.get(`cbreaker_calls_total{breaker=${n},outcome=${o}}`), v);
    const states = Object.keys(s.transitions);
    assert.equal(states.length, 6);
    assert.equal(got['circuit_breaker.status'].type, DataPointType.GAUGE);
    assert.deepEqual(got['circuit_breaker.status'].points, new Map(states.map((st) => [at(n, { state: st }), st === 'closed' ? 1 : 0])));
    for (const st of states) assert.equal(prom.get(`cbreaker_state{breaker=${n},state=${st}}`), st === 'closed' ? 1 : 0);
    assert.deepEqual(got['circuit_breaker.transitions'].points, new Map(states.map((st) => [at(n, { state: st }), s.transitions[st]])));
    assert.deepEqual(s.transitions, { closed: 1, open: 1, half_open: 1, forced_open: 0, disabled: 0, metrics_only: 0 });
    assert.deepEqual(got['circuit_breaker.state_changes'].points, new Map([
      [at(n, { previous_state: 'closed', state: 'open', cause: 'failure_rate' }), 1],
      [at(n, { previous_state: 'open', state: 'half_open', cause: 'open_elapsed' }), 1],
      [at(n, { previous_state: 'half_open', state: 'closed', cause: 'probes_succeeded' }), 1],
    ]));
    assert.deepEqual(got['circuit_breaker.slow_calls'].points, new Map([[at(n), s.slow]]));
    assert.equal(prom.get(`cbreaker_slow_calls_total{breaker=${n}}`), s.slow);
    assert.deepEqual(got['circuit_breaker.window.failure_rate'].points, new Map([[at(n), s.failureRate]]));
    assert.deepEqual(got['circuit_breaker.window.slow_call_rate'].points, new Map([[at(n), s.slowRate]]));
    assert.equal(s.failureRate, 100 / 3);
    assert.equal(prom.get(`cbreaker_window_failure_rate_percent{breaker=${n}}`), s.failureRate);
    assert.deepEqual(got['circuit_breaker.retry_after'].points, new Map([[at(n), 0]]));
    // The histogram: every call that ran and was timed, in seconds, at the core's buckets.
    const h = got['circuit_breaker.call.duration'];
    assert.equal(h.type, DataPointType.HISTOGRAM);
    assert.equal(h.descriptor.unit, 's');
    const hv = h.points.get(at(n));
    assert.equal(hv.count, s.successes + s.failures);
    assert.ok(Math.abs(hv.sum - 0.55) < 1e-9, `sum ${hv.sum}`); // 200 + 300 + 5 x 10 ms
    assert.equal(hv.buckets.boundaries.length, 15);
    assert.equal(hv.buckets.boundaries[0], 0.001);
    // close(): nothing read or counted from now on (the SDK keeps the last values it had).
    handle.close();
    await b.call(() => 1);
    b.trip();
    assert.equal(b.snapshot().successes, 5);
    const after = await collect(reader);
    assert.equal(after['circuit_breaker.calls']?.points.get(at(n, { outcome: 'success' })) ?? 4, 4);
    assert.equal(after['circuit_breaker.state_changes'].points.get(at(n, { previous_state: 'closed', state: 'open', cause: 'trip' })), undefined);
    await provider.shutdown();
  });

  test('without durations: true the call path is untouched: no listener, no timing, no histogram points', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const b = new CircuitBreaker({ name: 'plain', now: () => 0 });
    instrument([b], { meterProvider: provider });
    assert.equal(b.listenerCount?.('success') ?? 0, 0);
    await b.call(() => 1);
    const got = await collect(reader);
    assert.equal(got['circuit_breaker.calls'].points.get(at('plain', { outcome: 'success' })), 1);
    assert.equal(got['circuit_breaker.call.duration']?.points.size ?? 0, 0);
    await provider.shutdown();
  });

  test('a Map is read anew at each collection; a freed breaker or a clock that throws is left out', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const source = new Map();
    instrument(source, { meterProvider: provider });
    const a = new CircuitBreaker({ now: () => 0 });
    source.set('a', a);
    let broken = false;
    const bad = new CircuitBreaker({ now: () => { if (broken) throw new Error('clock broke'); return 0; } });
    source.set('bad', bad);
    const freed = new CircuitBreaker();
    source.set('freed', freed);
    freed.free();
    await a.call(() => 1);
    broken = true;
    const got = await collect(reader);
    assert.equal(got['circuit_breaker.calls'].points.get(at('a', { outcome: 'success' })), 1);
    assert.deepEqual([...got['circuit_breaker.calls'].points.keys()].filter((k) => !k.includes('"a"')), []);
    await provider.shutdown();
  });

  test('bad arguments are refused with errors naming them', () => {
    const isArg = (e) => e.code === 'ERR_CB_INVALID_ARGUMENT';
    assert.throws(() => instrument([new CircuitBreaker()]), (e) => isArg(e) && /meterProvider/.test(e.message));
    assert.throws(() => instrument([new CircuitBreaker()], { meterProvider: {} }), (e) => isArg(e) && e instanceof TypeError);
    assert.throws(() => instrument([{}], { meterProvider: new MeterProvider() }), (e) => isArg(e) && /instrument\(\) takes breakers/.test(e.message));
    assert.throws(() => instrument([], { meterprovider: 1 }), (e) => isArg(e) && /unknown option meterprovider/.test(e.message));
    assert.throws(() => instrument([], { meterProvider: new MeterProvider(), durations: 'yes' }), (e) => isArg(e) && e instanceof TypeError && /durations/.test(e.message));
    assert.throws(() => prometheusText([], { naming: 'micrometer' }), (e) => e instanceof RangeError && e.option === 'naming' && /cbreaker, resilience4j/.test(e.message));
    assert.throws(() => new CircuitBreaker().prometheusText(undefined, { naming: 4 }), (e) => isArg(e) && e instanceof TypeError);
  });
});

describe("resilience4j's Prometheus names, read by a real parser", () => {
  test('the same counts under resilience4j_circuitbreaker_* (module and breaker)', () => {
    const [b, t] = scripted('backend');
    tripRejectRecover(b, t);
    const s = b.snapshot();
    const text = prometheusText({ backend: b }, { naming: 'resilience4j' });
    assert.equal(b.prometheusText(undefined, { naming: 'resilience4j' }), text);
    const r = parsed(text);
    const get = (family, label) => r.get(`resilience4j_circuitbreaker_${family}{${label === undefined ? 'name=backend' : `${label},name=backend`}}`);
    assert.deepEqual(Object.keys(s.transitions).map((st) => r.get(`resilience4j_circuitbreaker_state{name=backend,state=${st}}`)), [1, 0, 0, 0, 0, 0]);
    assert.equal(get('calls_seconds_count', 'kind=successful'), s.successes);
    assert.equal(get('calls_seconds_count', 'kind=failed'), s.failures);
    assert.equal(get('calls_seconds_count', 'kind=ignored'), s.ignored);
    assert.equal(get('not_permitted_calls_total', 'kind=not_permitted'), s.rejected);
    assert.equal(get('buffered_calls', 'kind=successful'), s.windowCalls - s.windowFailures);
    assert.equal(get('buffered_calls', 'kind=failed'), s.windowFailures);
    assert.equal(get('slow_calls', 'kind=all'), s.windowSlow);
    assert.equal(get('failure_rate'), s.failureRate);
    assert.equal(get('slow_call_rate'), s.slowRate);
    assert.deepEqual([s.successes, s.failures, s.ignored, s.rejected, s.windowSlow], [4, 3, 1, 2, 1]);
    // resilience4j's -1 while the window holds fewer than minimumCalls outcomes.
    const [fresh] = scripted('fresh');
    assert.equal(parsed(prometheusText([fresh], { naming: 'resilience4j' })).get('resilience4j_circuitbreaker_failure_rate{name=fresh}'), -1);
    // The default naming is unchanged.
    assert.equal(prometheusText([b], { naming: 'cbreaker' }), prometheusText([b]));
  });
});
