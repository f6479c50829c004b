// Types of `cbreaker/cbreaker.wasm` for CommonJS resolution (see wasm.d.ts).
declare const module: WebAssembly.Module;
export = module;
