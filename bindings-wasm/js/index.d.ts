// Types of the npm package `cbreaker`: every entry (`cbreaker` as ESM or CommonJS, `cbreaker/web`)
// has this API. Under Node the module is ready at import (initSync and init do nothing); in
// workers and browsers call initSync or init once before the first breaker.

/** The states, spelled as in every cbreaker binding and the conformance vectors. */
export type State = 'closed' | 'open' | 'half_open' | 'forced_open' | 'disabled' | 'metrics_only';

/** Why a transition happened. */
export type Cause =
  | 'failure_rate' | 'slow_call_rate' | 'consecutive_failures' | 'open_elapsed' | 'probe_failed'
  | 'probe_slow' | 'probes_succeeded' | 'force_open' | 'force_closed' | 'metrics_only' | 'reset'
  | 'trip' | 'half_open' | 'repaired';

/** What the breaker records. */
export type Outcome = 'success' | 'failure' | 'ignored';
/** How a call ended: `timeout` records a failure, `cancelled` an ignored outcome. */
export type End = Outcome | 'timeout' | 'cancelled';
/** Why a call was refused. */
export type RejectReason = 'open' | 'half_open_full' | 'forced_open';
/** The core's health rule: a breaker that refuses calls or admits only probes is unhealthy. */
export type Health = 'healthy' | 'unhealthy';
/** The core's presets (`PRESETS`). */
export type PresetName = 'agents_platform' | 'pybreaker' | 'http_api' | 'llm_service' | 'database' | 'notifications' | 'cache';

/** The core's config fields, in camelCase and milliseconds. An absent field is the preset's
 * value, or `Config::default()`'s (the same defaults in every language: docs/wasm.md). */
export interface ConfigOptions {
  /** Implied by windowSize (count) or windowDurationMs / windowBuckets (time); else the preset's or the default's. */
  window?: 'count' | 'time' | 'consecutive';
  /** Count window: the last N outcomes (1..1024). */
  windowSize?: number;
  /** Time window span, a multiple of windowBuckets. */
  windowDurationMs?: number;
  /** Time window buckets (1..64). */
  windowBuckets?: number;
  /** Percent, 0 = off. */
  failureRateThreshold?: number;
  /** Percent, 0 = off. While it is on, the core times every call. */
  slowCallRateThreshold?: number;
  /** A call whose duration is at or above this is slow. */
  slowCallDurationMs?: number;
  /** 0 = off; at least 1 with window 'consecutive'. */
  consecutiveFailures?: number;
  /** Rate rules apply once the window holds this many outcomes (capped at a count window's size). */
  minimumCalls?: number;
  openDurationMs?: number;
  /** 0 = no cap. */
  openDurationMaxMs?: number;
  /** 1..1000 (three decimals). */
  openDurationMultiplier?: number;
  jitterPercent?: number;
  /** 0 to 2^64 - 1. */
  jitterSeed?: number | bigint;
  /** 1..31. */
  halfOpenMaxCalls?: number;
  /** 1..31. */
  successThreshold?: number;
  halfOpenMaxWaitMs?: number;
}

export interface CircuitBreakerOptions extends ConfigOptions {
  /** Start from one of the core's presets; the other fields override its values. */
  preset?: PresetName;
  /** Accept a config with every trip rule off (failure rate, slow rate, consecutive failures). */
  neverTrips?: boolean;
  /** The clock, in milliseconds (>= 0, finite); default `performance.now()`. */
  now?: () => number;
  /** `false` counts an error of `call()` as a success (e.g. a 404). */
  isFailure?: (error: unknown) => boolean;
  /** `true` counts an error of `call()` as ignored (neither success nor failure). */
  exclude?: (error: unknown) => boolean;
  /** Every `call()` times out after this long (1..2^31 - 1 ms): a failure. No default. */
  timeoutMs?: number;
  /** What `call()` resolves with instead of rejecting (a rejection or fn's error). */
  fallback?: (error: unknown) => unknown;
  /** Shown in error messages, `stats()`, `console.log` and the Prometheus `breaker` label. */
  name?: string;
}

