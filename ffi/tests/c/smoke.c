/* Every function of libcb.h, with good arguments, NULL arguments and bad enum values. */
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
    CHECK(c.window_kind == CB_WINDOW_KIND_COUNT && c.window_size == 100);
    CHECK(c.failure_rate_threshold == 50 && c.minimum_calls == 100);
    CHECK(c.open_duration_ms == 60000 && c.half_open_max_calls == 1 && c.success_threshold == 1);
    CHECK(c.open_duration_multiplier == 1.0);
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
    c.window_kind = CB_WINDOW_KIND_TIME;
    c.window_duration_ms = 1001;
    CHECK_STATUS(cb_config_validate(&c), CB_STATUS_CONFIG_WINDOW_DURATION);
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
    CHECK(strcmp(cb_cause_str(99), "unknown") == 0);
}

static void test_new_free_and_nulls(void) {
    cb_config c = consecutive(2);
    cb_breaker *b = NULL;
    cb_permit p = {0};
    cb_state st;
    cb_snapshot snap;
    cb_transition tr;
    uint64_t retry = 0;

    CHECK_STATUS(cb_breaker_new(NULL, &b), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_new(&c, NULL), CB_STATUS_NULL_PARAMETER);
    c.success_threshold = 32;
    CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_CONFIG_SUCCESS_THRESHOLD);
    CHECK(b == NULL); /* outputs written only on success */
    c.success_threshold = 1;
    CHECK_STATUS(cb_breaker_new(&c, &b), CB_STATUS_OK);
    CHECK(b != NULL);

    CHECK_STATUS(cb_breaker_try_acquire(NULL, 0, &p, &retry, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_try_acquire(b, 0, NULL, &retry, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_record(NULL, p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, 0, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_drop(NULL, p, 0), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_state(NULL, 0, &st), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_state(b, 0, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_snapshot(NULL, 0, &snap), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_snapshot(b, 0, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_force_open(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_force_closed(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_metrics_only(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_reset(NULL, 0, &tr), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_config(NULL, &c), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_config(b, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_breaker_free(NULL), CB_STATUS_OK);

    /* A bad outcome is refused and records nothing. */
    CHECK_STATUS(cb_breaker_try_acquire(b, 1, &p, NULL, NULL), CB_STATUS_OK);
    {
        unsigned char before[sizeof tr];
        memset(&tr, 0x5A, sizeof tr);
        memcpy(before, &tr, sizeof tr);
        CHECK_STATUS(cb_breaker_record(b, p, 3, CB_DURATION_NONE, 1, &tr), CB_STATUS_INVALID_ARGUMENT);
        CHECK(memcmp(before, &tr, sizeof tr) == 0); /* untouched */
    }
    CHECK_STATUS(cb_breaker_snapshot(b, 1, &snap), CB_STATUS_OK);
    CHECK(snap.calls == 0);

    /* Two failures trip a consecutive(2) breaker; exactly that call sees the transition. */
    CHECK_STATUS(cb_breaker_record(b, p, CB_OUTCOME_FAILURE, 5, 1, &tr), CB_STATUS_OK);
    CHECK(!tr.occurred);
    CHECK_STATUS(cb_breaker_try_acquire(b, 2, &p, NULL, &tr), CB_STATUS_OK);
    CHECK(!tr.occurred);
    CHECK_STATUS(cb_breaker_record(b, p, CB_OUTCOME_FAILURE, CB_DURATION_NONE, 2, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.from == CB_STATE_CLOSED && tr.to == CB_STATE_OPEN);
    CHECK(tr.cause == CB_CAUSE_CONSECUTIVE_FAILURES && tr.at_ms == 2);

    /* Open: rejected with retry-after; the permit out parameter is untouched. */
    p.bits = 0xDEADBEEF;
    CHECK_STATUS(cb_breaker_try_acquire(b, 102, &p, &retry, &tr), CB_STATUS_REJECTED);
    CHECK(retry == 900 && p.bits == 0xDEADBEEF);
    CHECK_STATUS(cb_breaker_try_acquire(b, 103, &p, NULL, NULL), CB_STATUS_REJECTED);
    CHECK_STATUS(cb_breaker_state(b, 500, &st), CB_STATUS_OK);
    CHECK(st == CB_STATE_OPEN);
    CHECK_STATUS(cb_breaker_state(b, 1002, &st), CB_STATUS_OK);
    CHECK(st == CB_STATE_HALF_OPEN);
    CHECK_STATUS(cb_breaker_snapshot(b, 502, &snap), CB_STATUS_OK);
    CHECK(snap.state == CB_STATE_OPEN && snap.retry_after_ms == 500);
    CHECK(snap.calls == 2 && snap.failures == 2 && snap.rejected == 2 && snap.slow == 0);
    CHECK(snap.transitions[CB_STATE_OPEN] == 1);

    /* Half-open: the first acquire after the deadline moves there and gets the probe. */
    CHECK_STATUS(cb_breaker_try_acquire(b, 1002, &p, NULL, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.from == CB_STATE_OPEN && tr.to == CB_STATE_HALF_OPEN);
    CHECK(tr.cause == CB_CAUSE_OPEN_ELAPSED);
    {
        cb_permit q;
        CHECK_STATUS(cb_breaker_try_acquire(b, 1003, &q, &retry, NULL), CB_STATUS_REJECTED);
    }
    /* Dropping the probe frees the slot; a success closes the circuit. */
    CHECK_STATUS(cb_breaker_drop(b, p, 1004), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_try_acquire(b, 1005, &p, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b, p, CB_OUTCOME_SUCCESS, 1, 1006, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.to == CB_STATE_CLOSED && tr.cause == CB_CAUSE_PROBES_SUCCEEDED);

    /* Manual control: each is one transition. */
    CHECK_STATUS(cb_breaker_force_open(b, 2000, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.to == CB_STATE_FORCED_OPEN && tr.cause == CB_CAUSE_FORCE_OPEN);
    CHECK_STATUS(cb_breaker_try_acquire(b, 2001, &p, &retry, NULL), CB_STATUS_REJECTED);
    CHECK(retry == CB_RETRY_AFTER_NONE);
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

    CHECK_STATUS(cb_breaker_try_acquire(b, 1, &p, NULL, NULL), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_record(b2, p, CB_OUTCOME_FAILURE, CB_DURATION_NONE, 1, &tr), CB_STATUS_OK);
    CHECK(tr.occurred && tr.to == CB_STATE_OPEN);
    /* A placed breaker is the caller's memory: _free refuses it. */
    CHECK_STATUS(cb_breaker_free(b), CB_STATUS_INVALID_ARGUMENT);
    free(raw);
}

int main(void) {
    test_config();
    test_strings();
    test_new_free_and_nulls();
    test_placement();
    return cb_test_finish("smoke");
}
