// Unit tests for every item of the JS API (injected time unless a test says otherwise).
// Bad input, throwing user code, timeouts and packaging have their own files.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { inspect } from 'node:util';
import {
  CircuitBreaker, CircuitOpenError, Permit, PermitSettledError, PRESETS, prometheusText,
} from '../dist/index.mjs';
import * as raw from '../dist/node/cbreaker.js';

const clocked = (opts) => {
  const t = { now: 0 };
  const b = new CircuitBreaker({ now: () => t.now, ...opts });
  return [b, t];
};
const tripAfter2 = { window: 'consecutive', consecutiveFailures: 2, openDurationMs: 1000 };
const boom = () => { throw new Error('boom'); };
const isCode = (code) => (e) => e.code === code;
const child = (code) => execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e',
  `import * as cb from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};\n${code}`],
{ encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });

describe('defaults and presets (the core\'s)', () => {
  test('new CircuitBreaker() and {} are Config::default()', () => {
    const a = new CircuitBreaker();
    const b = new CircuitBreaker({});
    assert.deepEqual(a.config, b.config);
    assert.equal(a.config.window, 'count');
    // The default trips at a 50 % failure rate over 100 calls (values read from the core).
    const [c] = clocked({});
    const { windowSize, failureRateThreshold } = c.config;
    for (let i = 0; i < windowSize; i++) {
      c.record(c.tryAcquire(), i < windowSize * (1 - failureRateThreshold / 100) ? 'success' : 'failure');
    }
    assert.equal(c.state, 'open');
  });

  test('PRESETS are the core\'s names; a preset with overrides', () => {
    assert.deepEqual(PRESETS, ['agents_platform', 'pybreaker', 'http_api', 'llm_service', 'database', 'notifications', 'cache']);
    assert.ok(Object.isFrozen(PRESETS));
    for (const preset of PRESETS) assert.equal(new CircuitBreaker({ preset }).state, 'closed', preset);
    const b = new CircuitBreaker({ preset: 'agents_platform', openDurationMs: 1000 });
    assert.deepEqual([b.config.window, b.config.consecutiveFailures, b.config.halfOpenMaxCalls, b.config.successThreshold, b.config.openDurationMs],
      ['consecutive', 5, 3, 2, 1000]);
    // A window field of another kind replaces the preset's window.
    assert.equal(new CircuitBreaker({ preset: 'http_api', windowSize: 50 }).config.windowSize, 50);
    assert.equal(new CircuitBreaker({ preset: 'http_api', windowDurationMs: 60_000 }).config.windowBuckets, 6);
    assert.throws(() => new CircuitBreaker({ preset: 'nope' }), (e) => e instanceof RangeError
      && e.option === 'preset' && /one of 'agents_platform'.*'cache', got "nope"/.test(e.message));
  });

  test('window: named, or implied by windowSize / windowDurationMs + windowBuckets', () => {
    assert.equal(new CircuitBreaker({ windowSize: 10 }).config.windowSize, 10);
    assert.equal(new CircuitBreaker({ windowDurationMs: 1000, windowBuckets: 10 }).config.window, 'time');
    assert.equal(new CircuitBreaker({ window: 'consecutive', consecutiveFailures: 3 }).config.window, 'consecutive');
    // consecutiveFailures alone is a rule on the default window, as in every other language.
    const b = new CircuitBreaker({ consecutiveFailures: 3 });
    assert.deepEqual([b.config.window, b.config.consecutiveFailures], ['count', 3]);
  });
});

