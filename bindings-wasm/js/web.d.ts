// Types of `cbreaker/web` (edge workers, browsers): the same API as `cbreaker`, with `init` as
// the default export too.
export * from './index.js';
export { init as default } from './index.js';