/** The config a breaker runs with: every field filled in. */
export interface Config extends Required<Omit<ConfigOptions, 'windowSize' | 'windowDurationMs' | 'windowBuckets' | 'jitterSeed'>> {
  windowSize?: number;
  windowDurationMs?: number;
  windowBuckets?: number;
  /** A number when exact as one, else a bigint. */
  jitterSeed: number | bigint;
}

export interface SettleOptions {
  /** The duration you measured (reported as is), or null to report none (never slow). */
  durationMs?: number | null;
  /** The time of the outcome; the breaker's clock when omitted. */
  nowMs?: number;
}

/** What settling a permit did, as the core reports it. */
export interface Finished {
  outcome: Outcome;
  /** The call's duration, for a timed call; null otherwise. */
  durationMs: number | null;
  transition: Transition | undefined;
}

/** Permission to make one call: settle it exactly once (a second time throws
 * PermitSettledError). A permit collected unsettled counts as cancelled (ignored). */
export declare class Permit {
  private constructor();
  success(options?: SettleOptions): Finished;
  failure(options?: SettleOptions): Finished;
  ignore(options?: SettleOptions): Finished;
  readonly settled: boolean;
  /** Whether the core times this call (the slow-call rule is on, or a duration sink). */
  readonly timed: boolean;
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
  /** What a rejection now would advise; null when a call would be admitted or when forced open. */
  retryAfterMs: number | null;
}

export interface Stats extends Snapshot {
  health: Health;
  name: string | undefined;
}

export interface StateChangeEvent extends Transition { type: 'statechange' }
export interface RejectEvent { type: 'reject'; reason: RejectReason; retryAfterMs: number | null }
/** `durationMs`: set for a timed call (a success or failure listener makes every call timed). */
export interface SuccessEvent { type: 'success'; durationMs: number | undefined }
export interface FailureEvent { type: 'failure'; durationMs: number | undefined; error: unknown; timedOut: boolean }
/** A listener or an isFailure / exclude predicate threw (`source`: the event type or the option). */
export interface ErrorEvent { type: 'error'; error: unknown; source: 'statechange' | 'reject' | 'success' | 'failure' | 'isFailure' | 'exclude' }
export interface EventMap {
  statechange: StateChangeEvent;
  reject: RejectEvent;
  success: SuccessEvent;
  failure: FailureEvent;
  error: ErrorEvent;
}
export type Listener<E> = ((event: E) => void) | { handleEvent(event: E): void };

export interface CallOptions {
  /** Rejects with a DOMException named 'TimeoutError' (a failure) after this long (1..2^31 - 1). */
  timeoutMs?: number;
  /** Aborting rejects with the signal's reason and counts the call as cancelled (ignored). */
  signal?: AbortSignal;
}

export declare class CircuitBreaker {
  /** `new CircuitBreaker()` is the core's Config::default().
   * @throws RangeError (out of range) or TypeError (wrong type), `code: 'ERR_CB_INVALID_CONFIG'`, `option` */
  constructor(options?: CircuitBreakerOptions);
  readonly name: string | undefined;
  /** The state a tryAcquire now would see. */
  readonly state: State;
  readonly health: Health;
  readonly config: Config;
  tryAcquire(nowMs?: number): Permit | undefined;
  record(permit: Permit, end: End, options?: SettleOptions): Finished;
  /** Rejects with CircuitOpenError (`code: 'ERR_CIRCUIT_OPEN'`) when the circuit refuses; never throws. */
  call<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Promise<Awaited<R>>;
  callWith<R>(options: CallOptions, fn: (context: { signal: AbortSignal }) => R | PromiseLike<R>): Promise<Awaited<R>>;
  wrap<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>): (...args: A) => Promise<Awaited<R>>;
  snapshot(nowMs?: number): Snapshot;
  stats(nowMs?: number): Stats;
  /** The Prometheus text exposition of this breaker (labelled with its name). */
  prometheusText(nowMs?: number, options?: PrometheusOptions): string;
  forceOpen(nowMs?: number): Transition;
  forceClosed(nowMs?: number): Transition;
  metricsOnly(nowMs?: number): Transition;
  reset(nowMs?: number): Transition;
  trip(nowMs?: number): Transition;
  halfOpen(nowMs?: number): Transition;
  on<K extends keyof EventMap>(type: K, listener: Listener<EventMap[K]>): this;
  off<K extends keyof EventMap>(type: K, listener: Listener<EventMap[K]>): this;
  /** Frees the WebAssembly memory now; later use throws (or rejects) with `code: 'ERR_CB_FREED'`. */
  free(): void;
}

