// The vector runner itself: it must fail on a wrong expectation, and it must pick up the
// directories named in CBREAKER_VECTORS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadVectors, runVector } from '../conformance/runner.mjs';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
const vector = (name, retry) => ({
  name,
  config: { window: { kind: 'consecutive' }, consecutive_failures: 1, open_duration_ms: 100 },
  steps: [
    { at: 0, op: 'call', outcome: 'failure', expect_transitions: ['closed->open'] },
    { at: 40, op: 'acquire', expect: 'rejected', retry_after_ms: retry },
  ],
});

test('a vector with a wrong expectation fails, naming the step', () => {
  runVector(vector('ok', 60));
  assert.throws(() => runVector(vector('bad', 61)), /bad: step 1 \(acquire at 40\): retry_after_ms/);
  const wrongField = { name: 'x', config: { window: { kind: 'count', size: 0 } }, expect_config_error: 'open_duration' };
  assert.throws(() => runVector(wrongField), /expected option openDurationMs, got windowSize/);
});

test('an unknown key is an error', () => {
  const typo = vector('typo', 60);
  typo.steps[0].tims = 2;
  assert.throws(() => runVector(typo), /typo: step 0 \(call\): unknown key tims/);
  assert.throws(() => runVector({ ...vector('top', 60), expect: 1 }), /top: unknown key expect/);
  const cfg = vector('cfg', 60);
  cfg.config.failure_threshold = 5;
  assert.throws(() => runVector(cfg), /cfg: config: unknown key failure_threshold/);
});

test('every shipped vector loads', () => {
  assert.ok(loadVectors().length >= 30);
});

test('CBREAKER_VECTORS adds directories; a failing vector there fails the run', () => {
  const a = mkdtempSync(join(tmpdir(), 'cbv-a-'));
  const b = mkdtempSync(join(tmpdir(), 'cbv-b-'));
  try {
    writeFileSync(join(a, 'extra_ok.json'), JSON.stringify(vector('extra_ok', 60)));
    writeFileSync(join(b, 'extra_bad.json'), JSON.stringify(vector('extra_bad', 59)));
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // else the nested runner reports to ours instead of stdout
    const run = (dirs) => spawnSync(process.execPath, ['--test', '--test-reporter=tap', 'conformance/'], {
      cwd: pkgDir, encoding: 'utf8', timeout: 120_000, env: { ...env, CBREAKER_VECTORS: dirs },
    });
    // Judged per vector (the shipped vectors run too; their results are conformance-js's business).
    const good = run(a);
    assert.match(good.stdout, /\nok \d+ - vector extra_ok\n/);
    const bad = run(`${a}:${b}`);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /\nok \d+ - vector extra_ok\n/);
    assert.match(bad.stdout, /\nnot ok \d+ - vector extra_bad\n/);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
