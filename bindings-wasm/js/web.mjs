// Edge workers and browsers: the wasm-bindgen `web` build. Initialise once before the first
// breaker: `initSync({ module })` with a compiled WebAssembly.Module (workerd:
// `import wasm from 'cbreaker/cbreaker.wasm'`) or bytes, or `await init(...)`.
import wbgInit, * as raw from './web/cbreaker.js';
import { bind } from './layer.mjs';

const api = bind(raw);

export const { CircuitBreaker, CircuitOpenError, Permit } = api;

/** Initialises the module synchronously from a `WebAssembly.Module` or bytes. */
export function initSync(input) {
  return raw.initSync(input);
}

/** Initialises the module asynchronously (a Module, bytes, a Response or a URL). */
export default function init(input) {
  return wbgInit(input);
}