describe('permits (begin/finish in the core)', () => {
  test('tryAcquire returns a Permit, or undefined when open', () => {
    const [b, t] = clocked(tripAfter2);
    const p = b.tryAcquire();
    assert.ok(p instanceof Permit);
    assert.equal(p.settled, false);
    p.failure();
    assert.equal(p.settled, true);
    b.tryAcquire().failure();
    assert.equal(b.tryAcquire(), undefined);
    t.now = 999;
    assert.equal(b.tryAcquire(), undefined);
    t.now = 1000;
    assert.ok(b.tryAcquire());
    assert.equal(b.state, 'half_open');
  });

  test('a second settle throws PermitSettledError and records nothing', () => {
    const [b] = clocked({ windowSize: 10 });
    const p = b.tryAcquire(0);
    assert.deepEqual(p.success(), { outcome: 'success', durationMs: null, transition: undefined });
    for (const again of [() => p.success(), () => p.failure(), () => p.ignore(), () => b.record(p, 'timeout')]) {
      assert.throws(again, (e) => e instanceof PermitSettledError && e instanceof Error
        && e.code === 'ERR_CB_PERMIT_SETTLED' && e.message === 'permit already settled: a permit is settled exactly once');
    }
    b.tryAcquire(0).failure();
    b.tryAcquire(0).ignore();
    const s = b.snapshot(0);
    assert.deepEqual([s.calls, s.successes, s.failures, s.ignored, s.windowCalls], [3, 1, 1, 1, 2]);
  });

  test('record(permit, end) takes every End name: timeout is a failure, cancelled is ignored', () => {
    const [b] = clocked({ windowSize: 10 });
    assert.equal(b.record(b.tryAcquire(), 'timeout').outcome, 'failure');
    assert.equal(b.record(b.tryAcquire(), 'cancelled').outcome, 'ignored');
    assert.deepEqual([b.snapshot().failures, b.snapshot().ignored], [1, 1]);
    assert.throws(() => b.record({}, 'success'), isCode('ERR_CB_INVALID_ARGUMENT'));
    const [other] = clocked({ windowSize: 10 });
    assert.throws(() => b.record(other.tryAcquire(0), 'failure'), isCode('ERR_CB_INVALID_ARGUMENT'));
    assert.throws(() => b.record(b.tryAcquire(0), 'ok'), (e) => e instanceof TypeError && /'success', 'failure', 'ignored', 'timeout', 'cancelled'/.test(e.message));
  });

  test('the core decides timing: the slow-call rule on, or a duration sink (a success/failure listener)', () => {
    // slowCallDurationMs alone does not time calls (the rule is off): no duration is reported.
    const [b, t] = clocked({ windowSize: 10, slowCallDurationMs: 50 });
    let p = b.tryAcquire();
    assert.equal(p.timed, false);
    t.now = 80;
    assert.equal(p.success().durationMs, null);
    assert.equal(b.snapshot().slow, 0);
    // A listener is a sink: the core times the call, and the duration is reported.
    const seen = [];
    b.on('success', (e) => seen.push(e.durationMs));
    p = b.tryAcquire();
    assert.equal(p.timed, true);
    t.now = 200;
    assert.equal(p.success().durationMs, 120);
    assert.deepEqual(seen, [120]);
    assert.equal(b.snapshot().slow, 1);
    // The slow-call rule on: timed without any listener.
    const [c, u] = clocked({ windowSize: 10, slowCallRateThreshold: 50, slowCallDurationMs: 50 });
    p = c.tryAcquire();
    assert.equal(p.timed, true);
    u.now = 70;
    assert.deepEqual(p.failure(), { outcome: 'failure', durationMs: 70, transition: undefined });
  });

  test('durationMs: the caller\'s measurement is reported; null reports none', () => {
    const [b] = clocked({ windowSize: 10, slowCallDurationMs: 100 });
    assert.equal(b.tryAcquire(0).success({ durationMs: 100, nowMs: 5 }).durationMs, 100);
    b.tryAcquire(0).success({ durationMs: 99 });
    b.tryAcquire(0).success({ durationMs: null });
    assert.equal(b.snapshot(0).slow, 1);
  });

  test('a probe permit collected unsettled counts as cancelled (ignored) and frees its half-open slot', () => {
    const out = child(`
      let t = 0;
      const b = new cb.CircuitBreaker({ window: 'consecutive', consecutiveFailures: 1, openDurationMs: 10, now: () => t });
      b.tryAcquire().failure();
      t = 10;
      (() => { b.tryAcquire(); })(); // the probe, dropped
      console.log(String(b.tryAcquire()));
      for (let i = 0; i < 20 && b.snapshot().ignored === 0; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      console.log(b.snapshot().ignored, b.tryAcquire() !== undefined);
    `);
    assert.deepEqual(out.trim().split('\n'), ['undefined', '1 true']);
  });
});

