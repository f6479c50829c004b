// Builds dist/: cargo (wasm32) -> wasm-bindgen (nodejs + web) -> wasm-opt -Oz -> JS entry points.
// No wasm-pack. Needs `wasm-bindgen` (the CLI pinned to the crate's version) on PATH and
// `npm install` done here (wasm-opt comes from the npm package binaryen).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const root = dirname(pkg);
// CBREAKER_WASM_FEATURES: cargo features of the crate (e.g. `fleet-sim`, for the fleet vectors'
// test build: `make conformance-js` writes it to dist-sim/ with CBREAKER_WASM_DIST), built in a
// target dir of its own so that the package's build and it never rebuild each other.
const features = process.env.CBREAKER_WASM_FEATURES ?? '';
const targetDir = (process.env.CBREAKER_WASM_TARGET_DIR ?? join(root, 'target', 'wasm-pkg'))
  + (features === '' ? '' : `-${features.replace(/[^A-Za-z0-9]+/g, '-')}`);
const dist = resolve(pkg, process.env.CBREAKER_WASM_DIST ?? 'dist');
const run = (cmd, args, env = {}) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });

// Release build in its own target dir, so it never rebuilds anyone else's artifacts. opt-level 3
// (not "s" or "z"): after wasm-opt -Oz it is within 1.5 % of their size and faster here.
run('cargo', ['build', '--release', '-p', 'cbreaker-wasm', '--target', 'wasm32-unknown-unknown',
  ...(features === '' ? [] : ['--features', features])], {
  CARGO_TARGET_DIR: targetDir,
  CARGO_PROFILE_RELEASE_OPT_LEVEL: '3',
  CARGO_PROFILE_RELEASE_LTO: 'true',
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS: '1',
  CARGO_PROFILE_RELEASE_DEBUG: '0',
  CARGO_PROFILE_RELEASE_PANIC: 'abort',
});
const wasm = join(targetDir, 'wasm32-unknown-unknown', 'release', 'cbreaker_wasm.wasm');

rmSync(dist, { recursive: true, force: true });
for (const target of ['nodejs', 'web']) {
  const out = join(dist, target === 'nodejs' ? 'node' : 'web');
  run('wasm-bindgen', ['--target', target, '--out-dir', out, '--out-name', 'cbreaker', '--no-typescript', wasm]);
  const bg = join(out, 'cbreaker_bg.wasm');
  // Explicit features only: --all-features emits types Node 20 refuses to compile.
  run(join(pkg, 'node_modules', '.bin', 'wasm-opt'), ['-Oz', '--strip-debug', '--strip-producers',
    '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
    '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', bg, '-o', bg]);
}
// The node build is CommonJS inside a "type": "module" package.
writeFileSync(join(dist, 'node', 'package.json'), '{ "type": "commonjs" }\n');
// Both targets produce the same .wasm: ship it once (dist/web/), read by the node glue from there.
const nodeWasm = join(dist, 'node', 'cbreaker_bg.wasm');
const webWasm = join(dist, 'web', 'cbreaker_bg.wasm');
if (!readFileSync(nodeWasm).equals(readFileSync(webWasm))) throw new Error('node and web .wasm differ');
rmSync(nodeWasm);
const glue = join(dist, 'node', 'cbreaker.js');
const from = '`${__dirname}/cbreaker_bg.wasm`';
const code = readFileSync(glue, 'utf8');
if (!code.includes(from)) throw new Error(`wasm-bindgen's node glue changed: no ${from}`);
writeFileSync(glue, code.replace(from, "require('path').join(__dirname, '..', 'web', 'cbreaker_bg.wasm')"));

// The JS layer: ESM as written, plus a CommonJS copy exporting the same names.
const layer = readFileSync(join(pkg, 'js', 'layer.mjs'), 'utf8');
writeFileSync(join(dist, 'layer.mjs'), layer);
const names = [...layer.matchAll(/^export (?:class|function) (\w+)/gm)].map((m) => m[1]);
const cjs = layer.replace(/^export (class|function) (\w+)/gm, '$1 $2');
if (/^export /m.test(cjs)) throw new Error('layer.mjs: only `export class|function` is supported');
writeFileSync(join(dist, 'layer.cjs'), `'use strict';\n${cjs}\nmodule.exports = { ${names.join(', ')} };\n`);
for (const f of ['index.cjs', 'index.mjs', 'web.mjs', 'web-node.mjs', 'index.d.ts', 'web.d.ts', 'wasm.d.ts', 'wasm.d.cts']) {
  cpSync(join(pkg, 'js', f), join(dist, f));
}
// The same declarations for the `require` condition: a .d.cts is read as CommonJS, so the types
// of `require('cbreaker')` are not ESM types masquerading as CommonJS (attw).
cpSync(join(pkg, 'js', 'index.d.ts'), join(dist, 'index.d.cts'));

const size = statSync(join(dist, 'web', 'cbreaker_bg.wasm')).size;
console.log(`cbreaker: ${relative(pkg, dist)}/ built${features === '' ? '' : ` (features: ${features})`}; .wasm after wasm-opt -Oz: ${size} bytes (${(size / 1024).toFixed(1)} KiB)`);