/** A call was refused. */
export declare class CircuitOpenError extends Error {
  readonly code: 'ERR_CIRCUIT_OPEN';
  readonly reason: RejectReason;
  /** The core's advice; null when forced open. */
  readonly retryAfterMs: number | null;
}

/** A permit was settled a second time. */
export declare class PermitSettledError extends Error {
  readonly code: 'ERR_CB_PERMIT_SETTLED';
}

/** The core's preset names. */
export declare const PRESETS: readonly PresetName[];

/** Which names the Prometheus text uses: cbreaker's (the default) or resilience4j's Micrometer
 * names (`resilience4j_circuitbreaker_state{name,state}`, ...), the core's mapping. */
export type Naming = 'cbreaker' | 'resilience4j';
export interface PrometheusOptions {
  /** An unknown naming throws a RangeError with `option: 'naming'`. */
  naming?: Naming;
}

/** Breakers as the exporters take them: `{ name: breaker }`, a Map (both read anew at each
 * collection by `instrument`), or breakers under their `name`. */
export type Breakers = Record<string, CircuitBreaker> | Map<string, CircuitBreaker> | Iterable<CircuitBreaker>;

/** The Prometheus text of several breakers (the core's families; the same bytes as Rust's). */
export declare function prometheusText(breakers: Breakers, options?: PrometheusOptions): string;

/** The part of `@opentelemetry/api`'s `MeterProvider` that `instrument` uses: any
 * MeterProvider fits (`metrics.getMeterProvider()`, an SDK's `new MeterProvider(...)`). */
export interface MeterProviderLike {
  getMeter(name: string): unknown;
}
export interface InstrumentOptions {
  meterProvider: MeterProviderLike;
  /** Feed `circuit_breaker.call.duration` from every call's end (times every call; default
   * false: registering the instruments then leaves the call path unchanged). */
  durations?: boolean;
}
/** What `instrument` registered: `close()` stops reading the breakers and removes its listeners. */
export interface Instrumentation {
  close(): void;
}
/** Registers the core's OpenTelemetry instruments (meter `cbreaker`; docs/metrics.md) for
 * `breakers`. Observable counters and gauges read each breaker's snapshot at collection time;
 * `circuit_breaker.state_changes` is fed by the breakers' transitions, and
 * `circuit_breaker.call.duration` by every call's end with `durations: true` (which makes the
 * core time every call). */
export declare function instrument(breakers: Breakers, options: InstrumentOptions): Instrumentation;

export type InitInput = WebAssembly.Module | BufferSource;
/** Initialises the module synchronously (workers, browsers); does nothing under Node. */
export declare function initSync(input: { module: InitInput }): unknown;
/** Initialises the module asynchronously (workers, browsers); does nothing under Node. */
export declare function init(input?: { module_or_path: InitInput | Response | URL | string | Promise<Response> }): Promise<unknown>;

/** Thrown for an invalid option: RangeError out of range, TypeError of the wrong type. */
export interface ConfigError extends Error {
  code: 'ERR_CB_INVALID_CONFIG';
  option: string;
}

/** Thrown for a bad argument (a bad nowMs, an unknown outcome, event or option key). */
export interface ArgumentError extends Error {
  code: 'ERR_CB_INVALID_ARGUMENT';
}