describe('call and wrap', () => {
  test('call resolves with the value of a sync or async function, passing args', async () => {
    const [b] = clocked({ windowSize: 10 });
    assert.equal(await b.call((x, y) => x + y, 2, 3), 5);
    assert.equal(await b.call(async (x) => x * 2, 21), 42);
    assert.equal(b.snapshot(0).successes, 2);
  });

  test('a rejection or throw is a failure and is rethrown', async () => {
    const [b] = clocked({ windowSize: 10 });
    await assert.rejects(b.call(boom), { message: 'boom' });
    await assert.rejects(b.call(async () => { throw new TypeError('x'); }), TypeError);
    assert.equal(b.snapshot(0).failures, 2);
  });

  test('exclude makes an error ignored; isFailure false makes it a success', async () => {
    const notFound = Object.assign(new Error('404'), { status: 404 });
    const cancelled = Object.assign(new Error('cancel'), { cancel: true });
    const [b] = clocked({ windowSize: 10, exclude: (e) => e.cancel === true, isFailure: (e) => e.status !== 404 });
    await assert.rejects(b.call(() => Promise.reject(notFound)), notFound);
    await assert.rejects(b.call(() => Promise.reject(cancelled)), cancelled);
    await assert.rejects(b.call(boom));
    const s = b.snapshot(0);
    assert.deepEqual([s.successes, s.ignored, s.failures], [1, 1, 1]);
  });

  test('a timed call reports its duration (the core times it when the slow rule is on)', async () => {
    const [b, t] = clocked({ windowSize: 10, slowCallRateThreshold: 100, slowCallDurationMs: 50 });
    const seen = [];
    b.on('failure', (e) => seen.push(e.durationMs));
    await b.call(async () => { t.now += 60; });
    await b.call(async () => { t.now += 10; });
    await assert.rejects(b.call(async () => { t.now += 5; throw new Error('x'); }));
    assert.equal(b.snapshot().slow, 1);
    assert.deepEqual(seen, [5]);
  });

  test('a non-function is refused with ERR_CB_INVALID_ARGUMENT (a rejection, never a throw)', async () => {
    const [b] = clocked({ windowSize: 10 });
    await assert.rejects(b.call(42), (e) => e instanceof TypeError && e.code === 'ERR_CB_INVALID_ARGUMENT');
    assert.throws(() => b.wrap(null), isCode('ERR_CB_INVALID_ARGUMENT'));
    assert.equal(b.snapshot(0).calls, 0);
  });

  test('wrap keeps this and arguments', async () => {
    const [b] = clocked({ windowSize: 10 });
    const obj = { k: 3, f: b.wrap(function f(x) { return this.k * x; }) };
    assert.equal(await obj.f(5), 15);
    const failing = b.wrap(boom);
    await assert.rejects(failing());
    assert.deepEqual([b.snapshot().successes, b.snapshot().failures], [1, 1]);
  });

  test('fallback: its value when the call is rejected or fails; its own error otherwise', async () => {
    const seen = [];
    const [b] = clocked({ ...tripAfter2, fallback: (e) => { seen.push(e.code ?? e.message); return 'cached'; } });
    assert.equal(await b.call(boom), 'cached');
    assert.equal(await b.call(boom), 'cached');
    assert.equal(await b.call(() => 'live'), 'cached'); // open: fn not called
    assert.deepEqual(seen, ['boom', 'boom', 'ERR_CIRCUIT_OPEN']);
    const [c] = clocked({ windowSize: 10, fallback: () => { throw new Error('no cache'); } });
    await assert.rejects(c.call(boom), { message: 'no cache' });
  });
});

