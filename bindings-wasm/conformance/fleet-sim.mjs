// The fleet vectors' test surface: the package's JS layer over the test build dist-sim/ (the
// crate's cargo feature `fleet-sim`; `make conformance-js` builds it; never in the npm package),
// plus `FleetSim`, the core's simulated fleet store and sync flow (src/fleet_sim.rs) whose
// members are breakers of that same layer. Nothing is decided here: the store's semantics and
// every decision are the core's; this checks JS types and passes breakers by handle.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SIM_DIST = process.env.CBREAKER_SIM_DIST ?? join(here, '..', 'dist-sim');

const require = createRequire(import.meta.url);
if (!existsSync(join(SIM_DIST, 'layer.cjs'))) {
  throw new Error(`${SIM_DIST}: no test build; run \`make conformance-js\` (or CBREAKER_WASM_FEATURES=fleet-sim CBREAKER_WASM_DIST=dist-sim node scripts/build.mjs)`);
}
const raw = require(join(SIM_DIST, 'node', 'cbreaker.js'));
if (typeof raw.FleetSim !== 'function') throw new Error(`${SIM_DIST} was built without the cargo feature fleet-sim`);
const api = require(join(SIM_DIST, 'layer.cjs')).bind(raw, undefined);
api.load();

/** The test build's CircuitBreaker: the package's own, on the module FleetSim runs in. */
export const { CircuitBreaker } = api;

const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? 'an object' : String(v));
const coded = (Kind, code, option, message) => Object.assign(new Kind(message), option === undefined ? { code } : { code, option });
const invalid = (Kind, option, message) => coded(Kind, 'ERR_CB_INVALID_CONFIG', option, `invalid config: ${message}`);
const argument = (Kind, message) => coded(Kind, 'ERR_CB_INVALID_ARGUMENT', undefined, message);

/** A time in ms: a finite number >= 0 (`what` names it). */
function ms(t, what, code = 'ERR_CB_INVALID_ARGUMENT') {
  if (typeof t === 'number' && t >= 0 && t < Infinity) return t;
  throw coded(typeof t === 'number' ? RangeError : TypeError, code, what, `${what} must be a finite number of milliseconds >= 0, got ${show(t)}`);
}

/** A member's index: an integer >= 0. */
function index(m) {
  if (Number.isInteger(m) && m >= 0 && m < 2 ** 32) return m;
  throw argument(typeof m === 'number' ? RangeError : TypeError, `member must be an integer index from join(), got ${show(m)}`);
}

/** A simulated fleet: one store (the core's `SimStore`), members that are CircuitBreakers. */
export class FleetSim {
  #sim;

  /** An empty store whose clock reads `serverNowMs`. */
  constructor(serverNowMs) {
    this.#sim = new raw.FleetSim(ms(serverNowMs, 'serverNowMs'));
  }

  /** Adds `breaker` as member `memberId` with the rules of its config: `quorum` (an integer
   * >= 1: quorum mode; absent: rate mode), `windowMs` (the fleet window; the core checks it:
   * whole seconds, 1 s to 1 h). Returns the member's index. */
  join(breaker, memberId, opts = {}) {
    if (!(breaker instanceof CircuitBreaker)) throw argument(TypeError, `join() takes a CircuitBreaker, got ${show(breaker)}`);
    if (typeof memberId !== 'string') throw invalid(TypeError, 'memberId', `memberId must be a string, got ${show(memberId)}`);
    if (opts === null || typeof opts !== 'object') throw argument(TypeError, `join() takes an options object, got ${show(opts)}`);
    for (const k in opts) if (k !== 'quorum' && k !== 'windowMs') throw invalid(TypeError, k, `unknown option ${k} (quorum, windowMs)`);
    const { quorum, windowMs } = opts;
    if (quorum !== undefined) {
      if (typeof quorum !== 'number') throw invalid(TypeError, 'quorum', `quorum must be a number, got ${show(quorum)}`);
      if (!Number.isInteger(quorum) || quorum < 1 || quorum >= 2 ** 32) throw invalid(RangeError, 'quorum', `quorum must be an integer >= 1, got ${show(quorum)}`);
    }
    if (windowMs !== undefined) ms(windowMs, 'windowMs', 'ERR_CB_INVALID_CONFIG');
    try {
      return this.#sim.join(api.handleOf(breaker)[0], memberId, quorum, windowMs);
    } catch (e) {
      // The core named the option; add the value as the caller gave it.
      if (e?.option !== undefined) e.message += `, got ${show(opts[e.option])}`;
      throw e;
    }
  }

  /** One sync of `member` at its own time `nowMs`; what it knows afterwards: `{ status,
   * fleetState, generation, leases, members, pending, transitions }` (`transitions`: the local
   * ones this sync caused, `from->to:cause`). */
  sync(member, nowMs) { return this.#sim.sync(index(member), ms(nowMs, 'nowMs')); }

  /** Sets the store server's clock (ms). */
  setServerNow(serverNowMs) { this.#sim.setServerNow(ms(serverNowMs, 'serverNowMs')); }

  /** `down`, `up`, `wipe`, `garbage`, `wrong_type` or `lose_reply` (see the vectors' README). */
  store(action) { this.#sim.store(String(action)); }

  /** `force_open`, `force_closed` or `reset` of the whole fleet by `member`, at the store's
   * time (the server's clock sets every deadline). */
  operator(member, action) { this.#sim.operator(index(member), String(action)); }

  /** The store: `{ state, generation, cause, k, deadlineInMs, leases, log, window }`. */
  fleet() { return this.#sim.fleet(); }

  free() { this.#sim.free(); }
}
