// Node, ES module: the same instance as the CommonJS entry (no dual-package hazard).
import api from './index.cjs';

export const { CircuitBreaker, Permit, CircuitOpenError, PermitSettledError, PRESETS, prometheusText, instrument, initSync, init } = api;
