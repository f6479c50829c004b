// Unit tests for every item of the JS API (injected time unless a test says otherwise).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { CircuitBreaker, CircuitOpenError, Permit } from '../dist/index.mjs';

const clocked = (opts) => {
  const t = { now: 0 };
  const b = new CircuitBreaker({ now: () => t.now, ...opts });
  return [b, t];
};
const tripAfter2 = { window: 'consecutive', consecutiveFailures: 2, openDurationMs: 1000 };
const boom = () => { throw new Error('boom'); };
const isCode = (code) => (e) => e.code === code;

describe('options', () => {
  test('window is inferred or named; unknown options and kinds are refused', () => {
    assert.equal(new CircuitBreaker({ windowSize: 10 }).snapshot(0).windowCalls, 0);
    assert.equal(new CircuitBreaker({ windowDurationMs: 1000, windowBuckets: 10 }).state, 'closed');
    assert.equal(new CircuitBreaker({ consecutiveFailures: 3 }).state, 'closed');
    for (const [opts, option] of [
      [{}, 'window'], [{ window: 'sliding' }, 'window'], [{ window: 'count' }, 'windowSize'],
      [{ window: 'time', windowBuckets: 2 }, 'windowDurationMs'], [{ window: 'time', windowDurationMs: 10 }, 'windowBuckets'],
      [{ windowSize: 10, failureThreshold: 5 }, 'failureThreshold'],
      [{ windowSize: 10, now: 5 }, 'now'], [{ windowSize: 10, isFailure: true }, 'isFailure'],
      [{ windowSize: 10, exclude: 'x' }, 'exclude'], [{ windowSize: 10, name: 3 }, 'name'],
      [{ windowSize: 10, jitterSeed: -1 }, 'jitterSeed'], [{ windowSize: 10, jitterSeed: 1.5 }, 'jitterSeed'],
    ]) {
      assert.throws(() => new CircuitBreaker(opts), (e) => e instanceof RangeError
        && e.code === 'ERR_CB_INVALID_CONFIG' && e.option === option, JSON.stringify(opts));
    }
    assert.throws(() => new CircuitBreaker(null), isCode('ERR_CB_INVALID_CONFIG'));
  });

  test('every core config error is a RangeError naming the JS option (docs/errors.md)', () => {
    const cases = [
      [{ windowSize: 0 }, 'windowSize'], [{ windowSize: 1025 }, 'windowSize'],
      [{ windowDurationMs: 1001, windowBuckets: 10 }, 'windowDurationMs'],
      [{ windowDurationMs: 1000, windowBuckets: 0 }, 'windowBuckets'],
      [{ windowDurationMs: 6500, windowBuckets: 65 }, 'windowBuckets'],
      [{ windowSize: 10, failureRateThreshold: 101 }, 'failureRateThreshold'],
      [{ windowSize: 10, failureRateThreshold: 300 }, 'failureRateThreshold'],
      [{ windowSize: 10, slowCallRateThreshold: 101 }, 'slowCallRateThreshold'],
      [{ windowSize: 10, slowCallDurationMs: 2 ** 32 }, 'slowCallDurationMs'],
      [{ window: 'consecutive', consecutiveFailures: 0 }, 'consecutiveFailures'],
      [{ windowSize: 10, consecutiveFailures: 2 ** 20 + 1 }, 'consecutiveFailures'],
      [{ windowSize: 10, openDurationMs: 0 }, 'openDurationMs'],
      [{ windowSize: 10, openDurationMs: 100, openDurationMaxMs: 99 }, 'openDurationMaxMs'],
      [{ windowSize: 10, openDurationMultiplier: 0.5 }, 'openDurationMultiplier'],
      [{ windowSize: 10, openDurationMultiplier: NaN }, 'openDurationMultiplier'],
      [{ windowSize: 10, jitterPercent: 101 }, 'jitterPercent'],
      [{ windowSize: 10, halfOpenMaxCalls: 32 }, 'halfOpenMaxCalls'],
      [{ windowSize: 10, successThreshold: 0 }, 'successThreshold'],
      [{ windowSize: 10, halfOpenMaxWaitMs: 0 }, 'halfOpenMaxWaitMs'],
      // binding-level: wrong type, negative, fractional, infinite
      [{ windowSize: '10' }, 'windowSize'], [{ windowSize: -1 }, 'windowSize'],
      [{ windowSize: 1.5 }, 'windowSize'], [{ windowSize: 10, openDurationMs: Infinity }, 'openDurationMs'],
      [{ windowSize: 10, minimumCalls: NaN }, 'minimumCalls'],
    ];
    for (const [opts, option] of cases) {
      assert.throws(() => new CircuitBreaker(opts), (e) => {
        assert.ok(e instanceof RangeError, `${JSON.stringify(opts)}: ${e}`);
        assert.equal(e.code, 'ERR_CB_INVALID_CONFIG');
        assert.equal(e.option, option, `${JSON.stringify(opts)}: ${e.message}`);
        assert.match(e.message, /^invalid config: /);
        return true;
      });
    }
  });

  test('core messages come through unchanged', () => {
    assert.throws(() => new CircuitBreaker({ windowSize: 10, halfOpenMaxCalls: 32 }),
      { message: 'invalid config: half_open_max_calls must be 1 to 31' });
  });

  test('defaults are the core\'s: failure rate 50 %, minimum calls capped at the size, 60 s open', () => {
    const [b] = clocked({ windowSize: 4 });
    for (const o of ['success', 'success', 'failure']) b.tryAcquire(0)[o]();
    assert.equal(b.stateAt(0), 'closed');
    b.tryAcquire(0).failure();
    assert.equal(b.stateAt(0), 'open');
    assert.equal(b.snapshot(1).retryAfterMs, 59_999);
  });

  test('jitterSeed takes a bigint past 2^53', () => {
    const b = new CircuitBreaker({ windowSize: 1, minimumCalls: 1, jitterPercent: 50, jitterSeed: 2n ** 63n + 5n });
    b.tryAcquire(0).failure({ nowMs: 0 });
    const after = b.snapshot(0).retryAfterMs;
    assert.ok(after >= 30_000 && after <= 90_000, String(after));
  });
});

