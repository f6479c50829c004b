// The JS layer of the npm package `cbreaker`. Every rule is the core's, reached through the raw
// class (bindings-wasm/src/lib.rs): the call protocol (begin/finish), whether a call is timed,
// settle-once, defaults and presets, rejection reasons and advice, health, the Prometheus text.
// This file only maps JS results and errors to an End, reads the clock, checks JS types and
// fires events. The public API is documented once, in index.d.ts; comments here say why.
// Written once as ESM; the build writes a CommonJS copy (layer.cjs) from it.

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
    Object.assign(this, { name: 'CircuitOpenError', code: 'ERR_CIRCUIT_OPEN', reason, retryAfterMs });
  }
}

/** A permit was settled a second time (a permit is settled exactly once). */
export class PermitSettledError extends Error {
  constructor(message) {
    super(message);
    Object.assign(this, { name: 'PermitSettledError', code: 'ERR_CB_PERMIT_SETTLED' });
  }
}

/** The value as the caller gave it, for messages: "20" for a string, 5n for a bigint. */
function show(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function' || (v !== null && typeof v === 'object')) return Array.isArray(v) ? 'an array' : `a${typeof v === 'object' ? 'n' : ''} ${typeof v}`;
  return String(v);
}

const coded = (Kind, code, message, option) => Object.assign(new Kind(message), option === undefined ? { code } : { code, option });
const configError = (Kind, option, message) => coded(Kind, 'ERR_CB_INVALID_CONFIG', `invalid config: ${message}`, option);
const argumentError = (Kind, message) => coded(Kind, 'ERR_CB_INVALID_ARGUMENT', message);

/** A time in ms: a number, >= 0 and finite. `what` names it in the error. */
function time(t, what, code = 'ERR_CB_INVALID_ARGUMENT') {
  if (typeof t === 'number' && t >= 0 && t < Infinity) return t;
  throw coded(typeof t === 'number' ? RangeError : TypeError, code, `${what} must be a finite number of milliseconds >= 0, got ${show(t)}`);
}

/** begin()'s flags over the permit's bits: 1 timed, 2 caused a transition, 4 a probe. */
const flags = (r) => (r - (r >>> 0)) / TIMED;

/** The `naming` option of the Prometheus text: undefined (cbreaker's names) or a string the
 * core checks. */
function naming(o) {
  const n = o.naming;
  if (n !== undefined && typeof n !== 'string') throw argumentError(TypeError, `naming must be a string ('cbreaker' or 'resilience4j'), got ${show(n)}`);
  return n;
}

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
function timeout(v, make) {
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw make(TypeError, `timeoutMs must be a number, got ${show(v)}`);
  if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw make(RangeError, `timeoutMs must be an integer from 1 to 2147483647 (ms), got ${show(v)}`);
  return v;
}

/** One config field for the raw constructor: JS types and integer widths here (a value too
 * large for the core's field would wrap), ranges in the core. */