describe('rejections say why', () => {
  test('open: reason and the core\'s retry advice; fn is not called', async () => {
    const [b, t] = clocked({ ...tripAfter2, name: 'db' });
    await assert.rejects(b.call(boom));
    await assert.rejects(b.call(boom));
    t.now = 250;
    let called = false;
    await assert.rejects(b.call(() => { called = true; }), (e) => {
      assert.ok(e instanceof CircuitOpenError && e instanceof Error);
      assert.deepEqual([e.code, e.reason, e.retryAfterMs], ['ERR_CIRCUIT_OPEN', 'open', 750]);
      assert.equal(e.message, "breaker 'db': circuit open: retry after 750ms");
      return true;
    });
    assert.equal(called, false);
    assert.equal(b.snapshot().rejected, 1);
  });

  test('half-open with every probe slot taken: half_open_full, advice at most 1 s (the core\'s)', async () => {
    const [b, t] = clocked({ ...tripAfter2, halfOpenMaxCalls: 1, halfOpenMaxWaitMs: 60_000 });
    b.tryAcquire().failure();
    b.tryAcquire().failure();
    t.now = 1000;
    const probe = b.tryAcquire();
    assert.ok(probe);
    const rejected = [];
    b.on('reject', (e) => rejected.push([e.reason, e.retryAfterMs]));
    await assert.rejects(b.call(() => 1), (e) => e.reason === 'half_open_full' && e.retryAfterMs === 1000
      && /every probe slot taken: retry after 1000ms/.test(e.message));
    assert.deepEqual(rejected, [['half_open_full', 1000]]);
    // Closer to the reclaim than 1 s, the advice is the time until the reclaim.
    const [c, u] = clocked({ ...tripAfter2, halfOpenMaxWaitMs: 300 });
    c.tryAcquire().failure();
    c.tryAcquire().failure();
    u.now = 1000;
    c.tryAcquire();
    u.now = 1100;
    await assert.rejects(c.call(() => 1), (e) => e.reason === 'half_open_full' && e.retryAfterMs === 200);
  });

  test('forced open: reason forced_open, retryAfterMs null', async () => {
    const [b] = clocked({ windowSize: 10 });
    b.forceOpen();
    await assert.rejects(b.call(() => 1), (e) => e.reason === 'forced_open' && e.retryAfterMs === null
      && e.message === 'circuit forced open');
  });
});

describe('state, health, snapshot, manual moves', () => {
  test('state reads without taking a permit, at the breaker\'s clock', () => {
    const [b, t] = clocked(tripAfter2);
    b.tryAcquire().failure();
    b.tryAcquire().failure();
    t.now = 1000;
    assert.equal(b.state, 'half_open');
    t.now = 500;
    assert.equal(b.state, 'open');
    t.now = 1000;
    assert.equal(b.snapshot().rejected, 0);
    assert.ok(b.tryAcquire(), 'state must not have used the probe slot');
  });

  test('health is the core\'s rule: half-open and open are unhealthy', () => {
    const [b, t] = clocked(tripAfter2);
    assert.equal(b.health, 'healthy');
    b.tryAcquire().failure();
    b.tryAcquire().failure();
    assert.equal(b.health, 'unhealthy');
    t.now = 1000;
    assert.equal(b.state, 'half_open');
    assert.equal(b.health, 'unhealthy');
    b.forceClosed();
    assert.equal(b.health, 'healthy');
  });

  test('snapshot and stats have every field (stats: health and name too, in one call)', () => {
    const [b] = clocked({ windowSize: 4, minimumCalls: 4, consecutiveFailures: 10, name: 'x' });
    b.tryAcquire().success();
    b.tryAcquire().failure();
    const s = b.snapshot();
    const fields = ['calls', 'consecutiveFailures', 'failureRate', 'failures', 'generation', 'ignored', 'rejected',
      'retryAfterMs', 'slow', 'slowRate', 'state', 'successes', 'transitions', 'windowCalls', 'windowFailures', 'windowSlow'];
    assert.deepEqual(Object.keys(s).sort(), fields.sort());
    assert.equal(s.failureRate, 50);
    assert.equal(s.retryAfterMs, null);
    assert.deepEqual(s.transitions, { closed: 0, open: 0, half_open: 0, forced_open: 0, disabled: 0, metrics_only: 0 });
    const st = b.stats();
    assert.deepEqual(Object.keys(st).sort(), [...fields, 'health', 'name'].sort());
    assert.deepEqual([st.health, st.name], ['healthy', 'x']);
  });

  test('every manual move returns its transition and fires statechange', () => {
    const [b, t] = clocked({ windowSize: 2, minimumCalls: 2, openDurationMs: 100 });
    const seen = [];
    b.on('statechange', (e) => seen.push(e.cause));
    t.now = 7;
    assert.deepEqual(b.forceOpen(), { from: 'closed', to: 'forced_open', at: 7, generation: 1, cause: 'force_open' });
    assert.equal(b.tryAcquire(), undefined);
    assert.equal(b.forceClosed(8).to, 'disabled');
    assert.equal(b.metricsOnly().cause, 'metrics_only');
    assert.deepEqual(b.reset(9), { from: 'metrics_only', to: 'closed', at: 9, generation: 4, cause: 'reset' });
    // trip: open with a real deadline, recovering by itself (unlike forceOpen).
    assert.deepEqual(b.trip(10), { from: 'closed', to: 'open', at: 10, generation: 5, cause: 'trip' });
    assert.equal(b.snapshot(60).retryAfterMs, 50);
    t.now = 110;
    assert.ok(b.tryAcquire());
    // halfOpen: probes admitted at once.
    b.forceOpen();
    assert.equal(b.halfOpen().to, 'half_open');
    assert.ok(b.tryAcquire());
    assert.deepEqual(seen, ['force_open', 'force_closed', 'metrics_only', 'reset', 'trip', 'open_elapsed', 'force_open', 'half_open']);
  });

  test('the raw module\'s cold paths return named objects', () => {
    const h = raw.breakerNew(undefined, 0, 10, ...new Array(15).fill(undefined), false);
    assert.equal(raw.snapshot(h, 0, false).state, 'closed');
    assert.deepEqual(raw.manual(h, 4, 5), { from: 'closed', to: 'open', at: 5, generation: 1, cause: 'trip' });
    assert.equal(raw.config(h).windowSize, 10);
    raw.breakerFree(h);
    assert.equal(raw.snapshot(h, 0, false), undefined, 'a freed handle finds nothing');
  });
});

