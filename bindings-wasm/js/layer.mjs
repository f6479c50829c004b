// The JS layer of the npm package `cbreaker`: options, permits, call/wrap, events, errors.
// Every decision is the core's (bindings-wasm/src/lib.rs passes it through as numbers); this file
// picks the clock, shapes the API and fires events after the core has returned.
//
// Written once as ESM; the build writes a CommonJS copy (layer.cjs) from it.

const HAS_TRANSITION = 4294967296; // 2^32, see src/lib.rs
const KINDS = { count: 0, time: 1, consecutive: 2 };
const MANUAL = { forceOpen: 0, forceClosed: 1, metricsOnly: 2, reset: 3 };
const EVENTS = ['statechange', 'reject', 'success', 'failure'];
const OPTIONS = [
  'window', 'windowSize', 'windowDurationMs', 'windowBuckets', 'failureRateThreshold',
  'slowCallRateThreshold', 'slowCallDurationMs', 'consecutiveFailures', 'minimumCalls',
  'openDurationMs', 'openDurationMaxMs', 'openDurationMultiplier', 'jitterPercent', 'jitterSeed',
  'halfOpenMaxCalls', 'successThreshold', 'halfOpenMaxWaitMs', 'now', 'isFailure', 'exclude', 'name',
];

/** `call()` was refused: the circuit is open. `retryAfterMs` is `null` when forced open. */
export class CircuitOpenError extends Error {
  constructor(retryAfterMs, name) {
    super(retryAfterMs === null
      ? `circuit${name ? ` '${name}'` : ''} forced open`
      : `circuit${name ? ` '${name}'` : ''} open: retry after ${retryAfterMs} ms`);
    this.name = 'CircuitOpenError';
    this.code = 'ERR_CIRCUIT_OPEN';
    this.retryAfterMs = retryAfterMs;
  }
}

function configError(option, message) {
  const e = new RangeError(`invalid config: ${message}`);
  e.code = 'ERR_CB_INVALID_CONFIG';
  e.option = option;
  return e;
}

function argumentError(message) {
  const e = new TypeError(message);
  e.code = 'ERR_CB_INVALID_ARGUMENT';
  return e;
}

function checkTime(ms, what) {
  if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) {
    throw argumentError(`${what} must be a finite number of milliseconds >= 0, got ${String(ms)}`);
  }
  return ms;
}

function defaultClock() {
  // Read at call time, never at module init (workers forbid clock reads there).
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function optNumber(o, key, integer = true) {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || v === Infinity || (integer && !Number.isInteger(v))) {
    throw configError(key, `${key} must be a ${integer ? 'non-negative integer' : 'finite number'}, got ${String(v)}`);
  }
  return v;
}

function optFunction(o, key) {
  const v = o[key];
  if (v !== undefined && typeof v !== 'function') throw configError(key, `${key} must be a function`);
  return v;
}

function seedHalves(o) {
  const v = o.jitterSeed;
  if (v === undefined) return [0, 0];
  if ((typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) && typeof v !== 'bigint') {
    throw configError('jitterSeed', 'jitterSeed must be a non-negative safe integer or a bigint');
  }
  const b = BigInt.asUintN(64, BigInt(v));
  return [Number(b >> 32n), Number(b & 0xffffffffn)];
}

function windowKind(o) {
  const w = o.window;
  if (w !== undefined) {
    if (!Object.hasOwn(KINDS, w)) throw configError('window', "window must be 'count', 'time' or 'consecutive'");
    return w;
  }
  if (o.windowDurationMs !== undefined || o.windowBuckets !== undefined) return 'time';
  if (o.windowSize !== undefined) return 'count';
  if (o.consecutiveFailures !== undefined) return 'consecutive';
  throw configError('window', "window is required: 'count' (windowSize), 'time' (windowDurationMs, windowBuckets) or 'consecutive' (consecutiveFailures)");
}

/**
 * Builds the public API over the raw wasm-bindgen module `raw` (Node or web build).
 * Nothing here touches the module until the first breaker is made, so a web build can be
 * initialised (`initSync`) after import.
 */
