'use strict';
// Node, CommonJS: the wasm-bindgen `nodejs` build reads the .wasm next to it (no network).
const { bind } = require('./layer.cjs');
const api = bind(require('./node/cbreaker.js'));

module.exports = { CircuitBreaker: api.CircuitBreaker, CircuitOpenError: api.CircuitOpenError, Permit: api.Permit };
