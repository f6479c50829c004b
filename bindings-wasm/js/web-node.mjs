// `cbreaker/web` under Node: the Node build (ready at import; initSync and init do nothing), so
// `cbreaker` and `cbreaker/web` are one instance with one set of classes.
export * from './index.mjs';
export { init as default } from './index.mjs';