describe('permits', () => {
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

  test('success / failure / ignore count where they should; a second settle does nothing', () => {
    const [b] = clocked({ windowSize: 10 });
    const p = b.tryAcquire(0);
    p.success();
    p.failure();
    b.tryAcquire(0).failure();
    b.tryAcquire(0).ignore();
    const s = b.snapshot(0);
    assert.deepEqual([s.calls, s.successes, s.failures, s.ignored, s.windowCalls], [3, 1, 1, 1, 2]);
  });

  test('durationMs marks slow calls; nowMs is validated', () => {
    const [b] = clocked({ windowSize: 10, slowCallDurationMs: 100 });
    b.tryAcquire(0).success({ durationMs: 100, nowMs: 5 });
    b.tryAcquire(0).success({ durationMs: 99 });
    assert.equal(b.snapshot(0).slow, 1);
    const p = b.tryAcquire(0);
    assert.throws(() => p.success({ nowMs: -1 }), (e) => e instanceof TypeError && e.code === 'ERR_CB_INVALID_ARGUMENT');
    assert.throws(() => b.tryAcquire('5'), (e) => e instanceof TypeError && e.code === 'ERR_CB_INVALID_ARGUMENT');
    assert.throws(() => b.tryAcquire(NaN), isCode('ERR_CB_INVALID_ARGUMENT'));
    assert.throws(() => b.stateAt(Infinity), isCode('ERR_CB_INVALID_ARGUMENT'));
  });

  test('record(permit, outcome) checks its arguments', () => {
    const [b] = clocked({ windowSize: 10 });
    b.record(b.tryAcquire(0), 'failure', { nowMs: 1 });
    b.record(b.tryAcquire(0), 'ignored');
    assert.equal(b.snapshot(0).failures, 1);
    assert.equal(b.snapshot(0).ignored, 1);
    assert.throws(() => b.record({}, 'success'), isCode('ERR_CB_INVALID_ARGUMENT'));
    assert.throws(() => b.record(null, 'success'), isCode('ERR_CB_INVALID_ARGUMENT'));
    const [other] = clocked({ windowSize: 10 });
    assert.throws(() => b.record(other.tryAcquire(0), 'failure'), isCode('ERR_CB_INVALID_ARGUMENT'));
    assert.throws(() => b.record(b.tryAcquire(0), 'ok'), (e) => e instanceof TypeError && e.code === 'ERR_CB_INVALID_ARGUMENT');
  });

  test('half-open admits at most halfOpenMaxCalls probes; ignore frees a slot', () => {
    const [b, t] = clocked({ ...tripAfter2, halfOpenMaxCalls: 2, successThreshold: 2 });
    b.tryAcquire().failure();
    b.tryAcquire().failure();
    t.now = 1000;
    const p1 = b.tryAcquire();
    const p2 = b.tryAcquire();
    assert.ok(p1 && p2);
    assert.equal(b.tryAcquire(), undefined);
    p1.ignore();
    const p3 = b.tryAcquire();
    assert.ok(p3);
    p2.success();
    p3.success();
    assert.equal(b.state, 'closed');
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

  test('a throwing predicate still settles the permit (as a failure)', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { CircuitBreaker } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
      process.on('uncaughtException', (e) => console.log('reported:' + e.message));
      const b = new CircuitBreaker({ window: 'consecutive', consecutiveFailures: 1, halfOpenMaxCalls: 1,
        exclude: () => { throw new Error('predicate'); }, now: () => 0 });
      await b.call(() => { throw new Error('x'); }).catch((e) => console.log('rejected:' + e.message));
      console.log(b.snapshot().failures + ':' + b.state);
    `], { encoding: 'utf8', timeout: 30_000 });
    assert.deepEqual(out.trim().split('\n').sort(), ['1:open', 'rejected:x', 'reported:predicate']);
  });

  test('an open circuit rejects with ERR_CIRCUIT_OPEN and retryAfterMs, without calling fn', async () => {
    const [b, t] = clocked({ ...tripAfter2, name: 'db' });
    await assert.rejects(b.call(boom));
    await assert.rejects(b.call(boom));
    t.now = 250;
    let called = false;
    await assert.rejects(b.call(() => { called = true; }), (e) => {
      assert.ok(e instanceof CircuitOpenError && e instanceof Error);
      assert.equal(e.code, 'ERR_CIRCUIT_OPEN');
      assert.equal(e.retryAfterMs, 750);
      assert.match(e.message, /'db' open: retry after 750 ms/);
      return true;
    });
    assert.equal(called, false);
    assert.equal(b.snapshot().rejected, 1);
  });

  test('forced open rejects with retryAfterMs null', async () => {
    const [b] = clocked({ windowSize: 10 });
    b.forceOpen();
    await assert.rejects(b.call(() => 1), (e) => e.code === 'ERR_CIRCUIT_OPEN' && e.retryAfterMs === null);
  });

  test('call measures the duration with the breaker clock (slow calls)', async () => {
    const [b, t] = clocked({ windowSize: 10, slowCallDurationMs: 50 });
    await b.call(async () => { t.now += 60; });
    await b.call(async () => { t.now += 10; });
    assert.equal(b.snapshot().slow, 1);
  });

  test('a non-function is refused with ERR_CB_INVALID_ARGUMENT', async () => {
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

  test('callWith: a timeout rejects with TimeoutError, counts as a failure and aborts fn\'s signal', async () => {
    const [b] = clocked({ windowSize: 10 });
    let seen;
    await assert.rejects(b.callWith({ timeoutMs: 20 }, ({ signal }) => {
      seen = signal;
      return new Promise(() => {});
    }), (e) => e.name === 'TimeoutError');
    assert.equal(seen.aborted, true);
    assert.equal(b.snapshot().failures, 1);
    assert.equal(await b.callWith({ timeoutMs: 1000 }, async () => 'fast'), 'fast');
    assert.equal(b.snapshot().successes, 1);
  });

  test('callWith: an abort rejects with the reason and counts as ignored', async () => {
    const [b] = clocked({ windowSize: 10 });
    const ctl = new AbortController();
    const p = b.callWith({ signal: ctl.signal }, () => new Promise(() => {}));
    ctl.abort(new Error('stop'));
    await assert.rejects(p, { message: 'stop' });
    await assert.rejects(b.callWith({ signal: ctl.signal }, () => 1), { message: 'stop' });
    const s = b.snapshot();
    assert.deepEqual([s.ignored, s.failures, s.calls], [1, 0, 1]);
    await assert.rejects(b.callWith({ signal: {} }, () => 1), isCode('ERR_CB_INVALID_ARGUMENT'));
    await assert.rejects(b.callWith(null, () => 1), isCode('ERR_CB_INVALID_ARGUMENT'));
  });
});

describe('state, snapshot and manual control', () => {
  test('state reads without taking a permit; stateAt takes a time', () => {
    const [b, t] = clocked(tripAfter2);
    b.tryAcquire().failure();
    b.tryAcquire().failure();
    t.now = 1000;
    assert.equal(b.state, 'half_open');
    assert.equal(b.stateAt(500), 'open');
    assert.equal(b.snapshot().rejected, 0);
    assert.ok(b.tryAcquire(), 'state must not have used the probe slot');
  });

  test('snapshot has every field', () => {
    const [b] = clocked({ windowSize: 4, minimumCalls: 4, consecutiveFailures: 10 });
    b.tryAcquire().success();
    b.tryAcquire().failure();
    const s = b.snapshot();
    assert.deepEqual(Object.keys(s).sort(), ['calls', 'consecutiveFailures', 'failureRate', 'failures', 'generation',
      'ignored', 'rejected', 'retryAfterMs', 'slow', 'slowRate', 'state', 'successes', 'transitions', 'windowCalls',
      'windowFailures', 'windowSlow'].sort());
    assert.equal(s.failureRate, 50);
    assert.equal(s.consecutiveFailures, 1);
    assert.equal(s.retryAfterMs, null);
    assert.deepEqual(s.transitions, { closed: 0, open: 0, half_open: 0, forced_open: 0, disabled: 0, metrics_only: 0 });
  });

  test('forceOpen / forceClosed / metricsOnly / reset each return one transition', () => {
    const [b, t] = clocked({ windowSize: 2, minimumCalls: 2 });
    t.now = 7;
    assert.deepEqual(b.forceOpen(), { from: 'closed', to: 'forced_open', at: 7, generation: 1, cause: 'force_open' });
    assert.equal(b.tryAcquire(), undefined);
    assert.equal(b.forceClosed(8).to, 'disabled');
    b.tryAcquire().failure();
    b.tryAcquire().failure();
    assert.equal(b.state, 'disabled');
    assert.equal(b.metricsOnly().cause, 'metrics_only');
    b.tryAcquire().failure();
    b.tryAcquire().failure();
    assert.equal(b.state, 'metrics_only');
    assert.equal(b.snapshot().windowFailures, 2);
    assert.deepEqual(b.reset(9), { from: 'metrics_only', to: 'closed', at: 9, generation: 4, cause: 'reset' });
    assert.equal(b.snapshot().windowCalls, 0);
    assert.equal(b.snapshot().transitions.closed, 1);
  });
});

describe('events', () => {
  test('statechange, reject, success, failure fire with their details', async () => {
    const [b, t] = clocked({ ...tripAfter2, slowCallDurationMs: 5 });
    const seen = [];
    b.on('statechange', (e) => seen.push(`${e.type}:${e.from}->${e.to}:${e.cause}@${e.at}`));
    b.on('reject', (e) => seen.push(`reject:${e.retryAfterMs}`));
    b.on('success', (e) => seen.push(`success:${e.durationMs}`));
    b.addEventListener('failure', { handleEvent: (e) => seen.push(`failure:${e.error?.message}`) });
    await assert.rejects(b.call(boom));
    b.tryAcquire().failure({ durationMs: 3 });
    t.now = 400;
    assert.equal(b.tryAcquire(), undefined);
    t.now = 1000;
    await b.call(async () => { t.now += 7; });
    assert.deepEqual(seen, ['failure:boom', 'failure:undefined', 'statechange:closed->open:consecutive_failures@0',
      'reject:600', 'statechange:open->half_open:open_elapsed@1000', 'success:7',
      'statechange:half_open->closed:probes_succeeded@1007']);
  });

  test('off and removeEventListener remove; unknown events are refused', () => {
    const [b] = clocked(tripAfter2);
    let n = 0;
    const l = () => { n++; };
    b.on('failure', l).addEventListener('failure', l); // added once
    b.tryAcquire().failure();
    b.removeEventListener('failure', l);
    b.tryAcquire().failure();
    b.on('statechange', l);
    b.off('statechange', l);
    b.reset();
    assert.equal(n, 1);
    assert.throws(() => b.on('open', l), isCode('ERR_CB_INVALID_ARGUMENT'));
    assert.throws(() => b.on('reject', 5), isCode('ERR_CB_INVALID_ARGUMENT'));
  });

  test('a throwing listener stops neither the others nor the breaker; its error is reported', () => {
    // In a child process: the error surfaces as an uncaught exception, as with EventTarget.
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { CircuitBreaker } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
      process.on('uncaughtException', (e) => console.log('reported:' + e.message));
      const b = new CircuitBreaker({ window: 'consecutive', consecutiveFailures: 2, now: () => 0 });
      let later = 0;
      b.on('statechange', () => { throw new Error('listener'); });
      b.on('statechange', () => { later++; });
      b.tryAcquire().failure();
      b.tryAcquire().failure();
      console.log(b.state + ':' + later);
    `], { encoding: 'utf8', timeout: 30_000 });
    assert.deepEqual(out.trim().split('\n'), ['open:1', 'reported:listener']);
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

test('CommonJS require gives the same classes', () => {
  const require = createRequire(import.meta.url);
  const cjs = require('../dist/index.cjs');
  assert.equal(cjs.CircuitBreaker, CircuitBreaker);
  assert.equal(cjs.CircuitOpenError, CircuitOpenError);
});

test('free() releases the wasm memory; the breaker is unusable after', () => {
  const b = new CircuitBreaker({ windowSize: 10 });
  b.free();
  assert.throws(() => b.tryAcquire(0));
});