function field(o, key) {
  const v = o[key];
  if (v === undefined) return undefined;
  const seed = key === 'jitterSeed';
  if (typeof v !== 'number' && !(seed && typeof v === 'bigint')) throw configError(TypeError, key, `${key} must be a ${seed ? 'bigint or a ' : ''}number, got ${show(v)}`);
  if (key === 'openDurationMultiplier') return v; // the core checks its range (NaN included)
  // minimumCalls: the one u32 field no ConfigError names (NB: the core takes any value).
  const max = seed ? 2n ** 64n - 1n : key === 'minimumCalls' ? 2 ** 32 - 1 : Infinity;
  if ((typeof v === 'number' && !Number.isInteger(v)) || v < 0 || v > max) {
    throw configError(RangeError, key, `${key} must be an integer ${max === Infinity ? '>= 0' : `from 0 to ${max}`}, got ${show(v)}`);
  }
  return seed ? BigInt(v) : v;
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

/**
 * Builds the public API over the raw wasm-bindgen module `raw` (Node or web build). Nothing
 * here touches the module until `load()` or the first breaker, so a web build can be
 * initialised (`initSync`) after import. `dc`: the `node:diagnostics_channel` module where the
 * runtime has one (every transition is published on TRANSITION_CHANNEL), else undefined.
 */
export function bind(raw, dc) {
  let otel; // the core's OpenTelemetry tables, read by the first instrument()
  let channel; // the transition channel, or undefined (no diagnostics_channel here)
  try { channel = dc?.channel(TRANSITION_CHANNEL); } catch { /* a runtime without channels */ }
  let T; // the core's name tables, from load()
  const E = {}; // End name -> discriminant
  const PRESETS = [];
  let finishPermit; // settles a permit's call on its breaker; set in CircuitBreaker's static block
  let settle; // (permit, End, options): set in Permit's static block
  let handleOf;

  function load() {
    if (T !== undefined) return;
    try { T = raw.tables(); } catch { throw new Error('cbreaker: the WebAssembly module is not initialised; call initSync({ module }) or await init() first'); }
    T.ends.forEach((name, i) => { E[name] = i; });
    PRESETS.push(...T.presets);
    Object.freeze(PRESETS);
  }

  // A breaker collected without free(): its WebAssembly memory is freed by handle.
  const breakers = typeof FinalizationRegistry === 'undefined' ? null : new FinalizationRegistry((h) => raw.breakerFree(h));
  const FREED = new Proxy({}, {
    get: () => () => { throw coded(Error, 'ERR_CB_FREED', 'this CircuitBreaker was freed (free()); make a new one'); },
  });
  // A probe permit (half-open) collected unsettled is settled as cancelled (ignored), freeing its
  // slot before the core's reclaim. Only probes: registering costs ~250 ns a permit (3x call()).
  const collected = typeof FinalizationRegistry === 'undefined' ? null : new FinalizationRegistry(([b, bits, started]) => {
    try { finishPermit(b, bits, started, false, E.cancelled, undefined, true); } catch { /* its breaker was freed */ }
  });

  class Permit {
    #b; // the core's Call, kept in JS: breaker, permit bits, start of a timed call (or NaN)
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
    success(opts) { return this.#settle(E.success, opts); }
    failure(opts) { return this.#settle(E.failure, opts); }
    ignore(opts) { return this.#settle(E.ignored, opts); }
    get settled() { return this.#settled; }
    get timed() { return this.#started >= 0; }
    #settle(end, opts) {
      const o = keys(opts, ['durationMs', 'nowMs'], 'settling a permit');
      const d = o.durationMs === undefined || o.durationMs === null ? o.durationMs : time(o.durationMs, 'durationMs');
      const done = finishPermit(this.#b, this.#bits, this.#started, this.#settled, end, d, false, o.nowMs);
      this.#settled = true;
      if (this.#probe) collected?.unregister(this);
      return done;
    }
    static {
      settle = (p, b, end, opts) => {
        if (!(typeof p === 'object' && p !== null && #b in p && p.#b === b)) throw argumentError(TypeError, 'record() needs a permit from this breaker\'s tryAcquire()');
        return p.#settle(end, opts);
      };
    }
  }

  class CircuitBreaker {
    #h; // the handle of the breaker in WebAssembly memory
    #ops = raw; // the raw module's functions, or FREED after free()
    #now; // the `now` option, or undefined: NaN is passed and the core reads performance.now() if it must
    #opts; // the JS-only options (name, predicates, timeoutMs, fallback), or NO_OPTIONS
    #listeners = null;

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
        timeoutMs: timeout(o.timeoutMs, (K, m) => configError(K, 'timeoutMs', m)),
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

    get name() { return this.#opts.name; }
    get state() { return T.states[this.#ops.state(this.#h, this.#t())]; }
    get health() { return T.health[this.#ops.health(this.#h, this.#t())]; }
    get config() { return this.#ops.config(this.#h); }
    snapshot(nowMs) { return this.#ops.snapshot(this.#h, this.#at(nowMs), false); }
    stats(nowMs) { return Object.assign(this.#ops.snapshot(this.#h, this.#at(nowMs), true), { name: this.#opts.name }); }
    prometheusText(nowMs, opts) {
      const o = keys(opts, ['naming'], 'prometheusText()');
      return this.#ops.prometheusText(this.#h, this.#opts.name ?? '', this.#at(nowMs), naming(o));
    }

    tryAcquire(nowMs) {
      const r = this.#ops.begin(this.#h, this.#at(nowMs), this.#listeners?.sink === true);
      if (r >= 0 && r < TIMED) return new Permit(this, r, NaN, false);
      const bits = this.#begun(r);
      return bits === undefined ? undefined : new Permit(this, bits, this.#started(r), (flags(r) & 4) !== 0);
    }

    record(permit, outcome, opts) {
      const end = typeof outcome === 'string' ? E[outcome] : undefined;
      if (end === undefined) throw argumentError(TypeError, `outcome must be one of ${T.ends.map((n) => `'${n}'`).join(', ')}, got ${show(outcome)}`);
      return settle(permit, this, end, opts);
    }

    call(fn, ...args) { return this.#call(fn, undefined, args, undefined); }

    callWith(opts, fn) {
      let per;
      try {
        if (opts === undefined) throw argumentError(TypeError, 'callWith() needs an options object');
        const o = keys(opts, ['timeoutMs', 'signal'], 'callWith()');
        const signal = o.signal;
        if (signal !== undefined && !(signal instanceof AbortSignal)) throw argumentError(TypeError, `signal must be an AbortSignal, got ${show(signal)}`);
        per = { timeoutMs: timeout(o.timeoutMs, argumentError) ?? this.#opts.timeoutMs, signal };
      } catch (e) {
        return Promise.reject(e);
      }
      return this.#call(fn, undefined, undefined, per);
    }

    wrap(fn) {
      if (typeof fn !== 'function') throw argumentError(TypeError, `wrap() needs a function, got ${show(fn)}`);
      const breaker = this;
      return function wrapped(...args) { return breaker.#call(fn, this, args, undefined); };
    }

    // The manual moves (forceOpen, forceClosed, metricsOnly, reset, trip, halfOpen): one core
    // call each, returning its transition (and firing statechange).
    static {
      for (const [name, op] of Object.entries(MANUAL)) {
        const move = { [name](nowMs) { return this.#transition(this.#ops.manual(this.#h, op, this.#at(nowMs))); } }[name];
        Object.defineProperty(this.prototype, name, { value: move, writable: true, configurable: true });
      }
    }

    on(type, listener) {
      if (!EVENTS.includes(type)) throw argumentError(TypeError, `unknown event ${show(type)}; one of ${EVENTS.join(', ')}`);
      if (typeof listener !== 'function' && typeof listener?.handleEvent !== 'function') throw argumentError(TypeError, 'a listener must be a function or have handleEvent()');
      const L = (this.#listeners ??= { statechange: [], reject: [], success: [], failure: [], error: [], sink: false });
      if (!L[type].includes(listener)) L[type].push(listener);
      // A success or failure listener is a duration sink: the core then times every call.
      L.sink = L.success.length + L.failure.length > 0;
      return this;
    }

    off(type, listener) {
      const L = this.#listeners;
      const i = L?.[type]?.indexOf(listener) ?? -1;
      if (i >= 0) L[type].splice(i, 1);
      if (L !== null) L.sink = L.success.length + L.failure.length > 0;
      return this;
    }

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
        const { name, state, health, calls, failures, rejected, retryAfterMs } = this.stats();
        shown = { name, state, health, calls, failures, rejected, retryAfterMs };
      } catch (e) {
        shown = { error: e.code ?? e.message };
      }
      return `CircuitBreaker ${inspect(shown, options)}`;
    }

    static {
      finishPermit = (b, bits, started, settled, end, durationMs, gc, nowMs) => {
        const ops = b.#ops;
        let now = NaN; // a collected permit is settled even if the clock fails: on the core's
        try { now = nowMs === undefined ? b.#t() : time(nowMs, 'nowMs'); } catch (e) { if (!gc) throw e; }
        // durationMs: undefined, the core's timing; null, none reported; a number, the caller's.
        const status = typeof durationMs !== 'number' ? ops.finish(b.#h, bits, durationMs === null ? NaN : started, settled, end, now)
          : ops.finishMeasured(b.#h, bits, settled, end, durationMs, now);
        if (status === SETTLED) throw new PermitSettledError(T.permitSettled.message);
        // A call with no start and no measurement is untimed: the core reports no duration.
        const d = started >= 0 || typeof durationMs === 'number' ? ops.lastDuration(b.#h) : -1;
        return { outcome: T.outcomes[status >> 1], durationMs: d < 0 ? null : d, transition: b.#ended(status, end, undefined) };
      };
      // A breaker's handle and its time now, for a snapshot taken elsewhere.
      handleOf = (b) => (b.#ops === FREED ? FREED.handle() : [b.#h, b.#t()]);
    }

    // ---- internals -------------------------------------------------------------------------

    // The time for an operation: NaN (the core reads performance.now() if it needs it) or the
    // `now` option's value, checked.
    #t() { return this.#now === undefined ? NaN : time(this.#now(), 'the now option', 'ERR_CB_INVALID_CONFIG'); }

    #at(nowMs) { return nowMs === undefined ? this.#t() : time(nowMs, 'nowMs'); }

    /** A timed call's start (the core's), from begin()'s result. */
    #started(r) { return (flags(r) & 1) !== 0 ? this.#ops.startedAt(this.#h) : NaN; }

    /** begin()'s rare results: a transition or a timed start (the permit's bits back), or a
     * rejection (undefined; the 'reject' event fired). */
    #begun(r) {
      if (r < 0) return void this.#rejection(r);
      if ((flags(r) & 2) !== 0) this.#transition(this.#ops.takeTransition(this.#h));
      return r >>> 0;
    }

    /** A rejection: the 'reject' event; returns the error a call rejects with. */
    #rejection(r) {
      const x = -r - 1;
      const reason = T.reasons[x % 4];
      const after = Math.floor(x / 4) - 1;
      const retryAfterMs = after < 0 ? null : after;
      if (this.#listeners !== null) this.#emit('reject', { type: 'reject', reason, retryAfterMs });
      const name = this.#opts.name;
      return new CircuitOpenError(`${name === undefined ? '' : `breaker '${name}': `}${raw.rejectionMessage(x % 4, after)}`, reason, retryAfterMs);
    }

    /** After a finish: the outcome's event (with the duration the core reported), and the
     * transition, if any (returned). */
    #ended(status, end, error) {
      const L = this.#listeners;
      const outcome = status >> 1; // 0 success, 1 failure, 2 ignored: no event
      // Only for listeners of this outcome: a 'statechange' listener alone (instrument()'s)
      // must not cost every call an event object.
      if (L !== null && outcome < 2 && L[T.outcomes[outcome]].length > 0) {
        const d = this.#ops.lastDuration(this.#h);
        const event = { type: T.outcomes[outcome], durationMs: d < 0 ? undefined : d };
        if (outcome === 1) Object.assign(event, { error, timedOut: end === E.timeout });
        this.#emit(event.type, event);
      }
      return (status & 1) === 0 ? undefined : this.#transition(this.#ops.takeTransition(this.#h));
    }

    // Every transition passes here once (the core returns each exactly once): the
    // 'statechange' event and the diagnostics channel (free while nobody subscribes; publish
    // never throws: Node reports a subscriber's throw as uncaught, its rule for every channel).
    #transition(t) {
      if (this.#listeners !== null) this.#emit('statechange', { type: 'statechange', ...t });
      if (channel?.hasSubscribers) channel.publish({ breaker: this, name: this.#opts.name, ...t });
      return t;
    }

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
        this.#ended(this.#ops.finish(this.#h, bits, started, false, E.cancelled, NaN), E.cancelled, undefined);
        throw clockError;
      }
      const status = this.#ops.finish(this.#h, bits, started, false, end, now);
      if ((status & 1) !== 0 || this.#listeners !== null) this.#ended(status, end, ok ? undefined : result);
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
      try {
        if (typeof fn !== 'function') throw argumentError(TypeError, `call() needs a function, got ${show(fn)}`);
        if (per?.signal?.aborted) throw per.signal.reason;
        r = this.#ops.begin(this.#h, this.#t(), this.#listeners?.sink === true);
      } catch (e) {
        return Promise.reject(e);
      }
      if (r >= 0 && r < TIMED && per === undefined && this.#opts.timeoutMs === undefined) {
        let value;
        try {
          value = args.length === 0 ? fn.call(thisArg) : fn.apply(thisArg, args);
        } catch (err) {
          value = Promise.reject(err);
        }
        return Promise.resolve(value).then((v) => this.#finish(r, NaN, E.success, true, v),
          (err) => this.#finish(r, NaN, this.#classify(err, undefined), false, err));
      }
      if (r < 0) return Promise.reject(this.#rejection(r)).catch((e) => this.#fallback(e));
      const bits = this.#begun(r);
      const started = this.#started(r);
      // fn threw or rejected: settled by how it ended; its error (or the fallback's value) is
      // handed on, and an error counted as a success still rejects the call.
      return this.#guarded(fn, thisArg, args, per ?? this.#opts).then((v) => this.#finish(bits, started, E.success, true, v),
        (err) => this.#finish(bits, started, err?.[OWN_TIMEOUT] === true ? E.timeout : this.#classify(err, per?.signal), false, err));
    }

    /** fn's promise, raced against the timeout and the caller's signal. */
    #guarded(fn, thisArg, args, { timeoutMs, signal }) {
      if (timeoutMs === undefined && signal === undefined && args !== undefined) {
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

  /** `[name, breaker]` pairs of `{ name: breaker }`, a Map, or an iterable of breakers (each
   * under its `name`), read now; `where` names the caller in the error for a non-breaker. */
  function entriesOf(breakers, where) {
    const entries = breakers instanceof Map ? [...breakers]
      : typeof breakers?.[Symbol.iterator] === 'function' ? [...breakers].map((b) => [b?.name ?? '', b])
        : Object.entries(breakers ?? {});
    for (const [name, b] of entries) {
      if (!(b instanceof CircuitBreaker)) throw argumentError(TypeError, `${where} takes breakers, got ${show(b)} for ${show(name)}`);
    }
    return entries;
  }

  /** The Prometheus text of several breakers: `{ name: breaker }`, a Map, or an iterable of
   * breakers (each labelled with its `name`). The same bytes as Rust's and Python's.
   * `{ naming: 'resilience4j' }`: resilience4j's Micrometer names (the core's mapping). */
  function prometheusText(breakers, opts) {
    load();
    const o = keys(opts, ['naming'], 'prometheusText()');
    const entries = entriesOf(breakers, 'prometheusText()');
    const x = new raw.Exposition();
    try {
      for (const [name, b] of entries) x.add(String(name), ...handleOf(b));
      return x.text(naming(o));
    } finally {
      x.free();
    }
  }

  /**
   * Registers the core's OpenTelemetry instruments (`otelTables()`: meter, names, kinds, units,
   * descriptions, attribute keys) for `breakers` (as prometheusText takes them; a Map or object
   * is read anew at each collection) on `options.meterProvider`. The observable instruments
   * read one snapshot per breaker per collection (`otelPoints`); the transition counter is fed
   * by each breaker's transitions. The duration histogram is fed by each call's end only with
   * `durations: true`: timing every call is not free (docs/benchmarks.md), and registering the
   * instruments alone leaves the call path as it was. Returns `{ close() }`.
   */
  function instrument(breakers, opts) {
    load();
    const o = keys(opts, ['meterProvider', 'durations'], 'instrument()');
    const provider = o.meterProvider;
    if (o.durations !== undefined && typeof o.durations !== 'boolean') {
      throw argumentError(TypeError, `instrument() option durations must be a boolean, got ${show(o.durations)}`);
    }
    const timed = o.durations === true;
    if (typeof provider?.getMeter !== 'function') {
      throw argumentError(TypeError, `instrument() needs { meterProvider }: an OpenTelemetry MeterProvider (metrics.getMeterProvider() of @opentelemetry/api), got ${show(provider)}`);
    }
    const live = breakers instanceof Map || (typeof breakers?.[Symbol.iterator] !== 'function' && breakers !== null && typeof breakers === 'object');
    const fixed = live ? undefined : entriesOf(breakers, 'instrument()');
    if (live) entriesOf(breakers, 'instrument()');
    const O = (otel ??= raw.otelTables());
    const meter = provider.getMeter(O.meterName);
    const observables = []; // by instrument index; undefined for those fed by events
    let stateChanges;
    let duration;
    O.instruments.forEach(({ name, kind, unit, description }, i) => {
      const options = { unit, description };
      if (kind === 'observable counter') observables[i] = meter.createObservableCounter(name, options);
      else if (kind === 'observable gauge') observables[i] = meter.createObservableGauge(name, options);
      else if (kind === 'counter') stateChanges = meter.createCounter(name, options);
      else if (kind === 'histogram') duration = meter.createHistogram(name, { ...options, advice: { explicitBucketBoundaries: O.durationBuckets } });
      else throw new Error(`cbreaker: instrument kind '${kind}' of ${name} is not mapped (a newer core?)`);
    });
    const attached = new Map(); // breaker -> its [statechange, success/failure] listeners
    const attach = (name, b) => {
      if (attached.has(b)) return;
      const [prev, to, cause] = O.transitionKeys;
      const onChange = (e) => stateChanges?.add(1, { [O.attrName]: name, [prev]: e.from, [to]: e.to, [cause]: e.cause });
      const onEnd = (e) => { if (e.durationMs !== undefined) duration?.record(e.durationMs / 1000, { [O.attrName]: name }); };
      b.on('statechange', onChange);
      if (timed) b.on('success', onEnd).on('failure', onEnd);
      attached.set(b, [onChange, onEnd]);
    };
    const breakersNow = () => {
      if (!live) return fixed;
      try { return entriesOf(breakers, 'instrument()'); } catch { return []; }
    };
    for (const [name, b] of breakersNow()) attach(String(name), b);
    const list = observables.filter((x) => x !== undefined);
    const observe = (result) => {
      for (const [key, b] of breakersNow()) {
        const name = String(key);
        attach(name, b);
        let points;
        try { points = raw.otelPoints(...handleOf(b)); } catch { continue; } // freed, or its clock threw
        if (points === undefined) continue;
        points.forEach((flat, i) => {
          const instrument = observables[i];
          if (instrument === undefined) return;
          for (let j = 0; j < flat.length; j += 3) {
            result.observe(instrument, flat[j + 2], flat[j] === null ? { [O.attrName]: name } : { [O.attrName]: name, [flat[j]]: flat[j + 1] });
          }
        });
      }
    };
    meter.addBatchObservableCallback(observe, list);
    let closed = false;
    return {
      close() {
        if (closed) return;
        closed = true;
        meter.removeBatchObservableCallback(observe, list);
        for (const [b, [onChange, onEnd]] of attached) {
          b.off('statechange', onChange);
          if (timed) b.off('success', onEnd).off('failure', onEnd);
        }
        attached.clear();
      },
    };
  }

  // handleOf: for the fleet vectors' FleetSim (conformance/fleet-sim.mjs), not exported.
  return { CircuitBreaker, Permit, PRESETS, prometheusText, instrument, load, handleOf };
}

// The diagnostics_channel on which every state change is published (Node; docs/wasm.md).
const TRANSITION_CHANNEL = 'cbreaker:transition';

// Marks the TimeoutError of a call's own timeoutMs (not one from fn's own AbortSignal.timeout).
const OWN_TIMEOUT = Symbol('cbreaker.timeout');
