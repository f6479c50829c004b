/* Every function of libcb.h, with good arguments, NULL arguments and bad enum values; the
 * call protocol (settle once, timing, reasons), manual moves, presets and health. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libcb.h"
#include "check.h"

static cb_config consecutive(uint32_t failures) {
    cb_config c;
    cb_config_default(&c);
    c.window_kind = CB_WINDOW_KIND_CONSECUTIVE;
    c.consecutive_failures = failures;
    c.open_duration_ms = 1000;
    return c;
}

static void test_config(void) {
    cb_config c;
    memset(&c, 0xAB, sizeof c);
    CHECK_STATUS(cb_config_default(&c), CB_STATUS_OK);
    /* The core's Config::default() (docs/defaults.md). */
    CHECK(c.window_kind == CB_WINDOW_KIND_COUNT && c.window_size == 100);
    CHECK(c.window_duration_ms == 0 && c.window_buckets == 0); /* not a time window */
    CHECK(c.failure_rate_threshold == 50 && c.minimum_calls == 100);
    CHECK(c.open_duration_ms == 60000 && c.half_open_max_calls == 1 && c.success_threshold == 1);
    CHECK(c.open_duration_multiplier == 1.0 && c.open_duration_max_ms == 0);
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_OK);
    CHECK_STATUS(cb_config_default(NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_config_validate(NULL), CB_STATUS_NULL_PARAMETER);

    c.window_kind = 7;
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_INVALID_ARGUMENT);
    cb_config_default(&c);
    c.window_size = 0;
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_CONFIG_WINDOW_SIZE);
    cb_config_default(&c);
    c.failure_rate_threshold = 101;
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_CONFIG_FAILURE_RATE_THRESHOLD);
    cb_config_default(&c);
    c.success_threshold = 0;
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_CONFIG_SUCCESS_THRESHOLD);
    cb_config_default(&c);
    c.window_kind = CB_WINDOW_KIND_TIME; /* switching kinds: set the new kind's fields */
    CHECK(cb_config_validate(&c) != CB_STATUS_OK);
    c.window_buckets = 10;
    c.window_duration_ms = 1001;
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_CONFIG_WINDOW_DURATION);
    c.window_duration_ms = 1000;
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_OK);
    cb_config_default(&c);
    c.open_duration_multiplier = 0.5;
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_CONFIG_OPEN_DURATION_MULTIPLIER);
    c = consecutive(0);
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_CONFIG_CONSECUTIVE_FAILURES);
}

static void test_strings(void) {
    CHECK(strcmp(cb_status_str(CB_STATUS_OK), "ok") == 0);
    CHECK(strcmp(cb_status_str(CB_STATUS_CONFIG_HALF_OPEN_MAX_CALLS),
                 "invalid config: half_open_max_calls must be 1 to 31") == 0);
    CHECK(strcmp(cb_status_str(12345), "unknown status") == 0);
    CHECK(strcmp(cb_state_str(CB_STATE_HALF_OPEN), "half_open") == 0);
    CHECK(strcmp(cb_state_str(CB_STATE_METRICS_ONLY), "metrics_only") == 0);
    CHECK(strcmp(cb_state_str(99), "unknown") == 0);
    CHECK(strcmp(cb_cause_str(CB_CAUSE_CONSECUTIVE_FAILURES), "consecutive_failures") == 0);
    CHECK(strcmp(cb_cause_str(CB_CAUSE_RESET), "reset") == 0);
    CHECK(strcmp(cb_cause_str(CB_CAUSE_TRIP), "trip") == 0);
    CHECK(strcmp(cb_cause_str(CB_CAUSE_HALF_OPEN), "half_open") == 0);
    CHECK(strcmp(cb_cause_str(99), "unknown") == 0);
    CHECK(strcmp(cb_reject_reason_str(CB_REJECT_OPEN), "open") == 0);
    CHECK(strcmp(cb_reject_reason_str(CB_REJECT_HALF_OPEN_FULL), "half_open_full") == 0);
    CHECK(strcmp(cb_reject_reason_str(CB_REJECT_FORCED_OPEN), "forced_open") == 0);
    CHECK(strcmp(cb_reject_reason_str(3), "unknown") == 0);
    CHECK(strcmp(cb_health_str(CB_HEALTH_HEALTHY), "healthy") == 0);
    CHECK(strcmp(cb_health_str(CB_HEALTH_DEGRADED), "degraded") == 0);
    CHECK(strcmp(cb_health_str(CB_HEALTH_UNHEALTHY), "unhealthy") == 0);
    CHECK(strcmp(cb_health_str(3), "unknown") == 0);
    CHECK(strcmp(cb_status_str(CB_STATUS_PERMIT_SETTLED),
                 "permit already settled: a permit is settled exactly once") == 0);
}

