// Edge workers and browsers: the wasm-bindgen `web` build. Initialise once before the first
// breaker: `initSync({ module })` with a compiled WebAssembly.Module (workerd:
// `import wasm from 'cbreaker/cbreaker.wasm'`) or bytes, or `await init(...)`.
// (Under Node, `cbreaker/web` resolves to the Node build instead: see web-node.mjs.)
import wbgInit, * as raw from './web/cbreaker.js';
import { bind } from './layer.mjs';

// Transitions are published on a diagnostics channel where the runtime has one (workerd with
// nodejs_compat); a browser has none.
const dc = (() => { try { return globalThis.process?.getBuiltinModule?.('node:diagnostics_channel'); } catch { return undefined; } })();
const api = bind(raw, dc);

export { CircuitOpenError, PermitSettledError } from './layer.mjs';
export const { CircuitBreaker, Permit, PRESETS, prometheusText, instrument } = api;

/** Initialises the module synchronously from a `WebAssembly.Module` or bytes. */
export function initSync(input) {
  const out = raw.initSync(input);
  api.load();
  return out;
}

/** Initialises the module asynchronously (a Module, bytes, a Response or a URL). */
export async function init(input) {
  const out = await wbgInit(input);
  api.load();
  return out;
}
export default init;
