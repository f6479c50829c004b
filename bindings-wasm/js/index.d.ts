// Types of the npm package `cbreaker` (Node entry; the web entry adds init/initSync).

/** The states, spelled as in every cbreaker binding and the conformance vectors. */
export type State = 'closed' | 'open' | 'half_open' | 'forced_open' | 'disabled' | 'metrics_only';

/** Why a transition happened. */
export type Cause =
  | 'failure_rate' | 'slow_call_rate' | 'consecutive_failures' | 'open_elapsed' | 'probe_failed'
  | 'probe_slow' | 'probes_succeeded' | 'force_open' | 'force_closed' | 'metrics_only' | 'reset';

export type Outcome = 'success' | 'failure' | 'ignored';

/** Options, in camelCase and milliseconds. Defaults are the core's (docs/state-machine.md). */
export interface CircuitBreakerOptions {
  /** Inferred when omitted: windowDurationMs/windowBuckets → 'time', windowSize → 'count', consecutiveFailures → 'consecutive'. */
  window?: 'count' | 'time' | 'consecutive';
  /** Count window: the last N outcomes (1..1024). */
  windowSize?: number;
  /** Time window span, a multiple of windowBuckets. */
  windowDurationMs?: number;
  /** Time window buckets (1..64). */
  windowBuckets?: number;
  /** Percent, 0 = off. Default 50. */
  failureRateThreshold?: number;
  /** Percent, 0 = off (default). */
  slowCallRateThreshold?: number;
  /** Default 60000. Setting it (or slowCallRateThreshold > 0) makes call() time each call. */
  slowCallDurationMs?: number;
  /** 0 = off (default); required with a consecutive window. */
  consecutiveFailures?: number;
  /** Default 100 (capped at a count window's size). */
  minimumCalls?: number;
  /** Default 60000. */
  openDurationMs?: number;
  /** 0 = no cap (default). */
  openDurationMaxMs?: number;
  /** 1.0..1000.0, default 1.0. */
  openDurationMultiplier?: number;
  /** Default 0. */
  jitterPercent?: number;
  jitterSeed?: number | bigint;
  /** 1..31, default 1. */
  halfOpenMaxCalls?: number;
  /** 1..31, default 1. */
  successThreshold?: number;
  /** Default 60000. */
  halfOpenMaxWaitMs?: number;
  /** The clock, in milliseconds; default `performance.now()`. */
  now?: () => number;
  /** `false` counts a rejection of `call()` as a success (e.g. a 404). Default: every rejection is a failure. */
  isFailure?: (error: unknown) => boolean;
  /** `true` counts a rejection of `call()` as ignored (neither success nor failure). */
  exclude?: (error: unknown) => boolean;
  /** Shown in error messages. */
  name?: string;
}

export interface RecordOptions {
  /** The call's duration: at or above slowCallDurationMs it is also slow. */
  durationMs?: number;
  /** The time of the outcome; the breaker's clock when omitted. */
  nowMs?: number;
}

/** Permission to make one call; settle it exactly once (later calls do nothing). */
export declare class Permit {
  private constructor();
  success(options?: RecordOptions): void;
  failure(options?: RecordOptions): void;
  ignore(options?: Pick<RecordOptions, 'nowMs'>): void;
  readonly settled: boolean;
}

export interface Transition {
  from: State;
  to: State;
  at: number;
  generation: number;
  cause: Cause;
}

export interface Snapshot {
  state: State;
  generation: number;
  calls: number;
  successes: number;
  failures: number;
  ignored: number;
  slow: number;
  rejected: number;
  /** Transitions into each state so far. */
  transitions: Record<State, number>;
  windowCalls: number;
  windowFailures: number;
  windowSlow: number;
  /** Percent. */
  failureRate: number;
  /** Percent. */
  slowRate: number;
  consecutiveFailures: number;
  /** While open: ms until a call may be admitted; null otherwise (and when forced open). */
  retryAfterMs: number | null;
}

export interface StateChangeEvent extends Transition { type: 'statechange' }
export interface RejectEvent { type: 'reject'; retryAfterMs: number | null; at: number }
export interface SuccessEvent { type: 'success'; durationMs: number | undefined; at: number }
export interface FailureEvent { type: 'failure'; durationMs: number | undefined; error: unknown; at: number }
export interface EventMap {
  statechange: StateChangeEvent;
  reject: RejectEvent;
  success: SuccessEvent;
  failure: FailureEvent;
}
export type Listener<E> = ((event: E) => void) | { handleEvent(event: E): void };

export interface CallOptions {
  /** Rejects with a DOMException named 'TimeoutError' (a failure by default) after this long. */
  timeoutMs?: number;
  /** Aborting rejects with the signal's reason and counts the call as ignored. */
  signal?: AbortSignal;
}

export declare class CircuitBreaker {
  /** @throws RangeError with `code: 'ERR_CB_INVALID_CONFIG'` and `option` */
  constructor(options: CircuitBreakerOptions);
  readonly name: string | undefined;
  /** The state a tryAcquire now would see. */
  readonly state: State;
  stateAt(nowMs: number): State;
  tryAcquire(nowMs?: number): Permit | undefined;
  record(permit: Permit, outcome: Outcome, options?: RecordOptions): void;
  /** @throws CircuitOpenError (`code: 'ERR_CIRCUIT_OPEN'`) when the circuit rejects */
  call<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Promise<Awaited<R>>;
  callWith<R>(options: CallOptions, fn: (context: { signal: AbortSignal }) => R | PromiseLike<R>): Promise<Awaited<R>>;
  wrap<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>): (...args: A) => Promise<Awaited<R>>;
  snapshot(nowMs?: number): Snapshot;
  forceOpen(nowMs?: number): Transition;
  forceClosed(nowMs?: number): Transition;
  metricsOnly(nowMs?: number): Transition;
  reset(nowMs?: number): Transition;
  on<K extends keyof EventMap>(type: K, listener: Listener<EventMap[K]>): this;
  off<K extends keyof EventMap>(type: K, listener: Listener<EventMap[K]>): this;
  addEventListener<K extends keyof EventMap>(type: K, listener: Listener<EventMap[K]>): void;
  removeEventListener<K extends keyof EventMap>(type: K, listener: Listener<EventMap[K]>): void;
  /** Frees the WebAssembly memory now instead of at garbage collection. */
  free(): void;
}

/** `call()` was refused. */
export declare class CircuitOpenError extends Error {
  readonly code: 'ERR_CIRCUIT_OPEN';
  /** null when forced open. */
  readonly retryAfterMs: number | null;
}

/** Thrown for an invalid option (also the core's own range checks). */
export interface ConfigError extends RangeError {
  code: 'ERR_CB_INVALID_CONFIG';
  option: string;
}

/** Thrown for a wrong argument type (a bad nowMs, an unknown outcome or event). */
export interface ArgumentError extends TypeError {
  code: 'ERR_CB_INVALID_ARGUMENT';
}
