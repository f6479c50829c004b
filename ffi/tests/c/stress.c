/* Threads hammering one breaker: one trip, bounded half-open, exact counters at the end
 * (second settles refused along the way). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libcb.h"
#include "check.h"

#define THREADS 4
#define OPEN_MS 1000000u

static int iterations = 1000000;
static cb_breaker *breaker;
static pthread_barrier_t start;

typedef struct {
    unsigned id;
    uint64_t granted, rejected, successes, failures, ignored;
    uint64_t trips, to_half_open, closes;
    uint64_t other_transitions;
} tally;

static void count(tally *t, const cb_transition *tr) {
    if (!tr->occurred) return;
    if (tr->from == CB_STATE_CLOSED && tr->to == CB_STATE_OPEN) t->trips++;
    else if (tr->from == CB_STATE_OPEN && tr->to == CB_STATE_HALF_OPEN) t->to_half_open++;
    else if (tr->from == CB_STATE_HALF_OPEN && tr->to == CB_STATE_CLOSED) t->closes++;
    else t->other_transitions++;
}

/* Phase 1: every thread records a mix of outcomes at the same times: 20 % failures for the
 * first 90 % of the run (far below the 50 % threshold), then 80 %. The window trips exactly
 * once and stays open (OPEN_MS is far past every `now`). */
static void *phase1(void *arg) {
    tally *t = (tally *)arg;
    uint32_t rng = 0x9E3779B9u * (t->id + 1);
    int i;
    pthread_barrier_wait(&start);
    for (i = 0; i < iterations; i++) {
        cb_permit p;
        cb_transition tr;
        uint64_t now = (uint64_t)i / 16;
        cb_status s = cb_breaker_try_acquire(breaker, now, &p, NULL, NULL, &tr);
        if (s == CB_STATUS_REJECTED) {
            t->rejected++;
            continue;
        }
        if (s != CB_STATUS_OK) abort();
        t->granted++;
        count(t, &tr);
        rng = rng * 1103515245u + 12345u;
        {
            unsigned r = (rng >> 16) % 10;
            unsigned fail_tenths = i < iterations / 10 * 9 ? 2 : 8;
            cb_outcome o = r < fail_tenths ? CB_OUTCOME_FAILURE : r < 9 ? CB_OUTCOME_SUCCESS : CB_OUTCOME_IGNORED;
            if (o == CB_OUTCOME_FAILURE) t->failures++;
            else if (o == CB_OUTCOME_SUCCESS) t->successes++;
            else t->ignored++;
            if (cb_breaker_record(breaker, &p, o, CB_DURATION_NONE, now, NULL, &tr) != CB_STATUS_OK) abort();
            count(t, &tr);
            /* A second settle records nothing (the counters below stay exact). */
            if ((i & 63) == 0 && cb_breaker_record(breaker, &p, CB_OUTCOME_FAILURE, CB_DURATION_NONE, now, NULL, &tr) !=
                                     CB_STATUS_PERMIT_SETTLED)
                abort();
        }
    }
    return NULL;
}

/* Phase 2: after the deadline every thread races for probes and holds them; at most
 * half_open_max_calls are granted, exactly one thread sees Open -> HalfOpen. */
#define PROBES 3
static cb_permit held[THREADS][64];
static int held_n[THREADS];
static void *phase2(void *arg) {
    tally *t = (tally *)arg;
    int i;
    pthread_barrier_wait(&start);
    for (i = 0; i < 1000; i++) {
        cb_permit p;
        cb_transition tr;
        cb_status s = cb_breaker_try_acquire(breaker, (uint64_t)iterations + OPEN_MS, &p, NULL, NULL, &tr);
        if (s == CB_STATUS_OK) {
            t->granted++;
            count(t, &tr);
            if (held_n[t->id] < 64) held[t->id][held_n[t->id]++] = p;
        } else if (s == CB_STATUS_REJECTED) {
            t->rejected++;
        } else {
            abort();
        }
    }
    return NULL;
}

