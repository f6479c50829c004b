// Runs every conformance vector through the JS API (see runner.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRS, loadVectors, runVector } from './runner.mjs';

// Vectors that show a reported core bug, as in CORE_BUGS of tests/tests/vectors.rs: run and
// shown as TODO (a failure there does not fail the run). Remove an entry when the core is fixed.
const CORE_BUGS = {
  count_window_trips_after_many_resets: 'core bug: after 17 to 31 window clears a count window loses its failures',
  count_window_trips_after_many_calls: 'core bug: after about 32 x size outcomes a count window loses its failures',
};

const all = loadVectors();
test('conformance vectors were found', () => {
  assert.ok(all.length > 0, `no *.json vectors in ${DIRS.join(', ')}`);
});
test('CORE_BUGS names real vectors', () => {
  for (const name of Object.keys(CORE_BUGS)) assert.ok(all.some((v) => v.vector.name === name), name);
});
for (const { vector } of all) {
  const todo = CORE_BUGS[vector.name];
  test(`vector ${vector.name}`, todo === undefined ? {} : { todo }, () => runVector(vector));
}
