// make bench-js: `await breaker.call(fn)` overhead over a bare `await fn()`, side by side with
// opossum 10 and cockatiel 4 in the same run; heap bytes per breaker for 10,000 breakers; the
// .wasm size after wasm-opt -Oz. Run with `node --expose-gc bench/bench.mjs`.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CircuitBreaker, instrument } from '../dist/index.mjs';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

const require = createRequire(import.meta.url);
const Opossum = require('opossum');
const cockatiel = require('cockatiel');
const rawNode = require('../dist/node/cbreaker.js');

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ITER = Number(process.env.BENCH_ITER ?? 100_000);
const N_BREAKERS = 10_000;

async function target() { return 1; }

const subjects = {
  'bare await fn()': () => target,
  'cbreaker call (performance.now clock)': () => {
    const b = new CircuitBreaker({ windowSize: 100 });
    return () => b.call(target);
  },
  // Issue 18: the OpenTelemetry instruments are observable (read at collection, which this
  // loop never triggers), so the call path must not change.
  'cbreaker call, OTel instruments registered': () => {
    const b = new CircuitBreaker({ windowSize: 100, name: 'bench' });
    instrument([b], { meterProvider: new MeterProvider() });
    return () => b.call(target);
  },
  'cbreaker call (injected clock)': () => {
    let t = 0;
    const b = new CircuitBreaker({ windowSize: 100, now: () => t++ });
    return () => b.call(target);
  },
  'cbreaker tryAcquire + success around await fn (extra async fn)': () => {
    const b = new CircuitBreaker({ windowSize: 100 });
    return async () => {
      const p = b.tryAcquire(0);
      const r = await target();
      p.success({ nowMs: 0 });
      return r;
    };
  },
  'opossum 10 fire (defaults)': () => {
    const o = new Opossum(target, {});
    cleanup.push(() => o.shutdown());
    return () => o.fire();
  },
  'cockatiel 4 ConsecutiveBreaker': () => {
    const p = cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: 10_000, breaker: new cockatiel.ConsecutiveBreaker(5),
    });
    return () => p.execute(target);
  },
  'cockatiel 4 SamplingBreaker': () => {
    const p = cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: 10_000, breaker: new cockatiel.SamplingBreaker({ threshold: 0.5, duration: 10_000 }),
    });
    return () => p.execute(target);
  },
};
const cleanup = [];

async function timeLoop(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

const fns = Object.fromEntries(Object.entries(subjects).map(([k, make]) => [k, make()]));
for (const fn of Object.values(fns)) await timeLoop(fn, ITER / 5); // warm up
const samples = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [k, fn] of Object.entries(fns)) samples[k].push(await timeLoop(fn, ITER)); // interleaved
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const ns = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const bare = ns['bare await fn()'];
const over = (k) => ns[k] - bare;
const ours = over('cbreaker call (performance.now clock)');

console.log(`\ncall overhead, Node ${process.version}, ${ROUNDS} rounds x ${ITER} sequential awaits, median ns/op`);
console.log('| subject | ns/op | overhead ns | overhead vs cbreaker call |');
console.log('|---|---:|---:|---:|');
for (const k of Object.keys(ns)) {
  const ratio = k === 'bare await fn()' ? '' : `${(over(k) / ours).toFixed(2)}x`;
  console.log(`| ${k} | ${ns[k].toFixed(1)} | ${k === 'bare await fn()' ? '' : over(k).toFixed(1)} | ${ratio} |`);
}
for (const c of cleanup) c();

