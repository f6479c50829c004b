// Every fleet vector (tests/vectors/fleet/*.json, format in its README) through the JS front
// door: each member is a CircuitBreaker (calls, acquire, settle and state through its public
// API, with injected time), synced with the core's simulated store by the core's sync flow
// (FleetSim, fleet-sim.mjs). Expected values as the Rust runner (tests/src/fleet.rs) reads them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options } from './runner.mjs';
import { CircuitBreaker, FleetSim } from './fleet-sim.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const FLEET_DIRS = [join(here, '..', '..', 'tests', 'vectors', 'fleet'),
  ...(process.env.CBREAKER_FLEET_VECTORS ?? '').split(':').filter(Boolean)];

// Unknown keys are an error (the Rust runner's serde deny_unknown_fields): a typo must not
// silently check nothing.
const TOP_KEYS = ['name', 'description', 'config', 'member_configs', 'fleet', 'members', 'server_offset_ms', 'steps'];
const FLEET_KEYS = ['quorum', 'window_ms'];
const OP_KEYS = {
  sync: ['at', 'member', 'expect'],
  calls: ['at', 'member', 'outcome', 'count'],
  acquire: ['at', 'member', 'admitted', 'reason', 'retry_after_ms', 'hold'],
  settle: ['at', 'member', 'permit', 'outcome'],
  state: ['at', 'member', 'expect'],
  transitions: ['member', 'expect'],
  store: ['action'],
  operator: ['at', 'member', 'action'],
  fleet: ['expect'],
};
// Expected keys -> FleetSim's.
const MEMBER_EXPECT = { status: 'status', fleet_state: 'fleetState', generation: 'generation', leases: 'leases', members: 'members', pending: 'pending' };
const FLEET_EXPECT = { state: 'state', generation: 'generation', cause: 'cause', k: 'k', deadline_in_ms: 'deadlineInMs', leases: 'leases', log: 'log', window: 'window' };
const OUTCOMES = ['success', 'failure', 'ignored'];

function checkKeys(obj, allowed, where) {
  for (const k of Object.keys(obj)) assert.ok(allowed.includes(k), `${where}: unknown key ${k}`);
}

/** Checks a fleet vector's keys against the format; throws naming the first unknown one. */
export function checkFleetFormat(v) {
  checkKeys(v, TOP_KEYS, v.name);
  checkKeys(v.fleet ?? {}, FLEET_KEYS, `${v.name}: fleet`);
  assert.ok(Number.isInteger(v.members) && v.members > 0, `${v.name}: members must be a positive integer`);
  v.steps.forEach((s, i) => {
    const own = OP_KEYS[s.op];
    assert.ok(own, `${v.name}: step ${i}: unknown op ${s.op}`);
    checkKeys(s, ['op', ...own], `${v.name}: step ${i} (${s.op})`);
    if (s.op === 'sync' && s.expect !== undefined) checkKeys(s.expect, Object.keys(MEMBER_EXPECT), `${v.name}: step ${i} (sync): expect`);
    if (s.op === 'fleet') checkKeys(s.expect, Object.keys(FLEET_EXPECT), `${v.name}: step ${i} (fleet): expect`);
  });
}

