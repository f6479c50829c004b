// A worker that keeps one circuit breaker per isolate in front of an upstream service.
// Run it with the config.capnp next to it: `npx workerd serve config.capnp`.
import { CircuitBreaker, CircuitOpenError, initSync } from 'cbreaker/web';
import wasm from 'cbreaker/cbreaker.wasm';

initSync({ module: wasm }); // once per isolate, synchronous; no clock is read here
let breaker; // made on the first request: workers forbid clock reads at module init

export default {
  async fetch(request, env) {
    breaker ??= new CircuitBreaker({ name: 'upstream', window: 'consecutive', consecutiveFailures: 3, openDurationMs: 10_000 });
    const { pathname } = new URL(request.url);
    if (pathname === '/stats') return Response.json(breaker.stats());
    if (pathname === '/metrics') return new Response(breaker.prometheusText(), { headers: { 'content-type': 'text/plain; version=0.0.4' } });
    try {
      const res = await breaker.call(async () => {
        const r = await env.UPSTREAM.fetch('http://upstream/');
        if (r.status >= 500) throw new Error(`upstream ${r.status}`);
        return r;
      });
      return new Response(await res.text(), { headers: { 'x-breaker-state': breaker.state } });
    } catch (e) {
      if (!(e instanceof CircuitOpenError)) return new Response('upstream failed', { status: 502, headers: { 'x-breaker-state': breaker.state } });
      // The core's advice: the time left open, at most 1 s when every half-open probe slot is
      // taken, none (null) when forced open.
      const headers = { 'x-breaker-state': breaker.state, 'x-breaker-reason': e.reason };
      if (e.retryAfterMs !== null) headers['retry-after'] = String(Math.max(1, Math.ceil(e.retryAfterMs / 1000)));
      return Response.json({ code: e.code, reason: e.reason, retryAfterMs: e.retryAfterMs }, { status: 503, headers });
    }
  },
};
