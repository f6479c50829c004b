// Runs every conformance vector through the JS API (see runner.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRS, loadVectors, runVector } from './runner.mjs';

// Vectors that show a reported core bug, as in CORE_BUGS of tests/tests/vectors.rs: run and
// shown as TODO (a failure there does not fail the run). Remove an entry when the core is fixed.
const CORE_BUGS = {};

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