/** Runs one fleet vector; throws an AssertionError naming the step on the first mismatch. */
export function runFleetVector(v) {
  checkFleetFormat(v);
  const offset = v.server_offset_ms ?? 1_700_000_000_000;
  let clock = 0; // every member's own clock: the `at` of the step
  let rejection; // the last refusal's event
  const sim = new FleetSim(offset);
  const join = {};
  if (v.fleet?.quorum !== undefined) join.quorum = v.fleet.quorum;
  if (v.fleet?.window_ms !== undefined) join.windowMs = v.fleet.window_ms;
  const members = [];
  for (let i = 0; i < v.members; i++) {
    const config = v.member_configs?.[String(i)] ?? v.config;
    // neverTrips: as the single-breaker runner (the core accepts every config the vectors give).
    const breaker = new CircuitBreaker({ ...options(config), now: () => clock, neverTrips: true });
    breaker.on('reject', (e) => { rejection = e; });
    const index = sim.join(breaker, `m${i}`, join);
    assert.equal(index, i);
    members.push({ breaker, caused: [], held: new Map() });
  }
  try {
    v.steps.forEach((s, i) => {
      const where = `${v.name}: step ${i} (${s.op}${s.at === undefined ? '' : ` at ${s.at}`}${s.member === undefined ? '' : ` member ${s.member}`})`;
      const node = () => {
        const n = members[s.member];
        assert.ok(n, `${where}: no member ${s.member}`);
        return n;
      };
      const outcome = (o) => {
        assert.ok(OUTCOMES.includes(o), `${where}: unknown outcome ${o}`);
        return o;
      };
      // No duration reported, as the core's record(permit, outcome, None).
      const rec = () => ({ nowMs: s.at, durationMs: null });
      if (s.at !== undefined) clock = s.at;
      switch (s.op) {
        case 'sync': {
          const n = node();
          sim.setServerNow(offset + s.at);
          const got = sim.sync(s.member, s.at);
          n.caused.push(...got.transitions);
          for (const [k, want] of Object.entries(s.expect ?? {})) {
            assert.deepEqual(got[MEMBER_EXPECT[k]], want, `${where}: ${k}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got[MEMBER_EXPECT[k]])} (${JSON.stringify(got)})`);
          }
          break;
        }
        case 'calls': {
          const { breaker } = node();
          const o = outcome(s.outcome);
          for (let c = 0; c < (s.count ?? 1); c++) {
            const p = breaker.tryAcquire(s.at);
            assert.ok(p, `${where}: call ${c} refused (${rejection?.reason}, retry_after_ms ${rejection?.retryAfterMs})`);
            breaker.record(p, o, rec());
          }
          break;
        }
        case 'acquire': {
          const n = node();
          const p = n.breaker.tryAcquire(s.at);
          if (s.admitted) {
            assert.ok(p, `${where}: expected admitted, got refused (${rejection?.reason}, retry_after_ms ${rejection?.retryAfterMs})`);
            if (s.hold !== undefined) n.held.set(s.hold, p);
          } else {
            assert.equal(p, undefined, `${where}: expected refused, got admitted`);
            if (s.reason !== undefined) assert.equal(rejection.reason, s.reason, `${where}: reason`);
            if (s.retry_after_ms !== undefined) assert.equal(rejection.retryAfterMs, s.retry_after_ms, `${where}: retry_after_ms`);
          }
          break;
        }
        case 'settle': {
          const n = node();
          const p = n.held.get(s.permit);
          assert.ok(p, `${where}: no permit ${s.permit}`);
          n.held.delete(s.permit);
          n.breaker.record(p, outcome(s.outcome), rec());
          break;
        }
        case 'state':
          assert.equal(node().breaker.state, s.expect, `${where}: state`);
          break;
        case 'transitions': {
          const n = node();
          const got = n.caused.splice(0);
          assert.deepEqual(got, s.expect, `${where}: transitions: expected ${JSON.stringify(s.expect)}, got ${JSON.stringify(got)}`);
          break;
        }
        case 'store':
          sim.store(s.action);
          break;
        case 'operator':
          node();
          sim.setServerNow(offset + s.at);
          sim.operator(s.member, s.action);
          break;
        case 'fleet': {
          const got = sim.fleet();
          for (const [k, want] of Object.entries(s.expect)) {
            assert.deepEqual(got[FLEET_EXPECT[k]], want, `${where}: ${k}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got[FLEET_EXPECT[k]])} (${JSON.stringify(got)})`);
          }
          break;
        }
        default:
          assert.fail(`${where}: unknown op`);
      }
    });
  } finally {
    sim.free();
    for (const { breaker } of members) breaker.free();
  }
}

/** Every fleet vector of `dirs`, sorted by file name within each directory. */
export function loadFleetVectors(dirs = FLEET_DIRS) {
  const out = [];
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
      const v = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      if (v.name !== basename(f, '.json')) throw new Error(`${join(dir, f)}: name ${v.name} differs from the file name`);
      out.push({ file: join(dir, f), vector: v });
    }
  }
  return out;
}
