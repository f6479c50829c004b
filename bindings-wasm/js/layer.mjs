// The JS layer of the npm package `cbreaker`. Every rule is the core's, reached through the raw
// class (bindings-wasm/src/lib.rs): the call protocol (begin/finish), whether a call is timed,
// settle-once, defaults and presets, rejection reasons and advice, health, the Prometheus text.
// This file only maps JS results and errors to an End, reads the clock, checks JS types and
// fires events. Written once as ESM; the build writes a CommonJS copy (layer.cjs) from it.

const TIMED = 2 ** 32; // begin(): + 2^32 timed, + 2^33 caused a transition, + 2^34 a probe (src/lib.rs)
const SETTLED = 8; // finish(): the core refused, settled already; else outcome << 1 | transition
const MANUAL = { forceOpen: 0, forceClosed: 1, metricsOnly: 2, reset: 3, trip: 4, halfOpen: 5 };
const KINDS = { count: 0, time: 1, consecutive: 2 };
const EVENTS = ['statechange', 'reject', 'success', 'failure', 'error'];
// The core's config fields, in the raw constructor's order after `preset` and `window`.
const FIELDS = ['windowSize', 'windowDurationMs', 'windowBuckets', 'failureRateThreshold',
  'slowCallRateThreshold', 'slowCallDurationMs', 'consecutiveFailures', 'minimumCalls',
  'openDurationMs', 'openDurationMaxMs', 'openDurationMultiplier', 'jitterPercent', 'jitterSeed',
  'halfOpenMaxCalls', 'successThreshold', 'halfOpenMaxWaitMs'];
const OPTIONS = new Set([...FIELDS, 'preset', 'window', 'neverTrips', 'now', 'isFailure', 'exclude',
  'name', 'timeoutMs', 'fallback']);
const NO_OPTIONS = Object.freeze({});
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** A call was refused: `reason` ('open' | 'half_open_full' | 'forced_open') and the core's
 * `retryAfterMs` advice (null when forced open). */
export class CircuitOpenError extends Error {
  constructor(message, reason, retryAfterMs) {
    super(message);
    this.name = 'CircuitOpenError';
    this.code = 'ERR_CIRCUIT_OPEN';
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A permit was settled a second time (a permit is settled exactly once). */
export class PermitSettledError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PermitSettledError';
    this.code = 'ERR_CB_PERMIT_SETTLED';
  }
}

