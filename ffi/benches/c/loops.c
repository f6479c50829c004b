/* The C side of `make bench-c`: loops compiled by gcc -O2 that call libcb.so exactly as a C
 * program does. The Rust bench (ffi/benches/c_vs_rust.rs) loads this library and times these
 * loops against the same loops over the Rust core, interleaved, in one run. */
#include <stddef.h>
#include <stdint.h>

#include "libcb.h"

/* The benchmark breaker: a count window of 100, minimum_calls 10 (as the Rust side). */
cb_breaker *cb_bench_new(void) {
    cb_config c;
    cb_breaker *b = NULL;
    cb_config_default(&c);
    c.window_size = 100;
    c.minimum_calls = 10;
    return cb_breaker_new(&c, &b) == CB_STATUS_OK ? b : NULL;
}

void cb_bench_free(cb_breaker *b) { cb_breaker_free(b); }

void cb_bench_force_open(cb_breaker *b) { cb_breaker_force_open(b, 0, NULL); }

/* n closed-path calls: try_acquire + record(success), transition asked for. */
cb_status cb_bench_closed(const cb_breaker *b, uint64_t t0, uint64_t n) {
    cb_status s = CB_STATUS_OK;
    uint64_t i;
    for (i = 0; i < n; i++) {
        cb_permit p;
        cb_transition tr;
        s |= cb_breaker_try_acquire(b, t0 + i, &p, NULL, NULL, NULL);
        s |= cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, t0 + i, NULL, &tr);
    }
    return s;
}

/* n rejected try_acquire calls (the breaker is forced open), retry-after asked for. */
uint64_t cb_bench_reject(const cb_breaker *b, uint64_t t0, uint64_t n) {
    uint64_t acc = 0, i;
    for (i = 0; i < n; i++) {
        cb_permit p;
        uint64_t retry = 0;
        acc += cb_breaker_try_acquire(b, t0 + i, &p, &retry, NULL, NULL) + (retry & 1);
    }
    return acc;
}
