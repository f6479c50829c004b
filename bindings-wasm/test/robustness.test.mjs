// What users get wrong or what goes wrong around them: user code that throws, calls that hang,
// bad input. Each bad input has its own test; messages name the JS option and show the value
// as it was given.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { CircuitBreaker } from '../dist/index.mjs';

const clocked = (opts) => {
  const t = { now: 0 };
  const b = new CircuitBreaker({ now: () => t.now, ...opts });
  return [b, t];
};
const boom = () => { throw new Error('boom'); };
const hang = () => new Promise(() => {});
/** Runs `code` in a child process that reports any uncaught exception; returns stdout and stderr. */
function child(code) {
  const script = `
    import * as cb from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
    process.on('uncaughtException', (e) => console.log('UNCAUGHT ' + e.message));
    process.on('unhandledRejection', (e) => console.log('UNHANDLED ' + e?.message));
    ${code}
    await new Promise((r) => setTimeout(r, 20));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}
function childStderr(code) {
  const script = `
    import * as cb from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)};
    process.on('uncaughtException', (e) => console.log('UNCAUGHT ' + e.message));
    ${code}
    await new Promise((r) => setTimeout(r, 20));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { stdout: r.stdout, stderr: r.stderr };
}
const rangeOf = (option, pattern) => (e) => {
  assert.ok(e instanceof RangeError, `expected a RangeError, got ${e}`);
  assert.equal(e.code, 'ERR_CB_INVALID_CONFIG');
  assert.equal(e.option, option);
  assert.match(e.message, pattern);
  return true;
};
const typeOf = (option, pattern) => (e) => {
  assert.ok(e instanceof TypeError, `expected a TypeError, got ${e}`);
  assert.equal(e.code, 'ERR_CB_INVALID_CONFIG');
  assert.equal(e.option, option);
  assert.match(e.message, pattern);
  return true;
};

describe('user code that throws never escapes', () => {
  test('a throwing isFailure: an error event, the call counted as a failure, its own error handed on', async () => {
    const reported = [];
    const [b] = clocked({ windowSize: 10, isFailure: () => { throw new Error('predicate'); } });
    b.on('error', (e) => reported.push(`${e.source}:${e.error.message}`));
    await assert.rejects(b.call(() => Promise.reject(new Error('upstream'))), { message: 'upstream' });
    assert.deepEqual(reported, ['isFailure:predicate']);
    assert.equal(b.snapshot().failures, 1);
  });

  test('a throwing exclude with no error listener: console.error, no uncaught exception', () => {
    const { stdout, stderr } = childStderr(`
      const b = new cb.CircuitBreaker({ window: 'consecutive', consecutiveFailures: 1, exclude: () => { throw new Error('predicate'); }, now: () => 0 });
      await b.call(() => { throw new Error('x'); }).catch((e) => console.log('rejected:' + e.message));
      console.log(b.snapshot().failures + ':' + b.state);`);
    assert.deepEqual(stdout.trim().split('\n'), ['rejected:x', '1:open']);
    assert.match(stderr, /cbreaker: the exclude option threw \(the breaker went on\): Error: predicate/);
  });

  test('a throwing listener: the others still run, an error event, no uncaught exception', () => {
    const out = child(`
      const b = new cb.CircuitBreaker({ window: 'consecutive', consecutiveFailures: 2, now: () => 0 });
      let later = 0;
      b.on('statechange', () => { throw new Error('listener'); });
      b.on('statechange', () => { later++; });
      b.on('error', (e) => console.log('error event:' + e.source + ':' + e.error.message));
      b.tryAcquire().failure();
      b.tryAcquire().failure();
      console.log(b.state + ':' + later);`);
    assert.deepEqual(out.trim().split('\n'), ['error event:statechange:listener', 'open:1']);
  });

  test('a throwing listener with no error listener (or a throwing error listener): console.error only', () => {
    const { stdout, stderr } = childStderr(`
      const b = new cb.CircuitBreaker({ windowSize: 10, now: () => 0 });
      b.on('success', () => { throw new Error('listener'); });
      await b.call(() => 1).then((v) => console.log('resolved:' + v));
      b.on('error', () => { throw new Error('error listener'); });
      b.tryAcquire().success();
      console.log('calls:' + b.snapshot().calls);`);
    assert.deepEqual(stdout.trim().split('\n'), ['resolved:1', 'calls:2']);
    assert.match(stderr, /a listener of 'success' threw \(the breaker went on\): Error: listener/);
    assert.match(stderr, /a listener of 'error' threw \(the breaker went on\): Error: error listener/);
  });
});

