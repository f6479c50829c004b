// Packaging: `npm pack`, install the tarball into a scratch project, import it as ESM and as
// CommonJS, initialise the web entry with initSync from the packaged .wasm (no network), and
// type-check a consumer .ts file with `tsc --noEmit`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
let scratch;
let tarball;

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
const node = (args, cwd) => run(process.execPath, args, cwd);

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'cbreaker-pack-'));
  const out = run('npm', ['pack', '--silent', '--pack-destination', scratch], pkgDir).trim().split('\n').pop();
  tarball = join(scratch, out);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--offline', tarball], scratch);
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('npm pack makes a small tarball with the dist files only', () => {
  const size = statSync(tarball).size;
  console.log(`# npm package: ${tarball.split('/').pop()} ${size} bytes`);
  assert.ok(size < 100_000, `tarball is ${size} bytes`);
  const dist = readdirSync(join(scratch, 'node_modules', 'cbreaker', 'dist')).sort();
  assert.deepEqual(dist, ['index.cjs', 'index.d.ts', 'index.mjs', 'layer.cjs', 'layer.mjs', 'node', 'web', 'web.d.ts', 'web.mjs']);
});

const script = `
  const b = new CircuitBreaker({ window: 'consecutive', consecutiveFailures: 1, openDurationMs: 1000, now: () => 0 });
  b.tryAcquire().failure();
  const s = b.snapshot();
  console.log(JSON.stringify({ state: s.state, failures: s.failures }));
`;
const expected = '{"state":"open","failures":1}';

test('imports as an ES module', () => {
  const out = node(['--input-type=module', '-e', `import { CircuitBreaker } from 'cbreaker';${script}`], scratch);
  assert.equal(out.trim(), expected);
});

test('requires as CommonJS', () => {
  const out = node(['-e', `const { CircuitBreaker } = require('cbreaker');${script}`], scratch);
  assert.equal(out.trim(), expected);
});

test('the web entry works after initSync({ module }) with the packaged .wasm', () => {
  const out = node(['--input-type=module', '-e', `
    import { readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    import { CircuitBreaker, initSync } from 'cbreaker/web';
    let before = 'no error';
    try { new CircuitBreaker({ windowSize: 4 }); } catch (e) { before = e.message; }
    const require = createRequire(import.meta.url);
    const module = new WebAssembly.Module(readFileSync(require.resolve('cbreaker/cbreaker.wasm')));
    initSync({ module });
    console.log(before);
    ${script}`], scratch).trim().split('\n');
  assert.match(out[0], /not initialised; call initSync/);
  assert.equal(out[1], expected);
});

test('tsc --noEmit accepts a consumer file and rejects misuse', () => {
  writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], skipLibCheck: false },
    files: ['consumer.ts', 'worker.ts'],
  }));
  writeFileSync(join(scratch, 'consumer.ts'), `
import { CircuitBreaker, CircuitOpenError, type Snapshot, type State, type Transition } from 'cbreaker';

const breaker = new CircuitBreaker({ windowSize: 20, failureRateThreshold: 50, openDurationMs: 30_000, exclude: (e) => e instanceof TypeError });
async function fetchUser(id: number): Promise<{ id: number }> { return { id }; }
export async function main(): Promise<number> {
  const user = await breaker.call(fetchUser, 7);
  const n: number = user.id;
  const wrapped = breaker.wrap(fetchUser);
  const again = await wrapped(8);
  const permit = breaker.tryAcquire(performance.now());
  if (permit) permit.success({ durationMs: 12 });
  const s: Snapshot = breaker.snapshot();
  const st: State = breaker.state;
  const t: Transition = breaker.reset();
  breaker.on('statechange', (e) => console.log(e.from, e.to, e.cause));
  breaker.addEventListener('reject', { handleEvent: (e) => console.log(e.retryAfterMs) });
  const r = await breaker.callWith({ timeoutMs: 100, signal: AbortSignal.timeout(1000) }, async ({ signal }) => signal.aborted);
  try { await breaker.call(() => 1); } catch (e) { if (e instanceof CircuitOpenError) console.log(e.code, e.retryAfterMs); }
  // @ts-expect-error: unknown option
  new CircuitBreaker({ windowSize: 20, failureThreshold: 5 });
  // @ts-expect-error: wrong argument type for fetchUser
  await breaker.call(fetchUser, 'x');
  // @ts-expect-error: unknown event
  breaker.on('open', () => {});
  return n + again.id + s.calls + st.length + t.generation + Number(r);
}
`);
  writeFileSync(join(scratch, 'worker.ts'), `
import { CircuitBreaker, initSync } from 'cbreaker/web';
declare const wasm: WebAssembly.Module;
initSync({ module: wasm });
export const b = new CircuitBreaker({ window: 'consecutive', consecutiveFailures: 3 });
`);
  const tsc = join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    node([tsc, '-p', scratch], scratch);
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});
