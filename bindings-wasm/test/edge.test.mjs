// The edge-worker test: workerd (from npm) serves, on 127.0.0.1 only, the example a user copies
// (examples/workerd/: worker.mjs and a raw config.capnp) against cbreaker installed from the
// packed tarball. The worker keeps one breaker per isolate in front of a flaky upstream (a Node
// server here that fails on demand). Drives requests through it and asserts trip, 503 with the
// core's Retry-After advice and reason, half-open probe, recovery. workerd is stopped by its PID;
// every loop is bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { packAndInstall, pkgDir } from './pack.mjs';

const WORKERD = join(pkgDir, 'node_modules', '.bin', 'workerd');
const EXAMPLE = join(pkgDir, 'examples', 'workerd');
const OPEN_MS = 1500; // long enough that a loaded machine cannot let it lapse between two requests

let upstream;
let upstreamHits = 0;
let upstreamFails = false;
let workerd;
let workerdLog = '';
let installed;
let base;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The example with its ports and open duration changed, and nothing else. */
function copyExample(dir, port, upstreamPort) {
  const change = (text, from, to) => {
    assert.ok(text.includes(from), `the example no longer has ${from}`);
    return text.replaceAll(from, to);
  };
  let config = readFileSync(join(EXAMPLE, 'config.capnp'), 'utf8');
  config = change(change(config, '127.0.0.1:8080', `127.0.0.1:${port}`), '127.0.0.1:8081', `127.0.0.1:${upstreamPort}`);
  writeFileSync(join(dir, 'config.capnp'), config);
  const worker = change(readFileSync(join(EXAMPLE, 'worker.mjs'), 'utf8'), 'openDurationMs: 10_000', `openDurationMs: ${OPEN_MS}`);
  writeFileSync(join(dir, 'worker.mjs'), worker);
}

before(async () => {
  assert.ok(existsSync(WORKERD), 'workerd missing: run make setup-wasm');
  upstream = createServer((req, res) => {
    upstreamHits++;
    res.writeHead(upstreamFails ? 500 : 200).end(upstreamFails ? 'down' : 'ok');
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = upstream.address().port;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;

  installed = packAndInstall('cbreaker-workerd-');
  copyExample(installed.scratch, port, upstreamPort);
  workerd = spawn(WORKERD, ['serve', join(installed.scratch, 'config.capnp')], { cwd: installed.scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  workerd.stdout.on('data', (d) => { workerdLog += d; });
  workerd.stderr.on('data', (d) => { workerdLog += d; });
  // Bounded readiness poll: 100 tries x 100 ms.
  for (let i = 0; i < 100; i++) {
    if (workerd.exitCode !== null) break;
    try {
      const r = await fetch(`${base}/stats`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error(`workerd did not come up on ${base}:\n${workerdLog}`);
});

after(async () => {
  if (workerd && workerd.exitCode === null) {
    const exited = new Promise((r) => workerd.once('exit', r));
    process.kill(workerd.pid, 'SIGTERM');
    const ok = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
    if (!ok) process.kill(workerd.pid, 'SIGKILL');
  }
  if (upstream) await new Promise((r) => upstream.close(r));
  installed?.cleanup();
});

const get = async (path = '/') => {
  const r = await fetch(base + path, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, state: r.headers.get('x-breaker-state'), reason: r.headers.get('x-breaker-reason'), retryAfter: r.headers.get('retry-after'), body: await r.text() };
};

test('workerd listens on 127.0.0.1 only', () => {
  // Read the kernel's socket table (no traffic): every listener on the port is 127.0.0.1.
  const port = Number(new URL(base).port).toString(16).toUpperCase().padStart(4, '0');
  const listening = (file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(1) : [])
    .map((l) => l.trim().split(/\s+/)).filter((f) => f.length > 3 && f[3] === '0A' && f[1].endsWith(`:${port}`))
    .map((f) => f[1]);
  const v4 = listening('/proc/net/tcp');
  assert.deepEqual(v4, [`0100007F:${port}`]);
  assert.deepEqual(listening('/proc/net/tcp6'), []);
});

test('trip, 503 with Retry-After, half-open probe, recovery', async () => {
  assert.deepEqual(await get(), { status: 200, state: 'closed', reason: null, retryAfter: null, body: 'ok' });

  upstreamFails = true;
  for (let i = 0; i < 3; i++) assert.equal((await get()).status, 502);
  const hits = upstreamHits;
  const rejected = await get();
  assert.equal(rejected.status, 503, workerdLog);
  assert.equal(rejected.state, 'open');
  const body = JSON.parse(rejected.body);
  assert.equal(body.code, 'ERR_CIRCUIT_OPEN');
  assert.equal(body.reason, 'open');
  assert.equal(rejected.reason, 'open');
  assert.ok(body.retryAfterMs > 0 && body.retryAfterMs <= OPEN_MS, rejected.body);
  assert.equal(rejected.retryAfter, String(Math.ceil(body.retryAfterMs / 1000)));
  assert.equal(upstreamHits, hits, 'an open circuit must not call the upstream');

  // Time in a worker advances across I/O: wait out the open duration, then probe. The probe
  // fails (upstream still down): back to open.
  await sleep(OPEN_MS + 150);
  const failedProbe = await get();
  assert.equal(failedProbe.status, 502);
  assert.equal(failedProbe.state, 'open');
  assert.equal(upstreamHits, hits + 1, 'exactly one probe reached the upstream');
  assert.equal((await get()).status, 503);

  // Upstream recovers; the next probe closes the circuit.
  upstreamFails = false;
  await sleep(OPEN_MS + 150);
  const probe = await get();
  assert.deepEqual([probe.status, probe.state, probe.body], [200, 'closed', 'ok']);
  assert.equal((await get()).status, 200);

  const stats = JSON.parse((await get('/stats')).body);
  assert.equal(stats.state, 'closed');
  assert.equal(stats.transitions.open, 2);
  assert.equal(stats.transitions.half_open, 2);
  assert.equal(stats.transitions.closed, 1);
  assert.equal(stats.rejected, 2);
  assert.equal(stats.failures, 4);
  assert.equal(stats.successes, 3);
  assert.equal(stats.health, 'healthy');
  assert.equal(stats.name, 'upstream');
  const metrics = await get('/metrics');
  assert.match(metrics.body, /^cbreaker_transitions_total\{breaker="upstream",state="open"\} 2$/m);
});