export function bind(raw) {
  let STATES;
  let CAUSES;

  const transition = (packed, at) => ({
    from: STATES[(packed >>> 1) & 7],
    to: STATES[(packed >>> 4) & 7],
    at,
    generation: packed >>> 11,
    cause: CAUSES[(packed >>> 7) & 15],
  });

  /** Permission to make one call. Settle it exactly once; later calls do nothing. */
  class Permit {
    #breaker;
    #bits;
    constructor(breaker, bits) {
      this.#breaker = breaker;
      this.#bits = bits;
    }
    /** The call worked. `durationMs` marks it slow when at or above `slowCallDurationMs`. */
    success(opts) { this.#settle(0, opts); }
    /** The call failed. */
    failure(opts) { this.#settle(1, opts); }
    /** Neither (an excluded error, a cancelled or abandoned call): frees a half-open slot. */
    ignore(opts) { this.#settle(2, opts); }
    /** Whether the permit has been settled. */
    get settled() { return this.#bits < 0; }
    #settle(kind, opts) {
      const bits = this.#bits;
      if (bits < 0) return;
      this.#bits = -1;
      let durationMs = -1;
      let nowMs;
      if (opts !== undefined) {
        if (opts.durationMs !== undefined) durationMs = checkTime(opts.durationMs, 'durationMs');
        if (opts.nowMs !== undefined) nowMs = checkTime(opts.nowMs, 'nowMs');
      }
      this.#breaker._record(kind, bits, durationMs, nowMs, undefined);
    }
    static _check(p, breaker) {
      return #bits in p && p.#breaker === breaker;
    }
  }

  class CircuitBreaker {
    #raw;
    #clock; // the `now` option, or undefined for performance.now() (read lazily by the core)
    #timed; // whether call() measures durations (slow calls)
    #isFailure;
    #exclude;
    #listeners = null;
    #name;

    /** @param {object} options see index.d.ts */
    constructor(options = {}) {
      if (options === null || typeof options !== 'object') throw configError('options', 'options must be an object');
      for (const key of Object.keys(options)) {
        if (!OPTIONS.includes(key)) throw configError(key, `unknown option ${key}`);
      }
      if (STATES === undefined) {
        try {
          const names = (f) => {
            const out = [];
            for (let i = 0; i < 64; i++) {
              const n = f(i);
              if (n === undefined) break;
              out.push(n);
            }
            return out;
          };
          STATES = names(raw.stateName);
          CAUSES = names(raw.causeName);
        } catch {
          throw new Error('cbreaker: the WebAssembly module is not initialised; call initSync({ module }) or await init() first');
        }
      }
      const o = options;
      const kind = windowKind(o);
      if (kind === 'time') {
        if (o.windowDurationMs === undefined) throw configError('windowDurationMs', 'windowDurationMs is required with a time window');
        if (o.windowBuckets === undefined) throw configError('windowBuckets', 'windowBuckets is required with a time window');
      }
      if (kind === 'count' && o.windowSize === undefined) throw configError('windowSize', 'windowSize is required with a count window');
      const m = o.openDurationMultiplier;
      if (m !== undefined && (typeof m !== 'number' || !Number.isFinite(m))) {
        throw configError('openDurationMultiplier', 'openDurationMultiplier must be a finite number');
      }
      const [seedHi, seedLo] = seedHalves(o);
      this.#clock = optFunction(o, 'now');
      // call() reads the clock twice to time a call; only when slow calls were asked about.
      this.#timed = o.slowCallDurationMs !== undefined || (o.slowCallRateThreshold ?? 0) > 0;
      this.#isFailure = optFunction(o, 'isFailure');
      this.#exclude = optFunction(o, 'exclude');
      if (o.name !== undefined && typeof o.name !== 'string') throw configError('name', 'name must be a string');
      this.#name = o.name;
      this.#raw = new raw.CircuitBreaker(
        KINDS[kind], optNumber(o, 'windowSize'), optNumber(o, 'windowDurationMs'), optNumber(o, 'windowBuckets'),
        optNumber(o, 'failureRateThreshold'), optNumber(o, 'slowCallRateThreshold'),
        optNumber(o, 'slowCallDurationMs'), optNumber(o, 'consecutiveFailures'), optNumber(o, 'minimumCalls'),
        optNumber(o, 'openDurationMs'), optNumber(o, 'openDurationMaxMs'), m, optNumber(o, 'jitterPercent'),
        seedHi, seedLo, optNumber(o, 'halfOpenMaxCalls'), optNumber(o, 'successThreshold'),
        optNumber(o, 'halfOpenMaxWaitMs'),
      );
    }

    /** The name given in the options, if any. */
    get name() { return this.#name; }

    /**
     * Asks to make one call. Returns a {@link Permit}, or `undefined` when the circuit rejects.
     * @param {number} [nowMs] the time; the breaker's clock when omitted
     */
    tryAcquire(nowMs) {
      const bits = this.#acquire(nowMs === undefined ? this.#arg() : checkTime(nowMs, 'nowMs'));
      return bits < 0 ? undefined : new Permit(this, bits);
    }

    /** Reports how a permit's call ended: outcome 'success' | 'failure' | 'ignored'. */
    record(permit, outcome, opts) {
      if (permit === null || typeof permit !== 'object' || !Permit._check(permit, this)) {
        throw argumentError('record() needs a permit from this breaker\'s tryAcquire()');
      }
      if (outcome === 'success') permit.success(opts);
      else if (outcome === 'failure') permit.failure(opts);
      else if (outcome === 'ignored') permit.ignore(opts);
      else throw argumentError(`outcome must be 'success', 'failure' or 'ignored', got ${String(outcome)}`);
    }

    /**
     * Runs `fn(...args)` through the breaker. Resolves with its value; rejects with its error
     * (counted as a failure unless `exclude`/`isFailure` say otherwise) or with a
     * `CircuitOpenError` (`code: 'ERR_CIRCUIT_OPEN'`) without calling `fn`.
     */
    call(fn, ...args) {
      return this.#call(fn, undefined, args);
    }

    /**
     * `call` with a per-call `timeoutMs` and/or `signal`. `fn` receives `{ signal }`, an
     * AbortSignal that aborts on the timeout or on `signal`. A timeout rejects with a
     * `TimeoutError` DOMException (a failure by default); an abort rejects with the signal's
     * reason and counts as ignored.
     */
    callWith(opts, fn) {
      if (opts === null || typeof opts !== 'object') return Promise.reject(argumentError('callWith() needs an options object'));
      return this.#run(fn, undefined, undefined, opts);
    }

    /** A function that runs `fn` through the breaker (`this` and arguments passed on). */
    wrap(fn) {
      if (typeof fn !== 'function') throw argumentError('wrap() needs a function');
      const breaker = this;
      return function wrapped(...args) {
        return breaker.#call(fn, this, args);
      };
    }

    /** The state a `tryAcquire` now would see; takes no permit. */
    get state() {
      return STATES[this.#raw.state(this.#arg())];
    }

    /** The state a `tryAcquire` at `nowMs` would see. */
    stateAt(nowMs) {
      return STATES[this.#raw.state(checkTime(nowMs, 'nowMs'))];
    }

    /** Counters and window figures; takes no permit, changes nothing. */
    snapshot(nowMs) {
      const s = this.#raw.snapshot(nowMs === undefined ? this.#arg() : checkTime(nowMs, 'nowMs'));
      const transitions = {};
      for (let i = 0; i < STATES.length; i++) transitions[STATES[i]] = s[8 + i];
      return {
        state: STATES[s[0]],
        generation: s[1],
        calls: s[2],
        successes: s[3],
        failures: s[4],
        ignored: s[5],
        slow: s[6],
        rejected: s[7],
        transitions,
        windowCalls: s[14],
        windowFailures: s[15],
        windowSlow: s[16],
        failureRate: s[17],
        slowRate: s[18],
        consecutiveFailures: s[19],
        retryAfterMs: s[20] < 0 ? null : s[20],
      };
    }

    /** Rejects every call until `reset`, `forceClosed` or `metricsOnly`. Returns the transition. */
    forceOpen(nowMs) { return this.#manual(MANUAL.forceOpen, nowMs); }
    /** Admits every call and never trips (state `disabled`). */
    forceClosed(nowMs) { return this.#manual(MANUAL.forceClosed, nowMs); }
    /** Admits every call, keeps the window and metrics, never trips. */
    metricsOnly(nowMs) { return this.#manual(MANUAL.metricsOnly, nowMs); }
    /** Back to `closed` with an empty window and the backoff reset. */
    reset(nowMs) { return this.#manual(MANUAL.reset, nowMs); }

    /** Adds a listener for 'statechange' | 'reject' | 'success' | 'failure'. */
    on(type, listener) {
      if (!EVENTS.includes(type)) throw argumentError(`unknown event ${String(type)}; one of ${EVENTS.join(', ')}`);
      if (typeof listener !== 'function' && !(listener && typeof listener.handleEvent === 'function')) {
        throw argumentError('a listener must be a function or have handleEvent()');
      }
      this.#listeners ??= { statechange: [], reject: [], success: [], failure: [] };
      const list = this.#listeners[type];
      if (!list.includes(listener)) list.push(listener);
      return this;
    }

    /** Removes a listener added with `on` or `addEventListener`. */
    off(type, listener) {
      const list = this.#listeners?.[type];
      const i = list ? list.indexOf(listener) : -1;
      if (i >= 0) list.splice(i, 1);
      return this;
    }

    /** EventTarget-style alias of `on` (listeners get the same event object). */
    addEventListener(type, listener) { this.on(type, listener); }
    /** EventTarget-style alias of `off`. */
    removeEventListener(type, listener) { this.off(type, listener); }

    /** Frees the breaker's WebAssembly memory now (the garbage collector does it otherwise). */
    free() { this.#raw.free(); }

    // ---- internals -------------------------------------------------------------------------

    /** The time to pass to the core: the injected clock's, or NaN (the core reads
     * performance.now() only if its decision needs the time). */
    #arg() {
      return this.#clock === undefined ? NaN : this.#clock();
    }

    /** The time, read now. */
    #read() {
      return this.#clock === undefined ? defaultClock() : this.#clock();
    }

    /** Permit bits, or the core's negative rejection code (event fired). */
    #acquire(now) {
      const r = this.#raw.tryAcquire(now);
      return r >= 0 && r < HAS_TRANSITION ? r : this.#acquired(r, now);
    }

    /** @internal kind 0 success, 1 failure, 2 ignored */
    _record(kind, bits, durationMs, nowMs, error) {
      const now = nowMs === undefined ? this.#arg() : nowMs;
      const raw = this.#raw;
      const packed = kind === 0 ? raw.success(bits, durationMs, now)
        : kind === 1 ? raw.failure(bits, durationMs, now) : raw.ignore(bits, now);
      if (this.#listeners !== null && kind !== 2) {
        const duration = durationMs < 0 ? undefined : durationMs;
        const at = Number.isNaN(now) ? this.#read() : now;
        this.#emit(kind === 0 ? 'success' : 'failure', kind === 0
          ? { type: 'success', durationMs: duration, at }
          : { type: 'failure', durationMs: duration, error, at });
      }
      if (packed !== 0) this.#transition(packed);
    }

    #transition(packed) {
      const t = transition(packed, this.#raw.transitionAt());
      if (this.#listeners !== null && this.#listeners.statechange.length !== 0) {
        this.#emit('statechange', { type: 'statechange', ...t });
      }
      return t;
    }

    #emit(type, event) {
      const list = this.#listeners[type];
      if (list.length === 0) return;
      for (const l of list.slice()) {
        try {
          if (typeof l === 'function') l.call(this, event);
          else l.handleEvent(event);
        } catch (err) {
          // Like EventTarget: a throwing listener neither stops the others nor the breaker.
          queueMicrotask(() => { throw err; });
        }
      }
    }

    #manual(op, nowMs) {
      return this.#transition(this.#raw.manual(op, nowMs === undefined ? this.#arg() : checkTime(nowMs, 'nowMs')));
    }

    /** 2 ignored (exclude), 0 success (isFailure false), else 1 failure. A predicate that
     * throws counts the call as a failure (the permit is always settled) and is reported. */
    #classify(err) {
      try {
        if (this.#exclude !== undefined && this.#exclude(err)) return 2;
        if (this.#isFailure !== undefined && !this.#isFailure(err)) return 0;
      } catch (predicateError) {
        queueMicrotask(() => { throw predicateError; });
      }
      return 1;
    }

    /** call() and wrap(): the hot path, kept small (no options). A plain `.then` on fn's
     * promise: measurably cheaper than an async function here (one promise, no resumption). */
    #call(fn, thisArg, args) {
      if (typeof fn !== 'function') return Promise.reject(argumentError('call() needs a function'));
      const clock = this.#clock;
      const timed = this.#timed;
      // Untimed with the default clock: NaN, and the core reads the clock only if it must.
      const start = timed ? (clock === undefined ? defaultClock() : clock()) : (clock === undefined ? NaN : clock());
      const r = this.#raw.tryAcquire(start);
      const bits = r >= 0 && r < HAS_TRANSITION ? r : this.#acquired(r, start);
      if (bits < 0) return Promise.reject(new CircuitOpenError(bits === -Infinity ? null : -bits - 1, this.#name));
      let value;
      try {
        value = args.length === 0 ? fn.call(thisArg) : fn.apply(thisArg, args);
      } catch (err) {
        this.#failed(bits, err, start, timed);
        return Promise.reject(err);
      }
      return Promise.resolve(value).then((result) => {
        const end = timed ? (clock === undefined ? defaultClock() : clock()) : (clock === undefined ? NaN : clock());
        const packed = this.#raw.success(bits, timed ? end - start : -1, end);
        if (packed !== 0 || this.#listeners !== null) this.#after(packed, timed ? end - start : -1, end);
        return result;
      }, (err) => {
        this.#failed(bits, err, start, timed);
        throw err;
      });
    }

    /** fn threw or rejected: failure, ignored or success as the predicates say. */
    #failed(bits, err, start, timed) {
      const end = timed ? this.#read() : this.#arg();
      this._record(this.#classify(err), bits, timed ? end - start : -1, end, err);
    }

    /** The rare outcomes of tryAcquire: a transition (permit bits back) or a rejection. */
    #acquired(r, now) {
      if (r >= HAS_TRANSITION) {
        this.#transition(this.#raw.takeTransition());
        return r - HAS_TRANSITION;
      }
      if (this.#listeners !== null) {
        const retryAfterMs = r === -Infinity ? null : -r - 1;
        this.#emit('reject', { type: 'reject', retryAfterMs, at: Number.isNaN(now) ? this.#read() : now });
      }
      return r;
    }

    /** Events after a success recorded by #call. */
    #after(packed, durationMs, now) {
      if (this.#listeners !== null) {
        const at = Number.isNaN(now) ? this.#read() : now;
        this.#emit('success', { type: 'success', durationMs: durationMs < 0 ? undefined : durationMs, at });
      }
      if (packed !== 0) this.#transition(packed);
    }

    async #run(fn, thisArg, args, opts) {
      if (typeof fn !== 'function') throw argumentError('call() needs a function');
      let signal;
      let timeoutMs;
      if (opts !== undefined) {
        signal = opts.signal;
        if (signal !== undefined && !(signal && typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function')) {
          throw argumentError('signal must be an AbortSignal');
        }
        if (opts.timeoutMs !== undefined) timeoutMs = checkTime(opts.timeoutMs, 'timeoutMs');
        if (signal?.aborted) throw signal.reason;
      }
      const timed = this.#timed;
      const start = timed ? this.#read() : this.#arg();
      const bits = this.#acquire(start);
      if (bits < 0) throw new CircuitOpenError(bits === -Infinity ? null : -bits - 1, this.#name);
      let result;
      try {
        result = opts === undefined ? await fn.apply(thisArg, args) : await this.#guarded(fn, signal, timeoutMs);
      } catch (err) {
        const end = timed ? this.#read() : this.#arg();
        const kind = signal !== undefined && signal.aborted && err === signal.reason ? 2 : this.#classify(err);
        this._record(kind, bits, timed ? end - start : -1, end, err);
        throw err;
      }
      const end = timed ? this.#read() : this.#arg();
      this._record(0, bits, timed ? end - start : -1, end, undefined);
      return result;
    }

    #guarded(fn, signal, timeoutMs) {
      const ctl = new AbortController();
      let timer;
      let onAbort;
      const stop = new Promise((_, reject) => {
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            const e = new DOMException(`call timed out after ${timeoutMs} ms`, 'TimeoutError');
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
      const work = new Promise((resolve) => resolve(fn({ signal: ctl.signal })));
      return Promise.race([work, stop]).finally(() => {
        clearTimeout(timer);
        if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
      });
    }
  }

  return { CircuitBreaker, CircuitOpenError, Permit };
}
