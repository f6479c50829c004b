// Types of `cbreaker/web` (edge workers, browsers): the Node API plus initialisation.
export * from './index.js';

export type InitInput = WebAssembly.Module | BufferSource;

/** Initialises the module synchronously; call once before the first `new CircuitBreaker`. */
export declare function initSync(input: { module: InitInput }): unknown;

/** Initialises the module asynchronously. */
export default function init(input?: { module_or_path: InitInput | Response | URL | string | Promise<Response> }): Promise<unknown>;
