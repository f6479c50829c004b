// Node, ES module: the same instance as the CommonJS entry (no dual-package hazard).
import api from './index.cjs';

export const { CircuitBreaker, CircuitOpenError, Permit } = api;