static void run(void *(*fn)(void *), tally *t) {
    pthread_t th[THREADS];
    unsigned i;
    pthread_barrier_init(&start, NULL, THREADS);
    for (i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, fn, &t[i]);
    for (i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
}

int main(int argc, char **argv) {
    cb_config c;
    tally t[THREADS], sum;
    cb_snapshot snap;
    unsigned i;
    int k;
    if (argc > 1) iterations = atoi(argv[1]);

    cb_config_default(&c);
    c.window_size = 64;
    c.minimum_calls = 32;
    c.failure_rate_threshold = 50;
    c.open_duration_ms = OPEN_MS;
    c.half_open_max_calls = PROBES;
    c.success_threshold = PROBES;
    CHECK_STATUS(cb_breaker_new(&c, &breaker), CB_STATUS_OK);

    memset(t, 0, sizeof t);
    for (i = 0; i < THREADS; i++) t[i].id = i;
    run(phase1, t);
    memset(&sum, 0, sizeof sum);
    for (i = 0; i < THREADS; i++) {
        sum.granted += t[i].granted; sum.rejected += t[i].rejected;
        sum.successes += t[i].successes; sum.failures += t[i].failures; sum.ignored += t[i].ignored;
        sum.trips += t[i].trips; sum.other_transitions += t[i].other_transitions + t[i].to_half_open + t[i].closes;
    }
    CHECK(sum.trips == 1);
    CHECK(sum.other_transitions == 0);
    CHECK(sum.granted + sum.rejected == (uint64_t)THREADS * (uint64_t)iterations);
    CHECK_STATUS(cb_breaker_snapshot(breaker, (uint64_t)iterations, &snap), CB_STATUS_OK);
    CHECK(snap.state == CB_STATE_OPEN);
    CHECK(snap.calls == sum.granted);
    CHECK(snap.successes == sum.successes && snap.failures == sum.failures && snap.ignored == sum.ignored);
    CHECK(snap.rejected == sum.rejected);
    CHECK(snap.transitions[CB_STATE_OPEN] == 1);

    memset(t, 0, sizeof t);
    for (i = 0; i < THREADS; i++) t[i].id = i;
    run(phase2, t);
    memset(&sum, 0, sizeof sum);
    for (i = 0; i < THREADS; i++) {
        sum.granted += t[i].granted; sum.rejected += t[i].rejected;
        sum.to_half_open += t[i].to_half_open; sum.other_transitions += t[i].other_transitions + t[i].trips;
    }
    CHECK(sum.granted == PROBES);
    CHECK(sum.to_half_open == 1);
    CHECK(sum.other_transitions == 0);
    CHECK(sum.rejected == (uint64_t)THREADS * 1000u - PROBES);

    /* Every probe succeeds: exactly the last one closes the circuit. */
    {
        int closes = 0;
        for (i = 0; i < THREADS; i++) {
            for (k = 0; k < held_n[i]; k++) {
                cb_transition tr;
                CHECK_STATUS(cb_breaker_record(breaker, &held[i][k], CB_OUTCOME_SUCCESS, 1, (uint64_t)iterations + OPEN_MS + 1, NULL, &tr), CB_STATUS_OK);
                if (tr.occurred && tr.to == CB_STATE_CLOSED) closes++;
            }
        }
        CHECK(closes == 1);
    }
    {
        cb_snapshot after;
        CHECK_STATUS(cb_breaker_snapshot(breaker, (uint64_t)iterations + OPEN_MS + 2, &after), CB_STATUS_OK);
        CHECK(after.state == CB_STATE_CLOSED);
        CHECK(after.calls == snap.calls + PROBES);
        CHECK(after.rejected == snap.rejected + sum.rejected);
        CHECK(after.transitions[CB_STATE_HALF_OPEN] == 1 && after.transitions[CB_STATE_CLOSED] == 1);
    }
    CHECK_STATUS(cb_breaker_free(breaker), CB_STATUS_OK);
    return cb_test_finish("stress");
}