/** The value as the caller gave it, for messages: "20" for a string, 5n for a bigint. */
function show(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (v !== null && typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

function coded(Kind, code, message, option) {
  const e = new Kind(message);
  e.code = code;
  if (option !== undefined) e.option = option;
  return e;
}
const configError = (Kind, option, message) => coded(Kind, 'ERR_CB_INVALID_CONFIG', `invalid config: ${message}`, option);
const argumentError = (Kind, message) => coded(Kind, 'ERR_CB_INVALID_ARGUMENT', message);

/** A time in ms: a number, >= 0 and finite. `what` names it in the error. */
function time(t, what, code = 'ERR_CB_INVALID_ARGUMENT') {
  if (typeof t === 'number' && t >= 0 && t < Infinity) return t;
  throw coded(typeof t === 'number' ? RangeError : TypeError, code, `${what} must be a finite number of milliseconds >= 0, got ${show(t)}`);
}

/** begin()'s flags over the permit's bits: 1 timed, 2 caused a transition, 4 a probe. */
const flags = (r) => (r - (r >>> 0)) / TIMED;

/** Options of a call, permit or settle: only the keys listed. */
function keys(o, allowed, where) {
  if (o === undefined) return NO_OPTIONS;
  if (o === null || typeof o !== 'object') throw argumentError(TypeError, `${where} takes an options object, got ${show(o)}`);
  for (const k in o) {
    if (!allowed.includes(k)) throw argumentError(TypeError, `${where}: unknown option ${k} (${allowed.join(', ')})`);
  }
  return o;
}

/** timeoutMs: an integer number of ms that setTimeout honours (1 to 2^31 - 1). */
function timeout(v, Kind, make) {
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw make(TypeError, `timeoutMs must be a number, got ${show(v)}`);
  if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw make(RangeError, `timeoutMs must be an integer from 1 to 2147483647 (ms), got ${show(v)}`);
  return v;
}

/** One config field for the raw constructor: JS types here, ranges in the core. */
function field(o, key) {
  const v = o[key];
  if (v === undefined) return undefined;
  if (key === 'jitterSeed') {
    if (typeof v !== 'bigint' && typeof v !== 'number') throw configError(TypeError, key, `jitterSeed must be a bigint or a number, got ${show(v)}`);
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw configError(RangeError, key, `jitterSeed must be a safe integer (or a bigint), got ${show(v)}`);
    if (v < 0 || v >= 2n ** 64n) throw configError(RangeError, key, `jitterSeed must be from 0 to 2n ** 64n - 1n, got ${show(v)}`);
    return BigInt(v);
  }
  if (typeof v !== 'number') throw configError(TypeError, key, `${key} must be a number, got ${show(v)}`);
  if (key === 'openDurationMultiplier') return v; // any number: the core checks the range
  if (!Number.isInteger(v) || v < 0) throw configError(RangeError, key, `${key} must be an integer >= 0, got ${show(v)}`);
  // The one field the core takes any u32 of (NB: no ConfigError names it): refuse what would wrap.
  if (key === 'minimumCalls' && v > 2 ** 32 - 1) throw configError(RangeError, key, `minimumCalls must be an integer from 0 to 4294967295, got ${show(v)}`);
  return v;
}

function optional(o, key, type) {
  const v = o[key];
  if (v !== undefined && typeof v !== type) throw configError(TypeError, key, `${key} must be a ${type}, got ${show(v)}`);
  return v;
}

/** A rejected call's End when nothing else says: a TimeoutError (AbortSignal.timeout) is a
 * timeout (a failure), an AbortError a cancellation (ignored), anything else a failure. */
function endOf(err, E) {
  let name;
  try { name = err?.name; } catch { /* a hostile getter: a failure */ }
  return name === 'TimeoutError' ? E.timeout : name === 'AbortError' ? E.cancelled : E.failure;
}

function defaultClock() {
  // Read at call time, never at module init (workers forbid clock reads there).
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * Builds the public API over the raw wasm-bindgen module `raw` (Node or web build). Nothing
 * here touches the module until `load()` or the first breaker, so a web build can be
 * initialised (`initSync`) after import.
 */
export function bind(raw) {
  let T; // the core's name tables, from load()
  const E = {}; // End name -> discriminant
  const PRESETS = [];
  let finishPermit; // settles a permit's call on its breaker; set in CircuitBreaker's static block
  let settle; // (permit, End, options): set in Permit's static block
  let handleOf;
  const notInitialised = () => new Error('cbreaker: the WebAssembly module is not initialised; call initSync({ module }) or await init() first');

  function load() {
    if (T !== undefined) return;
    try { T = raw.tables(); } catch { throw notInitialised(); }
    T.ends.forEach((name, i) => { E[name] = i; });
    PRESETS.push(...T.presets);
    Object.freeze(PRESETS);
  }

  // A breaker collected without free(): its WebAssembly memory is freed by handle.
  const breakers = typeof FinalizationRegistry === 'undefined' ? null : new FinalizationRegistry((h) => raw.breakerFree(h));
  const FREED = new Proxy({}, {
    get: () => () => { throw coded(Error, 'ERR_CB_FREED', 'this CircuitBreaker was freed (free()); make a new one'); },
  });
  // A probe permit (half-open) collected unsettled is settled as cancelled (ignored), as the
  // contract says, freeing its slot before the core's reclaim. Only probes: registering costs
  // ~250 ns a permit (3x a whole call()), and a closed-state permit holds nothing.
  const collected = typeof FinalizationRegistry === 'undefined' ? null
    : new FinalizationRegistry(([b, bits, started]) => {
      try {
        finishPermit(b, bits, started, false, E.cancelled, undefined, true);
      } catch { /* its breaker was freed: nothing left to settle */ }
    });

  /** Permission to make one call: settle it exactly once (a second time throws
   * PermitSettledError). Collected unsettled, it counts as cancelled (ignored). */
  class Permit {
    #b;
    #bits;
    #started;
    #settled = false;
    #probe;
    constructor(b, bits, started, probe) {
      this.#b = b;
      this.#bits = bits;
      this.#started = started;
      this.#probe = probe;
      if (probe) collected?.register(this, [b, bits, started], this);
    }
    /** The call worked. `{ durationMs }`: the duration you measured (null: none), `{ nowMs }`:
     * the time. Returns `{ outcome, durationMs, transition }`, as the core reports them. */
    success(opts) { return this.#settle(E.success, opts); }
    /** The call failed. */
    failure(opts) { return this.#settle(E.failure, opts); }
    /** Neither (an excluded error, a call abandoned before it ran): frees a half-open slot. */
    ignore(opts) { return this.#settle(E.ignored, opts); }
    /** Whether the permit has been settled. */
    get settled() { return this.#settled; }
    /** Whether the core times this call (the slow-call rule is on, or a duration sink). */
    get timed() { return this.#started >= 0; }
    #settle(end, opts) {
      const o = keys(opts, ['durationMs', 'nowMs'], 'settling a permit');
      const d = o.durationMs === undefined || o.durationMs === null ? o.durationMs : time(o.durationMs, 'durationMs');
      const done = finishPermit(this.#b, this.#bits, this.#started, this.#settled, end, d, false, o.nowMs);
      this.#settled = true;
      if (this.#probe) collected?.unregister(this);
      return done;
    }
    static _of(p, b) { return #b in p && p.#b === b; }
    static { settle = (p, end, opts) => p.#settle(end, opts); }
    [INSPECT]() { return `Permit { settled: ${this.#settled} }`; }
  }

  class CircuitBreaker {
    #h; // the handle of the breaker in WebAssembly memory
    #ops = raw; // the raw module's functions, or FREED after free()
    #now; // the `now` option, or undefined: NaN is passed and the core reads performance.now() if it must
    #opts; // the JS-only options (name, predicates, timeoutMs, fallback), or NO_OPTIONS
    #listeners = null;

    /** @param {object} [options] see index.d.ts; `{}` is the core's Config::default() */
    constructor(options = {}) {
      load();
      const o = options;
      if (o === null || typeof o !== 'object') throw configError(TypeError, 'options', `options must be an object, got ${show(o)}`);
      for (const k in o) if (!OPTIONS.has(k)) throw configError(TypeError, k, `unknown option ${k}`);
      const preset = optional(o, 'preset', 'string');
      const w = o.window;
      if (w !== undefined && !Object.hasOwn(KINDS, w)) throw configError(TypeError, 'window', `window must be 'count', 'time' or 'consecutive', got ${show(w)}`);
      const neverTrips = optional(o, 'neverTrips', 'boolean') === true;
      this.#now = optional(o, 'now', 'function');
      const js = {
        name: optional(o, 'name', 'string'), isFailure: optional(o, 'isFailure', 'function'),
        exclude: optional(o, 'exclude', 'function'), fallback: optional(o, 'fallback', 'function'),
        timeoutMs: timeout(o.timeoutMs, 0, (K, m) => configError(K, 'timeoutMs', m)),
      };
      this.#opts = Object.values(js).some((v) => v !== undefined) ? js : NO_OPTIONS;
      const fields = FIELDS.map((k) => field(o, k));
      try {
        this.#h = raw.breakerNew(preset, KINDS[w], ...fields, neverTrips);
      } catch (e) {
        // The core named the option; add the value as the caller gave it.
        if (e?.option !== undefined) {
          e.message += Object.hasOwn(o, e.option) ? `, got ${show(o[e.option])}` : ` (the ${preset === undefined ? 'default' : `preset '${preset}'`}'s value)`;
        }
        throw e;
      }
      breakers?.register(this, this.#h);
    }

    /** The name given in the options, if any. */
    get name() { return this.#opts.name; }
    /** The state a `tryAcquire` now would see; takes no permit. */
    get state() { return T.states[this.#ops.state(this.#h, this.#t())]; }
    /** The state a `tryAcquire` at `nowMs` would see. */
    stateAt(nowMs) { return T.states[this.#ops.state(this.#h, this.#at(nowMs))]; }
    /** 'healthy' or 'unhealthy', by the core's rule (half-open is not healthy). */
    get health() { return T.health[this.#ops.health(this.#h, this.#t())]; }
    /** The config the breaker runs with: the core's defaults or preset, and your options. */
    get config() { return this.#ops.config(this.#h); }
    /** Counters and window figures; takes no permit, changes nothing. */
    snapshot(nowMs) { return this.#ops.snapshot(this.#h, this.#at(nowMs), false); }
    /** The snapshot, the health and the name, in one call. */
    stats(nowMs) { return Object.assign(this.#ops.snapshot(this.#h, this.#at(nowMs), true), { name: this.#opts.name }); }
    /** The Prometheus text exposition of this breaker (labelled with its name, or ''). */
    prometheusText(nowMs) { return this.#ops.prometheusText(this.#h, this.#opts.name ?? '', this.#at(nowMs)); }

    /** Asks to make one call: a {@link Permit}, or `undefined` when the circuit rejects. */
    tryAcquire(nowMs) {
      const now = this.#at(nowMs);
      const r = this.#ops.begin(this.#h, now, this.#listeners?.sink === true);
      if (r >= 0 && r < TIMED) return new Permit(this, r, NaN, false);
      const bits = this.#begun(r, now);
      return bits === undefined ? undefined : new Permit(this, bits, this.#started(r), flags(r) >= 4);
    }

    /** Settles a permit by name: 'success' | 'failure' | 'ignored' | 'timeout' | 'cancelled'. */
    record(permit, outcome, opts) {
      if (permit === null || typeof permit !== 'object' || !Permit._of(permit, this)) {
        throw argumentError(TypeError, 'record() needs a permit from this breaker\'s tryAcquire()');
      }
      const end = E[outcome];
      if (end === undefined || typeof outcome !== 'string') throw argumentError(TypeError, `outcome must be one of ${T.ends.map((n) => `'${n}'`).join(', ')}, got ${show(outcome)}`);
      return settle(permit, end, opts);
    }

    /** Runs `fn(...args)` through the breaker (see index.d.ts). Never throws: it rejects. */
    call(fn, ...args) { return this.#call(fn, undefined, args, undefined); }

    /** `call` with a per-call `timeoutMs` and/or `signal`; `fn` gets `{ signal }`. */
    callWith(opts, fn) {
      let per;
      try {
        if (opts === undefined) throw argumentError(TypeError, 'callWith() needs an options object');
        const o = keys(opts, ['timeoutMs', 'signal'], 'callWith()');
        const signal = o.signal;
        if (signal !== undefined && !(signal && typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function')) {
          throw argumentError(TypeError, `signal must be an AbortSignal, got ${show(signal)}`);
        }
        per = { timeoutMs: timeout(o.timeoutMs, 0, (K, m) => argumentError(K, m)) ?? this.#opts.timeoutMs, signal };
      } catch (e) {
        return Promise.reject(e);
      }
      return this.#call(fn, undefined, undefined, per);
    }

    /** A function that runs `fn` through the breaker (`this` and arguments passed on). */
    wrap(fn) {
      if (typeof fn !== 'function') throw argumentError(TypeError, `wrap() needs a function, got ${show(fn)}`);
      const breaker = this;
      return function wrapped(...args) { return breaker.#call(fn, this, args, undefined); };
    }

    /** Rejects every call until `reset`, `forceClosed`, `metricsOnly` or `halfOpen`. */
    forceOpen(nowMs) { return this.#manual(MANUAL.forceOpen, nowMs); }
    /** Admits every call and never trips (state `disabled`). */
    forceClosed(nowMs) { return this.#manual(MANUAL.forceClosed, nowMs); }
    /** Admits every call, keeps the window and metrics, never trips. */
    metricsOnly(nowMs) { return this.#manual(MANUAL.metricsOnly, nowMs); }
    /** Back to `closed` with an empty window and the backoff reset. */
    reset(nowMs) { return this.#manual(MANUAL.reset, nowMs); }
    /** Opens as an automatic trip would: a real deadline, then half-open by itself. */
    trip(nowMs) { return this.#manual(MANUAL.trip, nowMs); }
    /** Half-open now: probes are admitted as after an open deadline. */
    halfOpen(nowMs) { return this.#manual(MANUAL.halfOpen, nowMs); }

    /** Adds a listener for 'statechange' | 'reject' | 'success' | 'failure' | 'error'. */
    on(type, listener) {
      if (!EVENTS.includes(type)) throw argumentError(TypeError, `unknown event ${show(type)}; one of ${EVENTS.join(', ')}`);
      if (typeof listener !== 'function' && typeof listener?.handleEvent !== 'function') {
        throw argumentError(TypeError, 'a listener must be a function or have handleEvent()');
      }
      const L = (this.#listeners ??= { statechange: [], reject: [], success: [], failure: [], error: [], sink: false });
      if (!L[type].includes(listener)) L[type].push(listener);
      // A success or failure listener is a duration sink: the core then times every call.
      L.sink = L.success.length + L.failure.length > 0;
      return this;
    }

    /** Removes a listener added with `on` or `addEventListener`. */
    off(type, listener) {
      const L = this.#listeners;
      const i = L?.[type]?.indexOf(listener) ?? -1;
      if (i >= 0) L[type].splice(i, 1);
      if (L !== null) L.sink = L.success.length + L.failure.length > 0;
      return this;
    }

    /** EventTarget-style alias of `on`. */
    addEventListener(type, listener) { this.on(type, listener); }
    /** EventTarget-style alias of `off`. */
    removeEventListener(type, listener) { this.off(type, listener); }

    /** Frees the WebAssembly memory now (otherwise the garbage collector does). Later calls
     * throw (or reject) with code 'ERR_CB_FREED'. */
    free() {
      if (this.#ops === FREED) return;
      raw.breakerFree(this.#h); // the registry's later free of this handle finds nothing
      this.#ops = FREED;
    }

    [INSPECT](depth, options, inspect) {
      let shown;
      try {
        const s = this.stats();
        shown = { name: s.name, state: s.state, health: s.health, calls: s.calls, failures: s.failures, rejected: s.rejected, retryAfterMs: s.retryAfterMs };
      } catch (e) {
        shown = { error: e.code ?? e.message };
      }
      return `CircuitBreaker ${typeof inspect === 'function' ? inspect(shown, options) : JSON.stringify(shown)}`;
    }

    static {
      finishPermit = (b, bits, started, settled, end, durationMs, gc, nowMs) => {
        const ops = b.#ops;
        let now;
        try {
          now = nowMs === undefined ? b.#t() : time(nowMs, 'nowMs');
        } catch (e) {
          if (!gc) throw e; // collected: settle anyway, on the core's clock
          now = NaN;
        }
        // durationMs: undefined, the core's timing; null, none reported; a number, the caller's.
        const status = typeof durationMs !== 'number' ? ops.finish(b.#h, bits, durationMs === null ? NaN : started, settled, end, now)
          : ops.finishMeasured(b.#h, bits, settled, end, durationMs, now);
        if (status === SETTLED) throw new PermitSettledError(T.permitSettled.message);
        const d = ops.lastDuration(b.#h);
        return { outcome: T.outcomes[status >> 1], durationMs: d < 0 ? null : d, transition: b.#ended(status, end, undefined, now) };
      };
      handleOf = (b) => (b.#ops === FREED ? FREED.handle() : b.#h);
    }

    // ---- internals -------------------------------------------------------------------------

    /** The time for an operation: NaN (the core reads performance.now() if it needs it) or
     * the `now` option's value, checked. */
    #t() {
      return this.#now === undefined ? NaN : time(this.#now(), 'the now option', 'ERR_CB_INVALID_CONFIG');
    }

    #at(nowMs) { return nowMs === undefined ? this.#t() : time(nowMs, 'nowMs'); }

    /** A timed call's start (the core's), from begin()'s result. */
    #started(r) { return (flags(r) & 1) !== 0 ? this.#ops.startedAt(this.#h) : NaN; }

    /** begin()'s rare results: a transition or a timed start (the permit's bits back), or a
     * rejection (undefined; the 'reject' event fired). */
    #begun(r, now) {
      if (r < 0) {
        this.#rejection(r, now, false);
        return undefined;
      }
      if ((flags(r) & 2) !== 0) this.#transition(this.#ops.takeTransition(this.#h));
      return r >>> 0;
    }

    /** A rejection: the 'reject' event, and the error a call rejects with. */
    #rejection(r, now, wantError) {
      const x = -r - 1;
      const reason = T.reasons[x % 4];
      const after = Math.floor(x / 4) - 1;
      const retryAfterMs = after < 0 ? null : after;
      if (this.#listeners !== null) this.#emit('reject', { type: 'reject', reason, retryAfterMs, at: Number.isNaN(now) ? defaultClock() : now });
      if (!wantError) return undefined;
      const name = this.#opts.name;
      return new CircuitOpenError(`${name === undefined ? '' : `breaker '${name}': `}${raw.rejectionMessage(x % 4, after)}`, reason, retryAfterMs);
    }

    /** After a finish: the outcome's event (with the duration the core reported), and the
     * transition, if any (returned). */
    #ended(status, end, error, now) {
      const L = this.#listeners;
      const outcome = status >> 1; // 0 success, 1 failure, 2 ignored: no event
      if (L !== null && outcome < 2) {
        const d = this.#ops.lastDuration(this.#h);
        const event = { type: T.outcomes[outcome], durationMs: d < 0 ? undefined : d, at: Number.isNaN(now) ? defaultClock() : now };
        if (outcome === 1) Object.assign(event, { error, timedOut: end === E.timeout });
        this.#emit(event.type, event);
      }
      return (status & 1) === 0 ? undefined : this.#transition(this.#ops.takeTransition(this.#h));
    }

    #transition(t) {
      if (this.#listeners !== null) this.#emit('statechange', { type: 'statechange', ...t });
      return t;
    }

    #manual(op, nowMs) { return this.#transition(this.#ops.manual(this.#h, op, this.#at(nowMs))); }

    #emit(type, event) {
      for (const l of this.#listeners[type].slice()) {
        try {
          if (typeof l === 'function') l.call(this, event);
          else l.handleEvent(event);
        } catch (err) {
          this.#report(err, type);
        }
      }
    }

    /** A listener or predicate threw: never into the caller or the process. The 'error'
     * event if anyone listens (not for an 'error' listener's own throw), else console.error. */
    #report(error, source) {
      if (source !== 'error' && this.#listeners?.error.length > 0) {
        this.#emit('error', { type: 'error', error, source });
      } else {
        console.error(`cbreaker: ${source === 'isFailure' || source === 'exclude' ? `the ${source} option` : `a listener of '${source}'`} threw (the breaker went on):`, error);
      }
    }

    /** A rejected call's End: the caller's own abort is cancelled; then exclude (ignored),
     * isFailure false (success); then endOf. A predicate that throws is reported and the call
     * counts as a failure (it did throw; only the excuse failed). */
    #classify(err, signal) {
      if (signal?.aborted && err === signal.reason) return E.cancelled;
      const { exclude, isFailure } = this.#opts;
      let source;
      try {
        source = 'exclude';
        if (exclude !== undefined && exclude(err)) return E.ignored;
        source = 'isFailure';
        if (isFailure !== undefined && !isFailure(err)) return E.success;
      } catch (predicateError) {
        this.#report(predicateError, source);
        return E.failure;
      }
      return endOf(err, E);
    }

    /** Settles a call of call()/callWith()/wrap() and hands on its value or error (or the
     * fallback's). A clock that throws now: settled as cancelled, and the call rejects with it. */
    #finish(bits, started, end, ok, result) {
      let now;
      try {
        now = this.#t();
      } catch (clockError) {
        this.#ended(this.#ops.finish(this.#h, bits, started, false, E.cancelled, NaN), E.cancelled, undefined, NaN);
        throw clockError;
      }
      const status = this.#ops.finish(this.#h, bits, started, false, end, now);
      if ((status & 1) !== 0 || this.#listeners !== null) this.#ended(status, end, ok ? undefined : result, now);
      return ok ? result : this.#fallback(result);
    }

    #fallback(error) {
      const fallback = this.#opts.fallback;
      if (fallback === undefined) throw error;
      return fallback(error);
    }

    /** call(), callWith() and wrap(). The fast path (closed, untimed, no timeout) is a plain
     * `.then` on fn's promise: measurably cheaper than an async function here. */
    #call(fn, thisArg, args, per) {
      let r;
      let now;
      try {
        if (typeof fn !== 'function') throw argumentError(TypeError, `call() needs a function, got ${show(fn)}`);
        if (per?.signal?.aborted) throw per.signal.reason;
        now = this.#t();
        r = this.#ops.begin(this.#h, now, this.#listeners?.sink === true);
      } catch (e) {
        return Promise.reject(e);
      }
      if (r >= 0 && r < TIMED && per === undefined && this.#opts.timeoutMs === undefined) {
        let value;
        try {
          value = args.length === 0 ? fn.call(thisArg) : fn.apply(thisArg, args);
        } catch (err) {
          return this.#failed(r, NaN, err, undefined);
        }
        return Promise.resolve(value).then((v) => this.#finish(r, NaN, E.success, true, v),
          (err) => this.#failed(r, NaN, err, undefined));
      }
      if (r < 0) {
        try {
          return Promise.resolve(this.#fallback(this.#rejection(r, now, true)));
        } catch (e) {
          return Promise.reject(e);
        }
      }
      const bits = this.#begun(r, now);
      const started = this.#started(r);
      return this.#guarded(fn, thisArg, args, per ?? this.#opts).then((v) => this.#finish(bits, started, E.success, true, v),
        (err) => this.#failed(bits, started, err, per?.signal));
    }

    /** fn threw or rejected: settled by how it ended, then its error (or the fallback's value)
     * is handed on; an error counted as a success still rejects the call. */
    #failed(bits, started, err, signal) {
      try {
        const end = err?.[OWN_TIMEOUT] === true ? E.timeout : this.#classify(err, signal);
        return Promise.resolve(this.#finish(bits, started, end, false, err));
      } catch (e) {
        return Promise.reject(e);
      }
    }

    /** fn's promise, raced against the timeout and the caller's signal. */
    #guarded(fn, thisArg, args, { timeoutMs, signal }) {
      if (timeoutMs === undefined && signal === undefined) {
        return new Promise((resolve) => { resolve(fn.apply(thisArg, args)); });
      }
      const ctl = new AbortController();
      let timer;
      let onAbort;
      const stop = new Promise((_, reject) => {
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            const e = new DOMException(`call timed out after ${timeoutMs} ms`, 'TimeoutError');
            Object.defineProperty(e, OWN_TIMEOUT, { value: true });
            ctl.abort(e);
            reject(e);
          }, timeoutMs);
        }
        if (signal !== undefined) {
          onAbort = () => {
            ctl.abort(signal.reason);
            reject(signal.reason);
          };
          signal.addEventListener('abort', onAbort, { once: true });
        }
      });
      const work = new Promise((resolve) => { resolve(args === undefined ? fn({ signal: ctl.signal }) : fn.apply(thisArg, args)); });
      return Promise.race([work, stop]).finally(() => {
        clearTimeout(timer);
        if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
      });
    }
  }

  /** The Prometheus text of several breakers: `{ name: breaker }`, a Map, or an iterable of
   * breakers (each labelled with its `name`). The same bytes as Rust's and Python's. */
  function prometheusText(breakers) {
    load();
    const entries = breakers instanceof Map ? [...breakers]
      : typeof breakers?.[Symbol.iterator] === 'function' ? [...breakers].map((b) => [b?.name ?? '', b])
        : Object.entries(breakers ?? {});
    const x = new raw.Exposition();
    try {
      for (const [name, b] of entries) {
        if (!(b instanceof CircuitBreaker)) throw argumentError(TypeError, `prometheusText() takes breakers, got ${show(b)} for ${show(name)}`);
        x.add(String(name), handleOf(b), NaN);
      }
      return x.text();
    } finally {
      x.free();
    }
  }

  return { CircuitBreaker, Permit, PRESETS, prometheusText, load };
}

// Marks the TimeoutError of a call's own timeoutMs (not one from fn's own AbortSignal.timeout).
const OWN_TIMEOUT = Symbol('cbreaker.timeout');
