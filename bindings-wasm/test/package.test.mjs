// Packaging: `npm pack`, install the tarball into a scratch project, import it as ESM and as
// CommonJS, initialise the web entry with initSync from the packaged .wasm (no network), check
// the types with @arethetypeswrong/cli and with tsc under every module resolution.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packAndInstall, pkgDir, run } from './pack.mjs';

let scratch;
let tarball;
let cleanup;
const node = (args) => run(process.execPath, args, scratch);

before(() => ({ scratch, tarball, cleanup } = packAndInstall('cbreaker-pack-')));
after(() => cleanup?.());

test('the tarball: README, both licences, package.json and dist/', () => {
  const size = statSync(tarball).size;
  console.log(`# npm package: ${tarball.split('/').pop()} ${size} bytes`);
  assert.ok(size < 100_000, `tarball is ${size} bytes`);
  const files = run('tar', ['tzf', tarball], scratch).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
  assert.deepEqual(files.filter((f) => !f.startsWith('dist/')), ['LICENSE-APACHE', 'LICENSE-MIT', 'README.md', 'package.json']);
  const dist = readdirSync(join(scratch, 'node_modules', 'cbreaker', 'dist')).sort();
  assert.deepEqual(dist, ['index.cjs', 'index.d.cts', 'index.d.ts', 'index.mjs', 'layer.cjs', 'layer.mjs', 'node', 'wasm.d.cts',
    'wasm.d.ts', 'web', 'web-node.mjs', 'web.d.ts', 'web.mjs']);
});

const script = `
  const b = new CircuitBreaker({ window: 'consecutive', consecutiveFailures: 1, openDurationMs: 1000, now: () => 0 });
  b.tryAcquire().failure();
  const s = b.snapshot();
  console.log(JSON.stringify({ state: s.state, failures: s.failures }));
`;
const expected = '{"state":"open","failures":1}';

test('imports as an ES module', () => {
  assert.equal(node(['--input-type=module', '-e', `import { CircuitBreaker } from 'cbreaker';${script}`]).trim(), expected);
});

test('requires as CommonJS', () => {
  assert.equal(node(['-e', `const { CircuitBreaker } = require('cbreaker');${script}`]).trim(), expected);
});

