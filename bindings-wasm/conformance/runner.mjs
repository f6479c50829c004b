// Every conformance vector (tests/vectors/*.json, then each directory of the colon-separated
// CBREAKER_VECTORS) through the public JS API, with injected time. Format: tests/vectors/README.md.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CircuitBreaker, PermitSettledError } from '../dist/index.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const DIRS = [join(here, '..', '..', 'tests', 'vectors'),
  ...(process.env.CBREAKER_VECTORS ?? '').split(':').filter(Boolean)];

// The core's field names (ConfigError::field, as vectors spell them) -> the JS option (docs/errors.md).
const OPTION_OF_FIELD = {
  'window.size': 'windowSize',
  'window.duration': 'windowDurationMs',
  'window.buckets': 'windowBuckets',
  failure_rate_threshold: 'failureRateThreshold',
  slow_call_rate_threshold: 'slowCallRateThreshold',
  slow_call_duration: 'slowCallDurationMs',
  consecutive_failures: 'consecutiveFailures',
  open_duration: 'openDurationMs',
  open_duration_max: 'openDurationMaxMs',
  open_duration_multiplier: 'openDurationMultiplier',
  jitter_percent: 'jitterPercent',
  half_open_max_calls: 'halfOpenMaxCalls',
  success_threshold: 'successThreshold',
  half_open_max_wait: 'halfOpenMaxWaitMs',
};

// Vector config keys -> JS options (absent keys: the core's default or the preset's value).
const camel = (k) => k.replace(/_ms$/, 'Ms').replace(/_([a-z])/g, (_, c) => c.toUpperCase());
export function options(config) {
  const o = {};
  const w = config.window;
  if (w?.kind === 'count') Object.assign(o, { window: 'count', windowSize: w.size });
  else if (w?.kind === 'time') Object.assign(o, { window: 'time', windowDurationMs: w.duration_ms, windowBuckets: w.buckets });
  else if (w?.kind === 'consecutive') o.window = 'consecutive';
  else if (w !== undefined) throw new Error(`unknown window kind ${w.kind}`);
  for (const [k, v] of Object.entries(config)) if (k !== 'window') o[camel(k)] = v;
  return o;
}

