// Runs every conformance vector through the JS API (see runner.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRS, loadVectors, runVector } from './runner.mjs';

const all = loadVectors();
test('conformance vectors were found', () => {
  assert.ok(all.length > 0, `no *.json vectors in ${DIRS.join(', ')}`);
});
for (const { vector } of all) {
  test(`vector ${vector.name}`, () => runVector(vector));
}
