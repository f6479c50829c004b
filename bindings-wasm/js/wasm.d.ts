// Types of `cbreaker/cbreaker.wasm`: what workerd and bundlers with a WebAssembly loader give
// for an import of a .wasm file, a compiled module to pass to `initSync({ module })`.
declare const module: WebAssembly.Module;
export default module;