// The breaker's config (JS option names) -> the vector's keys, for the `config` op.
function vectorConfig(c) {
  const out = {};
  for (const [k, v] of Object.entries(c)) {
    if (k === 'window') out.window = { kind: v };
    else if (k === 'windowSize') out.window.size = v;
    else if (k === 'windowDurationMs') out.window.duration_ms = v;
    else if (k === 'windowBuckets') out.window.buckets = v;
    else out[k.replace(/Ms$/, '_ms').replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`)] = k === 'jitterSeed' ? BigInt(v) : v;
  }
  return out;
}

const SNAPSHOT_KEY = {
  calls: 'calls', successes: 'successes', failures: 'failures', ignored: 'ignored', slow: 'slow',
  rejected: 'rejected', window_calls: 'windowCalls', window_failures: 'windowFailures',
  window_slow: 'windowSlow', failure_rate: 'failureRate', slow_rate: 'slowRate',
  consecutive_failures: 'consecutiveFailures', state: 'state', retry_after_ms: 'retryAfterMs',
};

// Unknown keys are an error (tests/vectors/README.md): a typo must not silently check nothing.
const TOP_KEYS = ['name', 'description', 'config', 'steps', 'expect_config_error'];
const CONFIG_KEYS = ['preset', 'window', 'failure_rate_threshold', 'slow_call_rate_threshold', 'slow_call_duration_ms',
  'consecutive_failures', 'minimum_calls', 'open_duration_ms', 'open_duration_max_ms', 'open_duration_multiplier',
  'jitter_percent', 'jitter_seed', 'half_open_max_calls', 'success_threshold', 'half_open_max_wait_ms'];
const WINDOW_KEYS = { count: ['kind', 'size'], time: ['kind', 'duration_ms', 'buckets'], consecutive: ['kind'] };
const DECISION_KEYS = ['expect', 'as', 'retry_after_ms', 'reason'];
const OP_KEYS = {
  acquire: DECISION_KEYS, record: ['permit', 'outcome', 'duration_ms'], drop: ['permit'],
  call: ['outcome', 'duration_ms', 'times'], state: ['expect_state'], snapshot: ['expect'],
  force_open: [], force_closed: [], metrics_only: [], reset: [], trip: [], half_open: [],
  begin: [...DECISION_KEYS, 'sink', 'expect_timed'], finish: ['call', 'end', 'expect_duration_ms', 'expect_error'],
  health: ['expect_health'], config: ['expect'],
};
const MANUAL = { force_open: 'forceOpen', force_closed: 'forceClosed', metrics_only: 'metricsOnly', reset: 'reset', trip: 'trip', half_open: 'halfOpen' };
const STEP_KEYS = ['at', 'op', 'expect_transitions', 'comment'];

function checkKeys(obj, allowed, where) {
  for (const k of Object.keys(obj)) assert.ok(allowed.includes(k), `${where}: unknown key ${k}`);
}

/** Checks a vector's keys against the format; throws naming the first unknown one. */
export function checkFormat(v) {
  checkKeys(v, TOP_KEYS, v.name);
  checkKeys(v.config, CONFIG_KEYS, `${v.name}: config`);
  if (v.config.window !== undefined) {
    const allowed = WINDOW_KEYS[v.config.window.kind];
    assert.ok(allowed, `${v.name}: config.window.kind must be count, time or consecutive`);
    checkKeys(v.config.window, allowed, `${v.name}: config.window`);
  }
  assert.ok((v.steps === undefined) !== (v.expect_config_error === undefined)
    || (Array.isArray(v.steps) && v.steps.length === 0), `${v.name}: needs steps or expect_config_error`);
  (v.steps ?? []).forEach((s, i) => {
    const own = OP_KEYS[s.op];
    assert.ok(own, `${v.name}: step ${i}: unknown op ${s.op}`);
    checkKeys(s, [...STEP_KEYS, ...own], `${v.name}: step ${i} (${s.op})`);
  });
}

// An expected "from->to" matches "from->to:cause"; "from->to:cause" must match exactly.
const sameTransition = (want, got) => (want.includes(':') ? want === got : got.split(':')[0] === want);

/** Runs one vector; throws an AssertionError naming the step on the first mismatch. */
export function runVector(v) {
  checkFormat(v);
  let clock = 0;
  const transitions = [];
  let rejection;
  const make = () => {
    // neverTrips: the core accepts a config with every trip rule off (vectors test it); the
    // JS front door refuses one unless asked.
    const b = new CircuitBreaker({ ...options(v.config), now: () => clock, neverTrips: true });
    b.on('statechange', (t) => transitions.push(`${t.from}->${t.to}:${t.cause}`));
    b.on('reject', (e) => { rejection = e; });
    return b;
  };
  if (v.expect_config_error !== undefined) {
    const want = OPTION_OF_FIELD[v.expect_config_error];
    assert.ok(want, `unknown config field ${v.expect_config_error}`);
    assert.throws(make, (e) => {
      assert.ok(e instanceof RangeError, `expected a RangeError, got ${e}`);
      assert.equal(e.code, 'ERR_CB_INVALID_CONFIG');
      assert.equal(e.option, want, `expected option ${want}, got ${e.option}: ${e.message}`);
      return true;
    });
    return;
  }
  const b = make();
  const permits = new Map(); // acquire's names (record, drop)
  const calls = new Map(); // begin's names (finish)
  const sink = () => {}; // a success listener is the JS duration sink
  v.steps.forEach((s, i) => {
    const where = `${v.name}: step ${i} (${s.op} at ${s.at})`;
    clock = s.at; // the operations that take no nowMs (health) read the breaker's clock
    transitions.length = 0;
    // No duration_ms: no duration reported (null), as the core's record(permit, outcome, None).
    const rec = { nowMs: s.at, durationMs: s.duration_ms ?? null };
    const decide = (p, names) => {
      if (s.expect === 'permitted') {
        assert.ok(p, `${where}: expected permitted, got rejected (${rejection?.reason}, retry_after_ms ${rejection?.retryAfterMs})`);
        if (s.as !== undefined) names.set(s.as, p);
      } else {
        assert.equal(p, undefined, `${where}: expected rejected, got permitted`);
        if ('retry_after_ms' in s) assert.equal(rejection.retryAfterMs, s.retry_after_ms, `${where}: retry_after_ms`);
        if ('reason' in s) assert.equal(rejection.reason, s.reason, `${where}: reason`);
      }
    };
    switch (s.op) {
      case 'acquire':
        decide(b.tryAcquire(s.at), permits);
        break;
      case 'begin': {
        if (s.sink) b.on('success', sink);
        const p = b.tryAcquire(s.at);
        b.off('success', sink);
        decide(p, calls);
        if (p && s.expect_timed !== undefined) assert.equal(p.timed, s.expect_timed, `${where}: timed`);
        break;
      }
      case 'record':
      case 'drop': {
        const p = permits.get(s.permit);
        assert.ok(p, `${where}: no permit named ${s.permit}`);
        if (s.op === 'record') b.record(p, s.outcome, rec);
        else p.ignore(rec);
        break;
      }
      case 'finish': {
        const p = calls.get(s.call);
        assert.ok(p, `${where}: no call named ${s.call}`);
        let done;
        try {
          done = b.record(p, s.end, { nowMs: s.at });
        } catch (e) {
          assert.ok(s.expect_error !== undefined, `${where}: unexpected error ${e.code}: ${e.message}`);
          assert.ok(e instanceof PermitSettledError, `${where}: ${e}`);
          assert.equal(e.code, `ERR_CB_${s.expect_error.toUpperCase()}`, `${where}: error code`);
          break;
        }
        assert.equal(s.expect_error, undefined, `${where}: expected error ${s.expect_error}, got a finish`);
        if ('expect_duration_ms' in s) assert.equal(done.durationMs, s.expect_duration_ms, `${where}: duration_ms`);
        break;
      }
      case 'call':
        for (let n = 0; n < (s.times ?? 1); n++) {
          const p = b.tryAcquire(s.at);
          if (p) b.record(p, s.outcome, rec);
        }
        break;
      case 'state':
        assert.equal(b.state, s.expect_state, `${where}: state`);
        break;
      case 'health':
        assert.equal(b.health, s.expect_health, `${where}: health`);
        break;
      case 'snapshot': {
        const snap = b.snapshot(s.at);
        for (const [k, want] of Object.entries(s.expect)) {
          const key = SNAPSHOT_KEY[k];
          assert.ok(key, `${where}: unknown snapshot key ${k}`);
          if (k === 'failure_rate' || k === 'slow_rate') {
            assert.ok(Math.abs(snap[key] - want) <= 1e-9, `${where}: ${k}: expected ${want}, got ${snap[key]}`);
          } else {
            assert.deepEqual(snap[key], want, `${where}: ${k}: expected ${want}, got ${snap[key]} (${JSON.stringify(snap)})`);
          }
        }
        break;
      }
      case 'config': {
        const got = vectorConfig(b.config);
        for (const [k, want] of Object.entries(s.expect)) {
          assert.ok(CONFIG_KEYS.includes(k) && k !== 'preset', `${where}: unknown config key ${k}`);
          if (k === 'open_duration_multiplier') assert.ok(Math.abs(got[k] - want) <= 1e-9, `${where}: ${k}: expected ${want}, got ${got[k]}`);
          else assert.deepEqual(got[k], want, `${where}: ${k} (config ${JSON.stringify(got, (_, x) => (typeof x === 'bigint' ? String(x) : x))})`);
        }
        break;
      }
      default:
        assert.ok(MANUAL[s.op], `${where}: unknown op`);
        b[MANUAL[s.op]](s.at);
    }
    if (s.expect_transitions !== undefined) {
      const ok = s.expect_transitions.length === transitions.length
        && s.expect_transitions.every((w, j) => sameTransition(w, transitions[j]));
      assert.ok(ok, `${where}: transitions: expected ${JSON.stringify(s.expect_transitions)}, got ${JSON.stringify(transitions)}`);
    }
  });
  b.free();
}

export function loadVectors(dirs = DIRS) {
  const out = [];
  for (const dir of dirs) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    for (const f of files) {
      // A jitter_seed past 2^53 must not lose bits: read it as a BigInt.
      const text = readFileSync(join(dir, f), 'utf8').replace(/("jitter_seed"\s*:\s*)(\d+)/g, '$1"$2"');
      const v = JSON.parse(text);
      for (const c of [v.config, ...(v.steps ?? []).filter((st) => st.op === 'config').map((st) => st.expect)]) {
        if (typeof c?.jitter_seed === 'string') c.jitter_seed = BigInt(c.jitter_seed);
      }
      if (v.name !== basename(f, '.json')) throw new Error(`${join(dir, f)}: name ${v.name} differs from the file name`);
      out.push({ file: join(dir, f), vector: v });
    }
  }
  return out;
}