test('one error class across cbreaker and cbreaker/web, ESM and CommonJS (instanceof works)', () => {
  const out = node(['--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    import * as main from 'cbreaker';
    import * as web from 'cbreaker/web';
    const cjs = createRequire(import.meta.url)('cbreaker');
    const cjsWeb = createRequire(import.meta.url)('cbreaker/web');
    const b = new web.CircuitBreaker({ now: () => 0 });
    b.forceOpen();
    const e = await b.call(() => 1).catch((x) => x);
    console.log([e instanceof main.CircuitOpenError, e instanceof cjs.CircuitOpenError, e instanceof cjsWeb.CircuitOpenError,
      main.PermitSettledError === web.PermitSettledError, main.CircuitBreaker === cjs.CircuitBreaker].join(','));
  `]).trim();
  assert.equal(out, 'true,true,true,true,true');
});

test('the web build works after initSync({ module }) with the packaged .wasm', () => {
  const out = node(['--input-type=module', '-e', `
    import { readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    const { CircuitBreaker, initSync, PRESETS } = await import('./node_modules/cbreaker/dist/web.mjs');
    let before = 'no error';
    try { new CircuitBreaker({ windowSize: 4 }); } catch (e) { before = e.message; }
    const require = createRequire(import.meta.url);
    const module = new WebAssembly.Module(readFileSync(require.resolve('cbreaker/cbreaker.wasm')));
    console.log(before + ' / presets before init: ' + PRESETS.length);
    initSync({ module });
    console.log('presets: ' + PRESETS.length);
    ${script}`]).trim().split('\n');
  assert.match(out[0], /not initialised; call initSync.* \/ presets before init: 0$/);
  assert.deepEqual(out.slice(1), ['presets: 7', expected]);
});

test('@arethetypeswrong/cli finds no problem (strict profile)', () => {
  try {
    const out = run(join(pkgDir, 'node_modules', '.bin', 'attw'), [tarball, '--format', 'ascii', '--no-color'], scratch);
    assert.match(out, /No problems found/);
  } catch (e) {
    assert.fail(`attw:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
  }
});

const consumer = `
import { CircuitBreaker, CircuitOpenError, PermitSettledError, PRESETS, prometheusText, instrument, type Snapshot, type State, type Transition, type Stats, type Naming } from 'cbreaker';

const breaker = new CircuitBreaker({ preset: 'http_api', windowSize: 20, name: 'users', exclude: (e) => e instanceof TypeError, fallback: () => null });
const plain = new CircuitBreaker();
async function fetchUser(id: number): Promise<{ id: number }> { return { id }; }
export async function main(): Promise<number> {
  const user = await breaker.call(fetchUser, 7);
  const n: number = user.id;
  const again = await breaker.wrap(fetchUser)(8);
  const permit = breaker.tryAcquire(performance.now());
  const done = permit?.success({ durationMs: 12 });
  const d: number | null | undefined = done?.durationMs;
  const s: Snapshot = breaker.snapshot();
  const st: State = breaker.state;
  const t: Transition = breaker.trip();
  const h: 'healthy' | 'unhealthy' = breaker.health;
  const stats: Stats = breaker.stats();
  breaker.on('statechange', (e) => console.log(e.from, e.to, e.cause));
  breaker.on('error', (e) => console.log(e.source, e.error));
  breaker.on('reject', { handleEvent: (e) => console.log(e.reason, e.retryAfterMs) });
  const r = await breaker.callWith({ timeoutMs: 100, signal: AbortSignal.timeout(1000) }, async ({ signal }) => signal.aborted);
  try { await plain.call(() => 1); } catch (e) {
    if (e instanceof CircuitOpenError) console.log(e.code, e.reason, e.retryAfterMs);
    if (e instanceof PermitSettledError) console.log(e.code);
  }
  const text: string = prometheusText({ users: breaker, plain }) + breaker.prometheusText();
  const naming: Naming = 'resilience4j';
  const r4j: string = prometheusText([breaker], { naming }) + breaker.prometheusText(undefined, { naming: 'cbreaker' });
  const otel = instrument(new Map([['users', breaker]]), { meterProvider: { getMeter: (name: string) => ({ name }) } });
  otel.close();
  // @ts-expect-error: unknown naming
  prometheusText([breaker], { naming: 'micrometer' });
  // @ts-expect-error: instrument() needs a meterProvider
  instrument([breaker], {});
  // @ts-expect-error: unknown option
  new CircuitBreaker({ windowSize: 20, failureThreshold: 5 });
  // @ts-expect-error: unknown preset
  new CircuitBreaker({ preset: 'nope' });
  // @ts-expect-error: wrong argument type for fetchUser
  await breaker.call(fetchUser, 'x');
  // @ts-expect-error: unknown event
  breaker.on('open', () => {});
  // @ts-expect-error: unknown settle option
  permit?.failure({ duration: 5 });
  return n + again.id + s.calls + st.length + t.generation + Number(r) + h.length + stats.calls + PRESETS.length + text.length + r4j.length + (d ?? 0);
}
`;
const worker = `
import { CircuitBreaker, initSync } from 'cbreaker/web';
import init from 'cbreaker/web';
import wasm from 'cbreaker/cbreaker.wasm';
initSync({ module: wasm });
export const ready: Promise<unknown> = init();
export const b = new CircuitBreaker({ window: 'consecutive', consecutiveFailures: 3 });
`;
const cjs = `
import cb = require('cbreaker');
import web = require('cbreaker/web');
export const b = new cb.CircuitBreaker({ preset: 'database' });
export const same: boolean = web.CircuitOpenError === cb.CircuitOpenError;
`;

for (const [resolution, module, files] of [
  ['node16', 'node16', { 'consumer.mts': consumer, 'worker.mts': worker, 'cjs.cts': cjs }],
  ['nodenext', 'nodenext', { 'consumer.mts': consumer, 'worker.mts': worker, 'cjs.cts': cjs }],
  ['bundler', 'esnext', { 'consumer.ts': consumer, 'worker.ts': worker }],
]) {
  test(`tsc --noEmit (moduleResolution ${resolution}) accepts a consumer and rejects misuse`, () => {
    const dir = join(scratch, `ts-${resolution}`);
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module, moduleResolution: resolution, target: 'es2022', lib: ['es2022', 'dom'], skipLibCheck: false, types: [] },
      files: Object.keys(files),
    }));
    try {
      node([join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]);
    } catch (e) {
      assert.fail(`tsc (${resolution}) failed:\n${e.stdout}${e.stderr}`);
    }
  });
}
