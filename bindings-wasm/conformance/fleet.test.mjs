// Runs every fleet vector through the JS API (see fleet-runner.mjs), on the test build
// dist-sim/ (`make conformance-js` builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLEET_DIRS, loadFleetVectors, runFleetVector } from './fleet-runner.mjs';

const all = loadFleetVectors();
test('fleet vectors were found', () => {
  assert.ok(all.length > 0, `no *.json fleet vectors in ${FLEET_DIRS.join(', ')}`);
});
for (const { vector } of all) {
  test(`fleet vector ${vector.name}`, () => runFleetVector(vector));
}

// The runner itself: a wrong expectation fails, naming the step and the key.
test('a fleet vector with a wrong expectation fails, naming the step', () => {
  const base = all.find(({ vector }) => vector.name === 'fleet_quorum_one_member_trips_alone')?.vector
    ?? all[0].vector;
  const wrong = structuredClone(base);
  const i = wrong.steps.findIndex((s) => s.op === 'sync');
  wrong.steps[i] = { ...wrong.steps[i], expect: { status: 'refused' } };
  assert.throws(() => runFleetVector(wrong), new RegExp(`step ${i} \\(sync at \\d+ member \\d+\\): status: expected "refused", got "joined"`));
  const typo = structuredClone(base);
  typo.steps[0].expectt = {};
  assert.throws(() => runFleetVector(typo), /step 0 \(sync\): unknown key expectt/);
});

// FleetSim's own surface: bad options are refused naming them (the window's range is the core's).
test('FleetSim.join refuses a bad option, naming it', async () => {
  const { CircuitBreaker, FleetSim } = await import('./fleet-sim.mjs');
  const sim = new FleetSim(1_000_000);
  const b = new CircuitBreaker({ minimumCalls: 4 });
  const refused = (opts, Kind, option, message) => assert.throws(() => sim.join(b, 'm', opts), (e) => {
    assert.ok(e instanceof Kind, `${JSON.stringify(opts)}: ${e}`);
    assert.equal(e.code, 'ERR_CB_INVALID_CONFIG');
    assert.equal(e.option, option);
    assert.match(e.message, message);
    return true;
  });
  refused({ quorum: 0 }, RangeError, 'quorum', /quorum must be an integer >= 1, got 0/);
  refused({ quorum: '2' }, TypeError, 'quorum', /got "2"/);
  refused({ windowMs: 1500 }, RangeError, 'windowMs', /whole seconds.*, got 1500/);
  refused({ windowMs: -1 }, RangeError, 'windowMs', /windowMs/);
  refused({ window: 1000 }, TypeError, 'window', /unknown option window/);
  assert.throws(() => sim.join({}, 'm'), { name: 'TypeError', code: 'ERR_CB_INVALID_ARGUMENT' });
  assert.equal(sim.join(b, 'm0', { quorum: 2, windowMs: 5000 }), 0);
  assert.throws(() => sim.store('flood'), { name: 'RangeError', option: 'action' });
  assert.throws(() => sim.sync(1, 0), { name: 'RangeError', option: 'member' });
  assert.equal(sim.sync(0, 0).status, 'joined');
  assert.deepEqual(sim.fleet().log, ['closed:reset']);
  b.free();
  assert.throws(() => sim.sync(0, 10), { code: 'ERR_CB_FREED' });
  sim.free();
});