describe('Prometheus text (the core\'s write_text)', () => {
  test('the same bytes as Rust\'s (the golden file src/lib.rs checks too)', async () => {
    const { readFileSync } = await import('node:fs');
    const b = new CircuitBreaker({ windowSize: 4, minimumCalls: 4, name: 'pay"ments', now: () => 0 });
    for (const o of ['success', 'failure', 'failure']) b.record(b.tryAcquire(), o);
    assert.equal(b.prometheusText(), readFileSync(new URL('prometheus.golden.txt', import.meta.url), 'utf8'));
  });

  test('one breaker, and several by name, in the core\'s families', () => {
    const [a] = clocked({ windowSize: 4, minimumCalls: 4, name: 'pay"ments' });
    a.tryAcquire().success();
    a.tryAcquire().failure();
    a.tryAcquire().failure();
    const text = a.prometheusText();
    assert.ok(text.startsWith('# HELP cbreaker_state '), text);
    assert.match(text, /^cbreaker_state\{breaker="pay\\"ments",state="closed"\} 1$/m);
    assert.match(text, /^cbreaker_calls_total\{breaker="pay\\"ments",outcome="failure"\} 2$/m);
    assert.match(text, /^cbreaker_window_failure_rate_percent\{breaker="pay\\"ments"\} 66\.66666666666666666666$/m);
    for (const f of ['cbreaker_calls_total', 'cbreaker_slow_calls_total', 'cbreaker_transitions_total', 'cbreaker_window_slow_rate_percent',
      'cbreaker_retry_after_seconds', 'cbreaker_call_duration_seconds']) assert.match(text, new RegExp(`^# TYPE ${f} `, 'm'));
    const [b] = clocked({ windowSize: 4 });
    b.forceOpen();
    const both = prometheusText({ a, b });
    assert.match(both, /^cbreaker_state\{breaker="a",state="closed"\} 1\ncbreaker_state\{breaker="a",state="open"\} 0$/m);
    assert.match(both, /^cbreaker_state\{breaker="b",state="forced_open"\} 1$/m);
    assert.equal(prometheusText(new Map([['a', a], ['b', b]])), both);
    assert.equal(prometheusText([a]), text);
    // Each breaker is read at its own clock.
    const [c, t] = clocked({ window: 'consecutive', consecutiveFailures: 1, openDurationMs: 1000 });
    c.tryAcquire().failure();
    t.now = 250;
    assert.match(prometheusText({ c }), /^cbreaker_retry_after_seconds\{breaker="c"\} 0\.75$/m);
    assert.throws(() => prometheusText({ x: {} }), isCode('ERR_CB_INVALID_ARGUMENT'));
  });
});

describe('events', () => {
  test('statechange, reject, success, failure fire with their details', async () => {
    const [b, t] = clocked(tripAfter2);
    const seen = [];
    b.on('statechange', (e) => seen.push(`${e.type}:${e.from}->${e.to}:${e.cause}@${e.at}`));
    b.on('reject', (e) => seen.push(`reject:${e.reason}:${e.retryAfterMs}`));
    b.on('success', (e) => seen.push(`success:${e.durationMs}`));
    b.on('failure', { handleEvent: (e) => seen.push(`failure:${e.error?.message}:${e.durationMs}`) });
    await assert.rejects(b.call(boom));
    b.tryAcquire().failure({ durationMs: 3 });
    t.now = 400;
    assert.equal(b.tryAcquire(), undefined);
    t.now = 1000;
    await b.call(async () => { t.now += 7; });
    assert.deepEqual(seen, ['failure:boom:0', 'failure:undefined:3', 'statechange:closed->open:consecutive_failures@0',
      'reject:open:600', 'statechange:open->half_open:open_elapsed@1000', 'success:7',
      'statechange:half_open->closed:probes_succeeded@1007']);
  });

  test('off removes; a listener is added once; unknown events are refused', () => {
    const [b] = clocked(tripAfter2);
    let n = 0;
    const l = () => { n++; };
    b.on('failure', l).on('failure', l); // added once
    b.tryAcquire().failure();
    b.off('failure', l);
    b.tryAcquire().failure();
    b.on('statechange', l);
    b.off('statechange', l);
    b.reset();
    assert.equal(n, 1);
    assert.throws(() => b.on('open', l), isCode('ERR_CB_INVALID_ARGUMENT'));
    assert.throws(() => b.on('reject', 5), isCode('ERR_CB_INVALID_ARGUMENT'));
  });
});

describe('clock', () => {
  test('performance.now() is the default clock', async () => {
    const b = new CircuitBreaker({ ...tripAfter2, openDurationMs: 400 });
    b.tryAcquire().failure();
    b.tryAcquire().failure();
    assert.equal(b.state, 'open');
    const left = b.snapshot().retryAfterMs;
    assert.ok(left > 0 && left <= 400, String(left));
    await new Promise((r) => setTimeout(r, 450));
    assert.equal(b.state, 'half_open');
    assert.ok(b.tryAcquire());
  });

  test('the injected clock is read per operation, not at construction', () => {
    let reads = 0;
    const b = new CircuitBreaker({ windowSize: 10, now: () => { reads++; return 0; } });
    assert.equal(reads, 0);
    b.tryAcquire().success();
    assert.equal(reads, 2);
    b.tryAcquire(5).success({ nowMs: 5 });
    assert.equal(reads, 2);
  });
});

test('console.log(breaker) shows its name, state and counters', () => {
  const [b] = clocked({ windowSize: 10, name: 'db' });
  b.tryAcquire().failure();
  assert.equal(inspect(b), "CircuitBreaker {\n  name: 'db',\n  state: 'closed',\n  health: 'healthy',\n  calls: 1,\n  failures: 1,\n  rejected: 0,\n  retryAfterMs: null\n}");
  b.free();
  assert.equal(inspect(b), "CircuitBreaker { error: 'ERR_CB_FREED' }");
});

test('CommonJS require and cbreaker/web give the same classes', async () => {
  const require = createRequire(import.meta.url);
  const cjs = require('../dist/index.cjs');
  assert.equal(cjs.CircuitBreaker, CircuitBreaker);
  assert.equal(cjs.CircuitOpenError, CircuitOpenError);
  const web = await import('../dist/web-node.mjs');
  assert.equal(web.CircuitOpenError, CircuitOpenError);
  assert.equal(web.PermitSettledError, PermitSettledError);
});
