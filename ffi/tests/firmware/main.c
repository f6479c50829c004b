/* libcb on a Cortex-M4F with no heap and no libc: a breaker placed with cb_breaker_init in a
 * static buffer goes through a trip / half-open / recover cycle. Prints "N passed, N failed"
 * over semihosting; the exit code is the number of failed checks. */
#include <stdint.h>

#include "libcb.h"
#include "semihost.h"

static int passed, failed;
#define CHECK(cond)                                      \
    do {                                                 \
        if (cond) {                                      \
            passed++;                                    \
        } else {                                         \
            failed++;                                    \
            sh_puts("CHECK failed: " #cond "\n");        \
        }                                                \
    } while (0)

/* Room for the breaker, aligned for it (checked against cb_breaker_size/align below). */
static _Alignas(16) unsigned char storage[2048];

int main(void) {
    cb_config c;
    cb_breaker *b = 0;
    cb_permit p;
    cb_transition t;
    cb_snapshot s;
    cb_state st;
    cb_health h;
    cb_reject_reason reason = 99;
    uint64_t retry = 0, d = 0;
    int i, trips = 0;

    sh_puts("firmware: libcb on thumbv7em-none-eabihf, breaker size ");
    sh_put_u64(cb_breaker_size());
    sh_puts(" bytes\n");
    CHECK(cb_breaker_size() <= sizeof storage && cb_breaker_align() <= 16);
    CHECK(cb_config_default(&c) == CB_STATUS_OK);
    c.window_size = 10;
    c.minimum_calls = 4;
    c.open_duration_ms = 100;
    c.open_duration_multiplier = 2.0;
    CHECK(cb_breaker_init(storage + 1, sizeof storage - 1, &c, &b) == CB_STATUS_MISALIGNED);
    CHECK(cb_breaker_init(storage, 8, &c, &b) == CB_STATUS_BUFFER_TOO_SMALL);
    CHECK(cb_breaker_init(storage, sizeof storage, &c, &b) == CB_STATUS_OK);

    /* Closed: 4 failures at 50 % trip once. */
    for (i = 0; i < 6; i++) {
        cb_status r = cb_breaker_try_acquire(b, (uint64_t)i, &p, &retry, 0, &t);
        if (r != CB_STATUS_OK) continue;
        CHECK(cb_breaker_record(b, &p, CB_OUTCOME_FAILURE, 3, (uint64_t)i, 0, &t) == CB_STATUS_OK);
        if (t.occurred && t.to == CB_STATE_OPEN) trips++;
    }
    CHECK(trips == 1);
    CHECK(cb_breaker_try_acquire(b, 50, &p, &retry, &reason, &t) == CB_STATUS_REJECTED && retry == 53);
    CHECK(reason == CB_REJECT_OPEN);
    CHECK(cb_breaker_state(b, 50, &st) == CB_STATUS_OK && cb_health_of(st, &h) == CB_STATUS_OK);
    CHECK(h == CB_HEALTH_UNHEALTHY);

    /* Half-open after 100 ms; a timed-out probe is a failure and re-opens for 200 ms
     * (backoff x2). */
    CHECK(cb_breaker_try_acquire(b, 103, &p, 0, 0, &t) == CB_STATUS_OK && t.occurred && t.to == CB_STATE_HALF_OPEN);
    CHECK(cb_breaker_record(b, &p, CB_OUTCOME_TIMEOUT, CB_DURATION_NONE, 104, 0, &t) == CB_STATUS_OK);
    CHECK(t.occurred && t.to == CB_STATE_OPEN && t.cause == CB_CAUSE_PROBE_FAILED);
    CHECK(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 104, 0, &t) == CB_STATUS_PERMIT_SETTLED);
    CHECK(cb_breaker_try_acquire(b, 204, &p, &retry, 0, 0) == CB_STATUS_REJECTED && retry == 100);

    /* A good probe closes it; a sink times it. */
    CHECK(cb_breaker_begin(b, 304, true, &p, 0, 0, &t) == CB_STATUS_OK && t.to == CB_STATE_HALF_OPEN);
    CHECK(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 305, &d, &t) == CB_STATUS_OK);
    CHECK(d == 1 && t.occurred && t.to == CB_STATE_CLOSED && t.cause == CB_CAUSE_PROBES_SUCCEEDED);
    CHECK(cb_breaker_state(b, 306, &st) == CB_STATUS_OK && st == CB_STATE_CLOSED);
    CHECK(cb_breaker_snapshot(b, 306, &s) == CB_STATUS_OK);
    CHECK(s.calls == 6 && s.failures == 5 && s.successes == 1 && s.rejected == 4);
    CHECK(s.transitions[CB_STATE_OPEN] == 2 && s.transitions[CB_STATE_CLOSED] == 1);
    CHECK(cb_breaker_record(b, &p, 9, CB_DURATION_NONE, 307, 0, 0) == CB_STATUS_INVALID_ARGUMENT);
    CHECK(cb_breaker_state(0, 0, &st) == CB_STATUS_NULL_PARAMETER);

    /* Manual trip recovers by itself; presets come from the core. */
    CHECK(cb_breaker_trip(b, 400, &t) == CB_STATUS_OK && t.cause == CB_CAUSE_TRIP && t.to == CB_STATE_OPEN);
    CHECK(cb_breaker_half_open(b, 401, &t) == CB_STATUS_OK && t.cause == CB_CAUSE_HALF_OPEN);
    CHECK(cb_config_preset("cache", &c) == CB_STATUS_OK && c.slow_call_duration_ms == 100);
    CHECK(cb_config_preset("nope", &c) == CB_STATUS_INVALID_ARGUMENT);

#ifdef CB_FW_CONTROL_FAIL
    CHECK(cb_breaker_size() == 0); /* the control build: exactly one failure */
#endif
    sh_puts("firmware: ");
    sh_put_u64((uint64_t)passed);
    sh_puts(" passed, ");
    sh_put_u64((uint64_t)failed);
    sh_puts(" failed\n");
    return failed;
}