describe('hangs and timeouts', () => {
  test('a hanging upstream trips the breaker (timeoutMs: a timeout is a failure)', async () => {
    const b = new CircuitBreaker({ window: 'consecutive', consecutiveFailures: 3, timeoutMs: 20 });
    const timedOut = [];
    b.on('failure', (e) => timedOut.push(e.timedOut));
    for (let i = 0; i < 3; i++) {
      await assert.rejects(b.call(hang), (e) => e instanceof DOMException && e.name === 'TimeoutError'
        && e.message === 'call timed out after 20 ms');
    }
    assert.equal(b.state, 'open');
    assert.deepEqual(timedOut, [true, true, true]);
    await assert.rejects(b.call(hang), { code: 'ERR_CIRCUIT_OPEN' });
  });

  test('callWith: a per-call timeout aborts fn\'s signal and overrides the breaker\'s', async () => {
    const [b] = clocked({ windowSize: 10, timeoutMs: 10_000 });
    let seen;
    await assert.rejects(b.callWith({ timeoutMs: 20 }, ({ signal }) => { seen = signal; return hang(); }), { name: 'TimeoutError' });
    assert.equal(seen.aborted, true);
    assert.equal(b.snapshot().failures, 1);
    assert.equal(await b.callWith({ timeoutMs: 1000 }, async () => 'fast'), 'fast');
    // With neither a timeout nor a signal, fn still gets one (never aborted).
    const [c] = clocked({ windowSize: 10 });
    assert.equal(await c.callWith({}, ({ signal }) => signal.aborted), false);
  });

  test('an AbortSignal.timeout inside fn counts as a failure', async () => {
    const [b] = clocked({ windowSize: 10 });
    const fetchLike = (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const alive = setTimeout(() => {}, 5000); // AbortSignal.timeout's timer does not hold the event loop
    await assert.rejects(b.call(() => fetchLike(AbortSignal.timeout(10))), { name: 'TimeoutError' });
    clearTimeout(alive);
    const s = b.snapshot();
    assert.deepEqual([s.failures, s.ignored], [1, 0]);
  });

  test('a user abort is cancelled: counted as ignored (callWith signal, or an AbortError)', async () => {
    const [b] = clocked({ windowSize: 10 });
    const ctl = new AbortController();
    const p = b.callWith({ signal: ctl.signal }, hang);
    ctl.abort(new Error('stop'));
    await assert.rejects(p, { message: 'stop' });
    await assert.rejects(b.callWith({ signal: ctl.signal }, () => 1), { message: 'stop' }); // already aborted: no permit
    await assert.rejects(b.call(() => Promise.reject(new DOMException('gone', 'AbortError'))), { name: 'AbortError' });
    const s = b.snapshot();
    assert.deepEqual([s.ignored, s.failures, s.calls], [2, 0, 2]);
  });
});

describe('bad input: each refused with a clear error naming the JS option', () => {
  test('failureRateThreshold 0 with no other trip rule: a breaker that could never trip', () => {
    assert.throws(() => new CircuitBreaker({ failureRateThreshold: 0 }),
      rangeOf('failureRateThreshold', /failureRateThreshold must be above 0 when slowCallRateThreshold and consecutiveFailures are 0 .*neverTrips: true.*, got 0$/));
    assert.equal(new CircuitBreaker({ failureRateThreshold: 0, consecutiveFailures: 3 }).state, 'closed');
    assert.equal(new CircuitBreaker({ failureRateThreshold: 0, neverTrips: true }).state, 'closed');
  });

  test('minimumCalls: 1e12 (past the core field\'s 32 bits)', () => {
    assert.throws(() => new CircuitBreaker({ minimumCalls: 1e12 }),
      rangeOf('minimumCalls', /^invalid config: minimumCalls must be an integer from 0 to 4294967295, got 1000000000000$/));
  });

  test('window \'count\' with windowDurationMs, \'time\' with windowSize, both kinds at once', () => {
    assert.throws(() => new CircuitBreaker({ window: 'count', windowDurationMs: 1000 }),
      typeOf('windowDurationMs', /windowDurationMs does not apply to window 'count'/));
    assert.throws(() => new CircuitBreaker({ window: 'time', windowSize: 10, windowDurationMs: 1000, windowBuckets: 10 }),
      typeOf('windowSize', /windowSize does not apply to window 'time'/));
    assert.throws(() => new CircuitBreaker({ windowSize: 10, windowBuckets: 2 }),
      typeOf('windowBuckets', /windowSize sets a count window and windowBuckets a time window: give one/));
    assert.throws(() => new CircuitBreaker({ window: 'time', windowBuckets: 2 }), typeOf('windowDurationMs', /window 'time' needs windowDurationMs/));
  });

  test('jitterSeed -1n and 2n ** 70n (not a u64), \'5\' (not a number)', () => {
    assert.throws(() => new CircuitBreaker({ jitterSeed: -1n }), rangeOf('jitterSeed', /^invalid config: jitterSeed must be an integer from 0 to 18446744073709551615, got -1n$/));
    assert.throws(() => new CircuitBreaker({ jitterSeed: 2n ** 70n }), rangeOf('jitterSeed', /got 1180591620717411303424n$/));
    assert.throws(() => new CircuitBreaker({ jitterSeed: '5' }), typeOf('jitterSeed', /got "5"$/));
    assert.equal(new CircuitBreaker({ jitterSeed: 2n ** 64n - 1n }).config.jitterSeed, 2n ** 64n - 1n);
  });

  test('a now() returning "soon", NaN or -50: tryAcquire throws, call rejects', async () => {
    for (const [v, Kind, shown] of [['soon', TypeError, '"soon"'], [NaN, RangeError, 'NaN'], [-50, RangeError, '-50']]) {
      const b = new CircuitBreaker({ windowSize: 10, now: () => v });
      const check = (e) => e instanceof Kind && e.code === 'ERR_CB_INVALID_CONFIG'
        && e.message === `the now option must be a finite number of milliseconds >= 0, got ${shown}`;
      assert.throws(() => b.tryAcquire(), check);
      await assert.rejects(b.call(() => 1), check);
    }
  });

  test('permit.success({ duration: 5 }): an unknown key', () => {
    const [b] = clocked({ windowSize: 10 });
    const p = b.tryAcquire();
    assert.throws(() => p.success({ duration: 5 }), (e) => e instanceof TypeError && e.code === 'ERR_CB_INVALID_ARGUMENT'
      && /unknown option duration \(durationMs, nowMs\)/.test(e.message));
    assert.equal(p.settled, false);
    p.success();
  });

  test('callWith({ timeoutMs: 2 ** 31 }): past what setTimeout honours (a rejection)', async () => {
    const [b] = clocked({ windowSize: 10 });
    await assert.rejects(b.callWith({ timeoutMs: 2 ** 31 }, () => 1), (e) => e instanceof RangeError
      && e.message === 'timeoutMs must be an integer from 1 to 2147483647 (ms), got 2147483648');
    await assert.rejects(b.callWith({ timeoutMs: '10' }, () => 1), (e) => e instanceof TypeError && /got "10"/.test(e.message));
    assert.throws(() => new CircuitBreaker({ timeoutMs: 0 }), rangeOf('timeoutMs', /got 0$/));
    assert.equal(b.snapshot().calls, 0);
  });

  test('wrong types are TypeErrors that show the value as given ("20", not 20)', () => {
    assert.throws(() => new CircuitBreaker({ windowSize: '20' }), typeOf('windowSize', /^invalid config: windowSize must be a number, got "20"$/));
    assert.throws(() => new CircuitBreaker({ now: 5 }), typeOf('now', /now must be a function, got 5/));
    assert.throws(() => new CircuitBreaker({ preset: 3 }), typeOf('preset', /got 3/));
    assert.throws(() => new CircuitBreaker({ window: 'sliding' }), typeOf('window', /got "sliding"/));
    assert.throws(() => new CircuitBreaker({ failureThreshold: 5 }), typeOf('failureThreshold', /unknown option failureThreshold/));
    assert.throws(() => new CircuitBreaker(null), typeOf('options', /got null/));
    assert.throws(() => new CircuitBreaker({ windowSize: 1.5 }), rangeOf('windowSize', /got 1\.5$/));
  });

  test('every core range check: a RangeError in the JS option\'s terms (no core field names)', () => {
    const cases = [
      [{ windowSize: 0 }, 'windowSize', 'an integer from 1 to 1024, got 0'],
      [{ windowSize: 2000 }, 'windowSize', 'an integer from 1 to 1024, got 2000'],
      [{ windowDurationMs: 1001, windowBuckets: 10 }, 'windowDurationMs', 'from 1 to 4294967295 ms and a multiple of windowBuckets, got 1001'],
      [{ windowDurationMs: 6500, windowBuckets: 65 }, 'windowBuckets', 'an integer from 1 to 64, got 65'],
      [{ failureRateThreshold: 300 }, 'failureRateThreshold', '0 (off) to 100 percent, got 300'],
      [{ slowCallRateThreshold: 101 }, 'slowCallRateThreshold', '0 (off) to 100 percent, got 101'],
      [{ slowCallDurationMs: 2 ** 32 }, 'slowCallDurationMs', 'from 0 to 4294967295 ms, got 4294967296'],
      [{ window: 'consecutive' }, 'consecutiveFailures', "0 (off) to 1048576, and at least 1 with window 'consecutive' (the default's value)"],
      [{ openDurationMs: 0 }, 'openDurationMs', 'from 1 to 4294967295 ms, got 0'],
      [{ openDurationMs: 100, openDurationMaxMs: 99 }, 'openDurationMaxMs', '0 (no cap) or from openDurationMs to 4294967295 ms, got 99'],
      [{ preset: 'cache', openDurationMs: 60_000 }, 'openDurationMaxMs', "0 (no cap) or from openDurationMs to 4294967295 ms (the preset 'cache''s value)"],
      [{ openDurationMultiplier: 0.5 }, 'openDurationMultiplier', 'from 1 to 1000, got 0.5'],
      [{ openDurationMultiplier: NaN }, 'openDurationMultiplier', 'from 1 to 1000, got NaN'],
      [{ jitterPercent: 101 }, 'jitterPercent', 'from 0 to 100 percent, got 101'],
      [{ halfOpenMaxCalls: 32 }, 'halfOpenMaxCalls', 'an integer from 1 to 31, got 32'],
      [{ successThreshold: 0 }, 'successThreshold', 'an integer from 1 to 31, got 0'],
      [{ halfOpenMaxWaitMs: 0 }, 'halfOpenMaxWaitMs', 'from 1 to 4294967295 ms, got 0'],
      [{ windowSize: -1 }, 'windowSize', 'an integer >= 0, got -1'],
      [{ openDurationMs: Infinity }, 'openDurationMs', 'an integer >= 0, got Infinity'],
    ];
    for (const [opts, option, tail] of cases) {
      assert.throws(() => new CircuitBreaker(opts), (e) => {
        assert.ok(e instanceof RangeError, `${JSON.stringify(opts)}: ${e}`);
        assert.equal(e.code, 'ERR_CB_INVALID_CONFIG');
        assert.equal(e.option, option, e.message);
        assert.equal(e.message, `invalid config: ${option} must be ${tail}`);
        assert.doesNotMatch(e.message, /_|slot/);
        return true;
      });
    }
  });

  test('nowMs arguments: a wrong type is a TypeError, out of range a RangeError', () => {
    const [b] = clocked({ windowSize: 10 });
    assert.throws(() => b.tryAcquire('5'), (e) => e instanceof TypeError && e.code === 'ERR_CB_INVALID_ARGUMENT');
    assert.throws(() => b.tryAcquire(NaN), (e) => e instanceof RangeError && e.code === 'ERR_CB_INVALID_ARGUMENT');
    assert.throws(() => b.snapshot(Infinity), (e) => e instanceof RangeError);
    assert.throws(() => b.tryAcquire(0).success({ nowMs: -1 }), (e) => e instanceof RangeError && /nowMs .* got -1/.test(e.message));
  });

  test('after free(): a coded error from every method, a rejection from call()', async () => {
    const [b] = clocked({ windowSize: 10 });
    const p = b.tryAcquire();
    b.free();
    b.free(); // twice is fine
    const freed = (e) => e.code === 'ERR_CB_FREED' && /freed/.test(e.message);
    for (const f of [() => b.tryAcquire(), () => b.state, () => b.snapshot(), () => b.reset(), () => p.success(), () => b.prometheusText()]) {
      assert.throws(f, freed);
    }
    const r = b.call(() => 1);
    assert.ok(r instanceof Promise);
    await assert.rejects(r, freed);
  });

  test('a clock that throws: call() rejects (never throws), at begin or at finish', async () => {
    let fail = true;
    let t = 0;
    const b = new CircuitBreaker({ windowSize: 10, now: () => { if (fail) throw new Error('clock'); return t; } });
    const r = b.call(() => 1);
    assert.ok(r instanceof Promise);
    await assert.rejects(r, { message: 'clock' });
    fail = false;
    // At finish: the call is settled (as cancelled) and the clock's error is handed on.
    await assert.rejects(b.call(async () => { fail = true; return 1; }), { message: 'clock' });
    fail = false;
    assert.deepEqual([b.snapshot().calls, b.snapshot().ignored], [1, 1]);
  });
});