static void test_new_free_and_nulls(void) {
    cb_config c = consecutive(2);
    cb_breaker *b = NULL;
    cb_permit p;
    cb_state st;
    cb_snapshot snap;
    cb_transition tr;
    cb_reject_reason reason = 99;
    uint64_t retry = 0;

    memset(&p, 0, sizeof p);
    CHECK_STATUS(cb_breaker_new(NULL, &b), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_new(&c, NULL), CB_STATUS_NULL_PARAMETER);
    c.success_threshold = 32;
    CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_CONFIG_SUCCESS_THRESHOLD);
    CHECK(b == NULL); /* outputs written only on success */
    c.success_threshold = 1;
    CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_OK);
    CHECK(b != NULL);

    CHECK_STATUS(cb_breaker_try_acquire(NULL, 0, &p, &retry, &reason, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_try_acquire(b, 0, NULL, &retry, &reason, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_begin(NULL, 0, true, &p, &retry, &reason, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_begin(b, 0, true, NULL, &retry, &reason, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_record(NULL, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 0, NULL, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_record(b, NULL, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 0, NULL, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_drop(NULL, &p, 0), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_drop(b, NULL, 0), CB_STATUS_NULL_PARAMETER);
    CHECK(cb_permit_is_settled(NULL) && !cb_permit_is_timed(NULL));
    /* A zeroed permit was never issued: nothing to settle. */
    CHECK(cb_permit_is_settled(&p));
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 0, NULL, NULL), CB_STATUS_PERMIT_SETTLED);
    CHECK_STATUS(cb_breaker_state(NULL, 0, &st), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_state(b, 0, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_snapshot(NULL, 0, &snap), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_snapshot(b, 0, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_force_open(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_force_closed(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_metrics_only(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_reset(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_trip(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_half_open(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_config(NULL, &c), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_config(b, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_free(NULL), CB_STATUS_OK);

    /* A bad outcome is refused, records nothing and leaves the permit pending. */
    CHECK_STATUS(cb_breaker_try_acquire(b, 1, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK(!cb_permit_is_settled(&p) && !cb_permit_is_timed(&p));
    {
        unsigned char before[sizeof tr];
        uint64_t d = 77;
        memset(&tr, 0x5A, sizeof tr);
        memcpy(before, &tr, sizeof tr);
        CHECK_STATUS(cb_breaker_record(b, &p, 5, CB_DURATION_NONE, 1, &d, &tr), CB_STATUS_INVALID_ARGUMENT);
        CHECK(memcmp(before, &tr, sizeof tr) == 0 && d == 77); /* untouched */
        CHECK(!cb_permit_is_settled(&p));
    }
    CHECK_STATUS(cb_breaker_snapshot(b, 1, &snap), CB_STATUS_OK);
    CHECK(snap.calls == 0);

    /* Two failures trip a consecutive(2) breaker; exactly that call sees the transition. */
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_FAILURE, 5, 1, NULL, &tr), CB_STATUS_OK);
    CHECK(!tr.occurred && cb_permit_is_settled(&p));
    CHECK_STATUS(cb_breaker_try_acquire(b, 2, &p, NULL, NULL, &tr), CB_STATUS_OK);
    CHECK(!tr.occurred);
    /* A timeout is a failure. */
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_TIMEOUT, CB_DURATION_NONE, 2, NULL, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.from == CB_STATE_CLOSED && tr.to == CB_STATE_OPEN);
    CHECK(tr.cause == CB_CAUSE_CONSECUTIVE_FAILURES && tr.at_ms == 2);

    /* Open: rejected with retry-after and the reason; the permit out parameter is untouched. */
    p.bits = 0xDEADBEEF;
    CHECK_STATUS(cb_breaker_try_acquire(b, 102, &p, &retry, &reason, &tr), CB_STATUS_REJECTED);
    CHECK(retry == 900 && reason == CB_REJECT_OPEN && p.bits == 0xDEADBEEF);
    CHECK_STATUS(cb_breaker_try_acquire(b, 103, &p, NULL, NULL, NULL), CB_STATUS_REJECTED);
    CHECK_STATUS(cb_breaker_state(b, 500, &st), CB_STATUS_OK);
    CHECK(st == CB_STATE_OPEN);
    CHECK_STATUS(cb_breaker_state(b, 1002, &st), CB_STATUS_OK);
    CHECK(st == CB_STATE_HALF_OPEN);
    CHECK_STATUS(cb_breaker_snapshot(b, 502, &snap), CB_STATUS_OK);
    CHECK(snap.state == CB_STATE_OPEN && snap.retry_after_ms == 500);
    CHECK(snap.calls == 2 && snap.failures == 2 && snap.rejected == 2 && snap.slow == 0);
    CHECK(snap.transitions[CB_STATE_OPEN] == 1);

    /* Half-open: the first acquire after the deadline moves there and gets the probe. */
    CHECK_STATUS(cb_breaker_try_acquire(b, 1002, &p, NULL, NULL, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.from == CB_STATE_OPEN && tr.to == CB_STATE_HALF_OPEN);
    CHECK(tr.cause == CB_CAUSE_OPEN_ELAPSED);
    {
        cb_permit q;
        CHECK_STATUS(cb_breaker_try_acquire(b, 1003, &q, &retry, &reason, NULL), CB_STATUS_REJECTED);
        CHECK(reason == CB_REJECT_HALF_OPEN_FULL && retry <= 1000);
    }
    /* Dropping the probe frees the slot (and settles it); a success closes the circuit. */
    CHECK_STATUS(cb_breaker_drop(b, &p, 1004), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_drop(b, &p, 1004), CB_STATUS_PERMIT_SETTLED);
    CHECK_STATUS(cb_breaker_try_acquire(b, 1005, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, 1, 1006, NULL, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.to == CB_STATE_CLOSED && tr.cause == CB_CAUSE_PROBES_SUCCEEDED);

    /* Manual control: each is one transition. */
    CHECK_STATUS(cb_breaker_force_open(b, 2000, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.to == CB_STATE_FORCED_OPEN && tr.cause == CB_CAUSE_FORCE_OPEN);
    CHECK_STATUS(cb_breaker_try_acquire(b, 2001, &p, &retry, &reason, NULL), CB_STATUS_REJECTED);
    CHECK(retry == CB_RETRY_AFTER_NONE && reason == CB_REJECT_FORCED_OPEN);
    CHECK_STATUS(cb_breaker_force_closed(b, 2002, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_state(b, 2002, &st), CB_STATUS_OK);
    CHECK(st == CB_STATE_DISABLED);
    CHECK_STATUS(cb_breaker_metrics_only(b, 2003, &tr), CB_STATUS_OK);
    CHECK(tr.from == CB_STATE_DISABLED && tr.to == CB_STATE_METRICS_ONLY && tr.cause == CB_CAUSE_METRICS_ONLY);
    CHECK_STATUS(cb_breaker_reset(b, 2004, &tr), CB_STATUS_OK);
    CHECK(tr.to == CB_STATE_CLOSED && tr.cause == CB_CAUSE_RESET);

    CHECK_STATUS(cb_breaker_config(b, &c), CB_STATUS_OK);
    CHECK(c.window_kind == CB_WINDOW_KIND_CONSECUTIVE && c.consecutive_failures == 2);
    CHECK_STATUS(cb_breaker_free(b), CB_STATUS_OK);
}

static void test_placement(void) {
    size_t size = cb_breaker_size(), align = cb_breaker_align();
    unsigned char *raw = (unsigned char *)malloc(size + 2 * align);
    unsigned char *aligned = raw + (align - ((uintptr_t)raw % align)) % align;
    cb_config c = consecutive(1);
    cb_breaker *b = NULL, *b2 = NULL;
    cb_permit p;
    cb_transition tr;

    CHECK(size > 0 && align > 0 && (align & (align - 1)) == 0);
    CHECK_STATUS(cb_breaker_init(NULL, size, &c, &b), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_init(aligned, size, NULL, &b), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_init(aligned, size, &c, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_init(aligned, size - 1, &c, &b), CB_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(cb_breaker_init(aligned + 1, size, &c, &b), CB_STATUS_MISALIGNED);
    CHECK(b == NULL);
    /* Not initialized yet: nothing to attach to. */
    memset(aligned, 0, size);
    CHECK_STATUS(cb_breaker_attach(aligned, size, &b2), CB_STATUS_INVALID_ARGUMENT);
    c.window_kind = 9;
    CHECK_STATUS(cb_breaker_init(aligned, size, &c, &b), CB_STATUS_INVALID_ARGUMENT);
    c.window_kind = CB_WINDOW_KIND_CONSECUTIVE;
    CHECK_STATUS(cb_breaker_init(aligned, size, &c, &b), CB_STATUS_OK);
    CHECK(b == (cb_breaker *)aligned);
    CHECK_STATUS(cb_breaker_attach(aligned, size, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_attach(aligned, size - 1, &b2), CB_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(cb_breaker_attach(aligned + 1, size, &b2), CB_STATUS_MISALIGNED);
    CHECK_STATUS(cb_breaker_attach(aligned, size, &b2), CB_STATUS_OK);
    CHECK(b2 == b);

    CHECK_STATUS(cb_breaker_try_acquire(b, 1, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b2, &p, CB_OUTCOME_FAILURE, CB_DURATION_NONE, 1, NULL, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.to == CB_STATE_OPEN);
    /* A placed breaker is the caller's memory: _free refuses it. */
    CHECK_STATUS(cb_breaker_free(b), CB_STATUS_INVALID_ARGUMENT);
    free(raw);
}

/* Each permit is settled exactly once: a second record or drop is refused and records
 * nothing; so is a copy of a settled permit. */
static void test_settle_once(void) {
    cb_config c = consecutive(1);
    cb_breaker *b = NULL;
    cb_permit p, copy;
    cb_transition tr;
    cb_snapshot snap;
    uint64_t d = 0;
    CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_OK);

    CHECK_STATUS(cb_breaker_try_acquire(b, 1, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 2, &d, &tr), CB_STATUS_OK);
    CHECK(cb_permit_is_settled(&p) && d == CB_DURATION_NONE);
    memset(&tr, 0x5A, sizeof tr);
    d = 77;
    /* A failure now would trip consecutive(1): it must not be recorded. */
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_FAILURE, CB_DURATION_NONE, 3, &d, &tr), CB_STATUS_PERMIT_SETTLED);
    CHECK(d == 77 && tr.at_ms != 3); /* outputs untouched */
    CHECK_STATUS(cb_breaker_drop(b, &p, 3), CB_STATUS_PERMIT_SETTLED);
    copy = p;
    CHECK_STATUS(cb_breaker_record(b, &copy, CB_OUTCOME_FAILURE, CB_DURATION_NONE, 3, NULL, NULL), CB_STATUS_PERMIT_SETTLED);
    CHECK_STATUS(cb_breaker_snapshot(b, 4, &snap), CB_STATUS_OK);
    CHECK(snap.calls == 1 && snap.successes == 1 && snap.failures == 0 && snap.state == CB_STATE_CLOSED);

    /* Dropped, then recorded: refused as well. */
    CHECK_STATUS(cb_breaker_try_acquire(b, 5, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_drop(b, &p, 5), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_FAILURE, CB_DURATION_NONE, 6, NULL, NULL), CB_STATUS_PERMIT_SETTLED);
    CHECK_STATUS(cb_breaker_snapshot(b, 6, &snap), CB_STATUS_OK);
    CHECK(snap.calls == 2 && snap.ignored == 1 && snap.failures == 0);
    CHECK_STATUS(cb_breaker_free(b), CB_STATUS_OK);
}

/* The core's timing rule: timed when the slow-call rule is on or a sink is attached; a timed
 * call reports its duration itself; a measurement is reported as given; UNTIMED reports none. */
static void test_timing(void) {
    cb_config c;
    cb_breaker *b = NULL;
    cb_permit p;
    cb_snapshot snap;
    uint64_t d = 0;
    cb_config_default(&c);
    c.slow_call_duration_ms = 100;
    CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_OK);
    /* Slow rule off: untimed, unless a sink is attached. */
    CHECK_STATUS(cb_breaker_try_acquire(b, 0, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK(!cb_permit_is_timed(&p));
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 500, &d, NULL), CB_STATUS_OK);
    CHECK(d == CB_DURATION_NONE);
    CHECK_STATUS(cb_breaker_begin(b, 0, false, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK(!cb_permit_is_timed(&p));
    CHECK_STATUS(cb_breaker_drop(b, &p, 0), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_begin(b, 1000, true, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK(cb_permit_is_timed(&p));
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_FAILURE, CB_DURATION_NONE, 1150, &d, NULL), CB_STATUS_OK);
    CHECK(d == 150);
    CHECK_STATUS(cb_breaker_begin(b, 2000, true, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_CANCELLED, CB_DURATION_NONE, 1990, &d, NULL), CB_STATUS_OK);
    CHECK(d == 0); /* time went back: 0, reported for every ending */
    CHECK_STATUS(cb_breaker_snapshot(b, 2000, &snap), CB_STATUS_OK);
    CHECK(snap.successes == 1 && snap.failures == 1 && snap.ignored == 2 && snap.slow == 1);
    CHECK_STATUS(cb_breaker_free(b), CB_STATUS_OK);

    /* Slow rule on: try_acquire's permits are timed. */
    c.slow_call_rate_threshold = 50;
    CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_try_acquire(b, 10, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK(cb_permit_is_timed(&p));
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 260, &d, NULL), CB_STATUS_OK);
    CHECK(d == 250);
    CHECK_STATUS(cb_breaker_try_acquire(b, 300, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, 40, 900, &d, NULL), CB_STATUS_OK);
    CHECK(d == 40); /* the caller's measurement */
    CHECK_STATUS(cb_breaker_try_acquire(b, 1000, &p, NULL, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_UNTIMED, 9000, &d, NULL), CB_STATUS_OK);
    CHECK(d == CB_DURATION_NONE);
    CHECK_STATUS(cb_breaker_snapshot(b, 9000, &snap), CB_STATUS_OK);
    CHECK(snap.successes == 3 && snap.slow == 1);
    CHECK_STATUS(cb_breaker_free(b), CB_STATUS_OK);
}

/* trip (Open with a real deadline, recovers by itself) and half_open (probes now). */
static void test_trip_and_half_open(void) {
    cb_config c = consecutive(5);
    cb_breaker *b = NULL;
    cb_permit p;
    cb_transition tr;
    cb_reject_reason reason = 99;
    uint64_t retry = 0;
    cb_state st;
    c.open_duration_ms = 500;
    c.open_duration_multiplier = 2.0;
    CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_OK);

    CHECK_STATUS(cb_breaker_trip(b, 0, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.from == CB_STATE_CLOSED && tr.to == CB_STATE_OPEN && tr.cause == CB_CAUSE_TRIP);
    CHECK_STATUS(cb_breaker_try_acquire(b, 100, &p, &retry, &reason, NULL), CB_STATUS_REJECTED);
    CHECK(retry == 400 && reason == CB_REJECT_OPEN);
    /* Recovers by itself (unlike force_open). */
    CHECK_STATUS(cb_breaker_try_acquire(b, 500, &p, NULL, NULL, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.to == CB_STATE_HALF_OPEN && tr.cause == CB_CAUSE_OPEN_ELAPSED);
    /* Tripping again from half-open is one more consecutive trip: the backoff doubles, and
     * the probe admitted before it is stale. */
    CHECK_STATUS(cb_breaker_trip(b, 600, &tr), CB_STATUS_OK);
    CHECK(tr.from == CB_STATE_HALF_OPEN && tr.to == CB_STATE_OPEN && tr.cause == CB_CAUSE_TRIP);
    {
        cb_permit q;
        CHECK_STATUS(cb_breaker_try_acquire(b, 600, &q, &retry, NULL, NULL), CB_STATUS_REJECTED);
        CHECK(retry == 1000);
    }
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 601, NULL, &tr), CB_STATUS_OK);
    CHECK(!tr.occurred); /* stale */

    /* half_open: probes admitted before the deadline; a success closes. */
    CHECK_STATUS(cb_breaker_half_open(b, 700, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.from == CB_STATE_OPEN && tr.to == CB_STATE_HALF_OPEN && tr.cause == CB_CAUSE_HALF_OPEN);
    CHECK_STATUS(cb_breaker_state(b, 700, &st), CB_STATUS_OK);
    CHECK(st == CB_STATE_HALF_OPEN);
    CHECK_STATUS(cb_breaker_try_acquire(b, 701, &p, NULL, NULL, &tr), CB_STATUS_OK);
    CHECK(!tr.occurred);
    CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 702, NULL, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.to == CB_STATE_CLOSED && tr.cause == CB_CAUSE_PROBES_SUCCEEDED);
    CHECK_STATUS(cb_breaker_free(b), CB_STATUS_OK);
}

/* Defaults and presets are the core's; an unknown preset name is an invalid argument. */
static void test_presets(void) {
    cb_config c, before;
    cb_breaker *b = NULL;
    size_t i, n = 0;
    int found_http = 0;
    for (i = 0; cb_config_preset_name(i) != NULL; i++) {
        const char *name = cb_config_preset_name(i);
        memset(&c, 0xAB, sizeof c);
        CHECK_STATUS(cb_config_preset(name, &c), CB_STATUS_OK);
        CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_OK);
        CHECK_STATUS(cb_breaker_free(b), CB_STATUS_OK);
        if (strcmp(name, "http_api") == 0) {
            found_http = 1;
            CHECK(c.window_kind == CB_WINDOW_KIND_TIME && c.window_duration_ms == 30000 && c.window_buckets == 6);
        }
        n++;
    }
    CHECK(n == 7 && found_http);
    CHECK_STATUS(cb_config_preset("pybreaker", &c), CB_STATUS_OK);
    CHECK(c.window_kind == CB_WINDOW_KIND_CONSECUTIVE && c.consecutive_failures == 5);
    CHECK(c.open_duration_ms == 60000 && c.half_open_max_calls == 1 && c.success_threshold == 1);
    CHECK_STATUS(cb_config_preset("agents_platform", &c), CB_STATUS_OK);
    CHECK(c.consecutive_failures == 5 && c.half_open_max_calls == 3 && c.success_threshold == 2);
    before = c;
    CHECK_STATUS(cb_config_preset("nope", &c), CB_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cb_config_preset("Cache", &c), CB_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cb_config_preset("", &c), CB_STATUS_INVALID_ARGUMENT);
    CHECK(memcmp(&before, &c, sizeof c) == 0); /* untouched */
    CHECK_STATUS(cb_config_preset(NULL, &c), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_config_preset("cache", NULL), CB_STATUS_NULL_PARAMETER);
}

/* Health from the core's rule: healthy while a breaker admits calls. */
static void test_health(void) {
    static const cb_state healthy[] = {CB_STATE_CLOSED, CB_STATE_DISABLED, CB_STATE_METRICS_ONLY};
    static const cb_state unhealthy[] = {CB_STATE_OPEN, CB_STATE_HALF_OPEN, CB_STATE_FORCED_OPEN};
    cb_health h = 99;
    size_t i;
    for (i = 0; i < 3; i++) {
        CHECK_STATUS(cb_health_of(healthy[i], &h), CB_STATUS_OK);
        CHECK(h == CB_HEALTH_HEALTHY);
        CHECK_STATUS(cb_health_of(unhealthy[i], &h), CB_STATUS_OK);
        CHECK(h == CB_HEALTH_UNHEALTHY);
    }
    h = 99;
    CHECK_STATUS(cb_health_of(6, &h), CB_STATUS_INVALID_ARGUMENT);
    CHECK(h == 99);
    CHECK_STATUS(cb_health_of(CB_STATE_OPEN, NULL), CB_STATUS_NULL_PARAMETER);
}

int main(void) {
    test_config();
    test_strings();
    test_new_free_and_nulls();
    test_placement();
    test_settle_once();
    test_timing();
    test_trip_and_half_open();
    test_presets();
    test_health();
    return cb_test_finish("smoke");
}