// ---- memory per breaker ----------------------------------------------------------------------
const wasmBytes = () => rawNode.wasmMemoryBytes();
async function perBreaker(make) {
  const keep = new Array(N_BREAKERS);
  for (let i = 0; i < 100; i++) make(); // allocator and hidden classes warm
  for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
  const m0 = process.memoryUsage();
  const w0 = wasmBytes();
  for (let i = 0; i < N_BREAKERS; i++) keep[i] = make();
  for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
  const m1 = process.memoryUsage();
  const w1 = wasmBytes();
  const js = (m1.heapUsed - m0.heapUsed) / N_BREAKERS;
  const wasm = (w1 - w0) / N_BREAKERS;
  const result = { js, wasm, total: js + wasm, keep };
  return result;
}
const makers = {
  cbreaker: () => new CircuitBreaker({ windowSize: 100 }),
  'cbreaker (default config)': () => new CircuitBreaker(),
  'cbreaker (1024-outcome window)': () => new CircuitBreaker({ windowSize: 1024 }),
  'opossum 10 (defaults)': () => {
    const o = new Opossum(target, {});
    opossums.push(o);
    return o;
  },
  'cockatiel 4 ConsecutiveBreaker': () => cockatiel.circuitBreaker(cockatiel.handleAll, {
    halfOpenAfter: 10_000, breaker: new cockatiel.ConsecutiveBreaker(5) }),
  'cockatiel 4 SamplingBreaker': () => cockatiel.circuitBreaker(cockatiel.handleAll, {
    halfOpenAfter: 10_000, breaker: new cockatiel.SamplingBreaker({ threshold: 0.5, duration: 10_000 }) }),
};
const opossums = [];
const hold = [];
const memRuns = Object.fromEntries(Object.keys(makers).map((k) => [k, []]));
for (let r = 0; r < 3; r++) {
  for (const [k, make] of Object.entries(makers)) {
    const m = await perBreaker(make);
    memRuns[k].push({ js: m.js, wasm: m.wasm, total: m.total });
    // WebAssembly memory never shrinks and reuses freed blocks: keep every cbreaker alive so
    // each run's growth is its own allocation.
    if (k.startsWith('cbreaker')) hold.push(m.keep);
    for (const o of opossums.splice(0)) o.shutdown();
  }
}
const mem = Object.fromEntries(Object.entries(memRuns).map(([k, runs]) => [k, [...runs].sort((a, b) => a.total - b.total)[1]]));
console.log(`\nmemory per breaker, ${N_BREAKERS} live breakers, median of 3 (JS heap delta + WebAssembly memory growth)`);
console.log('| subject | JS heap B | wasm memory B | total B |');
console.log('|---|---:|---:|---:|');
for (const [k, v] of Object.entries(mem)) {
  console.log(`| ${k} | ${v.js.toFixed(0)} | ${v.wasm.toFixed(0)} | ${v.total.toFixed(0)} |`);
}
const rawBytes = (size) => {
  const h = rawNode.breakerNew(undefined, 0, size, ...new Array(15).fill(undefined), false);
  const n = rawNode.byteSize(h);
  rawNode.breakerFree(h);
  return n;
};
console.log(`(the wasm-side breaker, without allocator headers and its 8-byte handle slot: ${rawBytes(100)} B for windowSize 100 (inline storage), ${rawBytes(1024)} B for 1024 (boxed); WebAssembly memory grows in 64 KiB pages and never shrinks)`);

const wasmSize = statSync(new URL('../dist/web/cbreaker_bg.wasm', import.meta.url)).size;
console.log(`\n.wasm after wasm-opt -Oz: ${wasmSize} B (${(wasmSize / 1024).toFixed(1)} KiB; target < 40 KB)`);

const cock = Math.min(over('cockatiel 4 ConsecutiveBreaker'), over('cockatiel 4 SamplingBreaker'));
const memCock = Math.min(mem['cockatiel 4 ConsecutiveBreaker'].total, mem['cockatiel 4 SamplingBreaker'].total);
console.log('\ntargets (issues 5 and 15):');
console.log(`  overhead >= 1.5x lower than cockatiel's: ${(cock / ours).toFixed(2)}x ${cock / ours >= 1.5 ? 'MET' : 'NOT MET'}`);
console.log(`  overhead >= 5x lower than opossum's:     ${(over('opossum 10 fire (defaults)') / ours).toFixed(2)}x ${over('opossum 10 fire (defaults)') / ours >= 5 ? 'MET' : 'NOT MET'}`);
console.log(`  memory <= 1/4 of cockatiel's:            ${(mem.cbreaker.total / memCock).toFixed(2)} of it ${mem.cbreaker.total * 4 <= memCock ? 'MET' : 'NOT MET'}`);
console.log(`  memory <= 400 B (windowSize 100):        ${mem.cbreaker.total.toFixed(0)} B ${mem.cbreaker.total <= 400 ? 'MET' : 'NOT MET'}`);
console.log(`  .wasm < 40 KB:                           ${wasmSize} B ${wasmSize < 40_000 ? 'MET' : 'NOT MET'}`);
