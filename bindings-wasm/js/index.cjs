'use strict';
// Node, CommonJS: the wasm-bindgen `nodejs` build reads the .wasm next to it (no network). The
// ES module entries (index.mjs, and `cbreaker/web` under Node) re-export this one instance, so
// every entry has the same classes (instanceof works across them).
const layer = require('./layer.cjs');
const api = layer.bind(require('./node/cbreaker.js'), require('node:diagnostics_channel'));
api.load(); // the module is instantiated synchronously here: the preset names are there at once

module.exports = {
  CircuitBreaker: api.CircuitBreaker,
  Permit: api.Permit,
  CircuitOpenError: layer.CircuitOpenError,
  PermitSettledError: layer.PermitSettledError,
  PRESETS: api.PRESETS,
  prometheusText: api.prometheusText,
  instrument: api.instrument,
  // The web entry's initialisation, as no-ops: under Node the module is ready at import.
  initSync() {},
  init() { return Promise.resolve(); },
};
