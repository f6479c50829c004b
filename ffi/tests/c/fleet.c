/* The fleet (cb_fleet_*) against a real redis-server: run it through with-redis.sh, which
 * starts one on a free port of 127.0.0.1 and passes CB_TEST_REDIS_URL and CB_TEST_REDIS_PID.
 *
 * Two breakers in this process (one from cb_breaker_new, one placed with cb_breaker_init) on
 * one fleet: one sees failures, the other opens within about a second; operator moves move
 * both; in quorum mode one local trip leaves the fleet closed and a second opens it; a member with another config is refused; with the server stopped (SIGSTOP) a member
 * shows degraded and calls go on, and it rejoins after SIGCONT. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "libcb.h"
#include "check.h"

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What the callbacks saw (they run on the agents' threads). */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned clock_reads = 0;
static unsigned fleet_transitions = 0;
static unsigned other_transitions = 0;

static uint64_t counting_clock(void *ctx) {
    pthread_mutex_lock(&seen_lock);
    clock_reads += ctx == &clock_reads;
    pthread_mutex_unlock(&seen_lock);
    return now_ms();
}

static void on_transition(void *ctx, const cb_transition *t) {
    (void)ctx;
    pthread_mutex_lock(&seen_lock);
    if (t->occurred && t->cause == CB_CAUSE_FLEET) {
        fleet_transitions++;
    } else {
        other_transitions++;
    }
    pthread_mutex_unlock(&seen_lock);
}

static unsigned seen(unsigned *counter) {
    pthread_mutex_lock(&seen_lock);
    unsigned v = *counter;
    pthread_mutex_unlock(&seen_lock);
    return v;
}

static cb_config fleet_config(uint32_t minimum_calls) {
    cb_config c;
    cb_config_default(&c);
    c.window_kind = CB_WINDOW_KIND_COUNT;
    c.window_size = 100;
    c.minimum_calls = minimum_calls;
    c.failure_rate_threshold = 50;
    c.open_duration_ms = 60000;
    return c;
}

static cb_membership membership(const cb_fleet *f) {
    cb_fleet_info info;
    if (cb_fleet_status(f, &info) != CB_STATUS_OK) return 99;
    return info.status;
}

/* Polls until `f` shows `want` or `timeout_ms` passes; the time it took, or -1. */
static long wait_membership(const cb_fleet *f, cb_membership want, unsigned timeout_ms) {
    uint64_t start = now_ms();
    while (now_ms() - start < timeout_ms) {
        if (membership(f) == want) return (long)(now_ms() - start);
        sleep_ms(10);
    }
    cb_fleet_info info;
    cb_fleet_status(f, &info);
    fprintf(stderr, "membership %s, want %s (last error: %s)\n", cb_membership_str(info.status),
            cb_membership_str(want), info.last_error);
    return -1;
}

static cb_state state(const cb_breaker *b) {
    cb_state s = 99;
    cb_breaker_state(b, now_ms(), &s);
    return s;
}

/* Polls until `b` is in `want` or `timeout_ms` passes; the time it took, or -1. */
static long wait_state(const cb_breaker *b, cb_state want, unsigned timeout_ms) {
    uint64_t start = now_ms();
    while (now_ms() - start < timeout_ms) {
        if (state(b) == want) return (long)(now_ms() - start);
        sleep_ms(5);
    }
    fprintf(stderr, "state %s, want %s\n", cb_state_str(state(b)), cb_state_str(want));
    return -1;
}

static void record(const cb_breaker *b, cb_outcome outcome, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        cb_permit p;
        if (cb_breaker_try_acquire(b, now_ms(), &p, NULL, NULL, NULL) != CB_STATUS_OK) return;
        CHECK_STATUS(cb_breaker_record(b, &p, outcome, CB_DURATION_NONE, now_ms(), NULL, NULL), CB_STATUS_OK);
    }
}

static cb_fleet_options options(const char *url, const char *name) {
    cb_fleet_options o;
    cb_fleet_options_init(&o);
    o.url = url;
    o.name = name;
    o.sync_interval_ms = 50;
    o.timeout_ms = 250;
    return o;
}

/* Every option out of range has its own status, named in cb_status_str; nothing written. */
static void test_bad_options(const cb_breaker *b, const char *url) {
    cb_fleet *f = (cb_fleet *)&f; /* a sentinel: must survive every error */
    cb_fleet *sentinel = f;
    cb_fleet_options o;
    memset(&o, 0xAB, sizeof o);
    CHECK_STATUS(cb_fleet_options_init(&o), CB_STATUS_OK);
    CHECK(o.url == NULL && o.name == NULL && o.prefix == NULL && o.member_id == NULL);
    CHECK(o.sync_interval_ms == 0 && o.window_ms == 0 && o.quorum == 0 && o.timeout_ms == 0);
    CHECK(o.now_ms == NULL && o.on_transition == NULL);
    CHECK_STATUS(cb_fleet_options_init(NULL), CB_STATUS_NULL_PARAMETER);

    CHECK_STATUS(cb_fleet_join(b, &o, &f), CB_STATUS_FLEET_URL); /* url NULL */
    o = options("http://127.0.0.1:6379", "x");
    CHECK_STATUS(cb_fleet_join(b, &o, &f), CB_STATUS_FLEET_URL);
    CHECK(strstr(cb_status_str(CB_STATUS_FLEET_URL), "url") != NULL);
    o = options(url, "");
    CHECK_STATUS(cb_fleet_join(b, &o, &f), CB_STATUS_FLEET_NAME);
    CHECK(strstr(cb_status_str(CB_STATUS_FLEET_NAME), "name") != NULL);
    o = options(url, "a{b}");
    CHECK_STATUS(cb_fleet_join(b, &o, &f), CB_STATUS_FLEET_NAME);
    o = options(url, "x");
    o.prefix = "p{";
    CHECK_STATUS(cb_fleet_join(b, &o, &f), CB_STATUS_FLEET_PREFIX);
    CHECK(strstr(cb_status_str(CB_STATUS_FLEET_PREFIX), "prefix") != NULL);
    o = options(url, "x");
    o.window_ms = 1500;
    CHECK_STATUS(cb_fleet_join(b, &o, &f), CB_STATUS_FLEET_WINDOW);
    CHECK(strstr(cb_status_str(CB_STATUS_FLEET_WINDOW), "window") != NULL);
    o = options(url, "x");
    o.sync_interval_ms = 5;
    CHECK_STATUS(cb_fleet_join(b, &o, &f), CB_STATUS_FLEET_SYNC_INTERVAL);
    CHECK(strstr(cb_status_str(CB_STATUS_FLEET_SYNC_INTERVAL), "sync_interval") != NULL);
    o = options(url, "x");
    o.member_id = "a#b";
    CHECK_STATUS(cb_fleet_join(b, &o, &f), CB_STATUS_FLEET_MEMBER_ID);
    CHECK(strstr(cb_status_str(CB_STATUS_FLEET_MEMBER_ID), "member_id") != NULL);
    o = options(url, "x");
    CHECK_STATUS(cb_fleet_join(NULL, &o, &f), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_fleet_join(b, NULL, &f), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_fleet_join(b, &o, NULL), CB_STATUS_NULL_PARAMETER);
    CHECK(f == sentinel);

    cb_fleet_info info;
    CHECK_STATUS(cb_fleet_status(NULL, &info), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_fleet_force_open(NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_fleet_force_closed(NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_fleet_reset(NULL), CB_STATUS_NULL_PARAMETER);
    CHECK_STATUS(cb_fleet_leave(NULL), CB_STATUS_OK);
    CHECK(strcmp(cb_membership_str(CB_MEMBERSHIP_DEGRADED), "degraded") == 0);
    CHECK(strcmp(cb_membership_str(9), "unknown") == 0);
    CHECK(strcmp(cb_cause_str(CB_CAUSE_FLEET), "fleet") == 0);
    CHECK(strcmp(cb_cause_str(CB_CAUSE_QUORUM), "quorum") == 0);
}

/* Quorum 2: one member tripping on its own leaves the fleet closed; a second one opens it,
 * and the member that saw no failure follows. */
static void test_quorum(const char *url, const char *fleet_name) {
    char name[80];
    snprintf(name, sizeof name, "%s-quorum", fleet_name);
    cb_config config = fleet_config(20);
    cb_breaker *m[3] = {NULL, NULL, NULL};
    cb_fleet *f[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(cb_breaker_new(&config, &m[i]), CB_STATUS_OK);
        cb_fleet_options o = options(url, name);
        o.quorum = 2;
        CHECK_STATUS(cb_fleet_join(m[i], &o, &f[i]), CB_STATUS_OK);
        CHECK(wait_membership(f[i], CB_MEMBERSHIP_JOINED, 3000) >= 0);
    }
    record(m[0], CB_OUTCOME_FAILURE, 20);
    CHECK(state(m[0]) == CB_STATE_OPEN);
    sleep_ms(400); /* several sync intervals: the fleet saw one local trip */
    cb_fleet_info info;
    CHECK_STATUS(cb_fleet_status(f[2], &info), CB_STATUS_OK);
    CHECK(info.has_state && info.state == CB_STATE_CLOSED);
    CHECK(state(m[1]) == CB_STATE_CLOSED && state(m[2]) == CB_STATE_CLOSED);
    record(m[1], CB_OUTCOME_FAILURE, 20);
    long took = wait_state(m[2], CB_STATE_OPEN, 1000);
    printf("quorum: the third member opened %ld ms after the second local trip\n", took);
    CHECK(took >= 0);
    CHECK_STATUS(cb_fleet_status(f[2], &info), CB_STATUS_OK);
    CHECK(info.state == CB_STATE_OPEN);
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(cb_fleet_leave(f[i]), CB_STATUS_OK);
        CHECK_STATUS(cb_breaker_free(m[i]), CB_STATUS_OK);
    }
}

int main(void) {
    const char *url = getenv("CB_TEST_REDIS_URL");
    const char *pid_text = getenv("CB_TEST_REDIS_PID");
    if (url == NULL || pid_text == NULL) {
        fprintf(stderr, "run me through ffi/tests/c/with-redis.sh (CB_TEST_REDIS_URL, CB_TEST_REDIS_PID)\n");
        return 2;
    }
    pid_t redis = (pid_t)atol(pid_text);
    char name[64];
    snprintf(name, sizeof name, "c-fleet-%ld", (long)getpid());

    /* A: on the heap. B: placed in caller memory. Same config. */
    cb_config config = fleet_config(20);
    cb_breaker *a = NULL, *b = NULL;
    CHECK_STATUS(cb_breaker_new(&config, &a), CB_STATUS_OK);
    void *mem = NULL;
    CHECK(posix_memalign(&mem, cb_breaker_align() < sizeof(void *) ? sizeof(void *) : cb_breaker_align(),
                         cb_breaker_size()) == 0);
    CHECK_STATUS(cb_breaker_init(mem, cb_breaker_size(), &config, &b), CB_STATUS_OK);

    test_bad_options(a, url);
    test_quorum(url, name);

    /* A reads CLOCK_MONOTONIC (the default); B the caller's clock, with a transition callback. */
    cb_fleet *fa = NULL, *fb = NULL;
    cb_fleet_options oa = options(url, name);
    cb_fleet_options ob = options(url, name);
    ob.now_ms = counting_clock;
    ob.now_ms_ctx = &clock_reads;
    ob.on_transition = on_transition;
    ob.member_id = "member-b";
    CHECK_STATUS(cb_fleet_join(a, &oa, &fa), CB_STATUS_OK);
    CHECK_STATUS(cb_fleet_join(b, &ob, &fb), CB_STATUS_OK);
    CHECK(wait_membership(fa, CB_MEMBERSHIP_JOINED, 3000) >= 0);
    CHECK(wait_membership(fb, CB_MEMBERSHIP_JOINED, 3000) >= 0);
    CHECK(seen(&clock_reads) > 0);
    cb_fleet_info info;
    memset(&info, 0xAB, sizeof info);
    CHECK_STATUS(cb_fleet_status(fb, &info), CB_STATUS_OK);
    CHECK(info.has_state && info.state == CB_STATE_CLOSED && info.generation >= 1);
    CHECK(info.syncs >= 1 && info.last_error[0] == '\0' && info.fleet_fingerprint == 0);

    /* Trip: A sees every failure, B none; B opens within about a second. */
    sleep_ms(200); /* both members counted */
    CHECK_STATUS(cb_fleet_status(fb, &info), CB_STATUS_OK);
    CHECK(info.members == 2);
    record(a, CB_OUTCOME_FAILURE, 20);
    CHECK(state(a) == CB_STATE_OPEN);
    long took = wait_state(b, CB_STATE_OPEN, 1000);
    printf("fleet: B opened %ld ms after A's failures\n", took);
    CHECK(took >= 0);
    cb_permit p;
    uint64_t retry = 0;
    cb_reject_reason why = 99;
    CHECK_STATUS(cb_breaker_try_acquire(b, now_ms(), &p, &retry, &why, NULL), CB_STATUS_REJECTED);
    CHECK(why == CB_REJECT_OPEN && retry > 50000 && retry <= 60000);
    CHECK(seen(&fleet_transitions) >= 1 && seen(&other_transitions) == 0);
    CHECK_STATUS(cb_fleet_status(fa, &info), CB_STATUS_OK);
    CHECK(info.state == CB_STATE_OPEN);

    /* Operators: every move reaches both members within about a second. */
    CHECK_STATUS(cb_fleet_reset(fa), CB_STATUS_OK);
    CHECK(wait_state(a, CB_STATE_CLOSED, 1000) >= 0);
    CHECK(wait_state(b, CB_STATE_CLOSED, 1000) >= 0);
    CHECK_STATUS(cb_fleet_force_open(fb), CB_STATUS_OK);
    CHECK(wait_state(a, CB_STATE_FORCED_OPEN, 1000) >= 0);
    CHECK(wait_state(b, CB_STATE_FORCED_OPEN, 1000) >= 0);
    CHECK_STATUS(cb_breaker_try_acquire(a, now_ms(), &p, &retry, &why, NULL), CB_STATUS_REJECTED);
    CHECK(why == CB_REJECT_FORCED_OPEN && retry == CB_RETRY_AFTER_NONE);
    CHECK_STATUS(cb_fleet_force_closed(fa), CB_STATUS_OK);
    CHECK(wait_state(a, CB_STATE_DISABLED, 1000) >= 0);
    CHECK(wait_state(b, CB_STATE_DISABLED, 1000) >= 0);
    CHECK_STATUS(cb_fleet_reset(fb), CB_STATUS_OK);
    CHECK(wait_state(a, CB_STATE_CLOSED, 1000) >= 0);
    CHECK(wait_state(b, CB_STATE_CLOSED, 1000) >= 0);

    /* Another config on the same fleet: refused, runs alone, operator moves refused. */
    cb_config other = fleet_config(21);
    cb_breaker *c = NULL;
    cb_fleet *fc = NULL;
    CHECK_STATUS(cb_breaker_new(&other, &c), CB_STATUS_OK);
    cb_fleet_options oc = options(url, name);
    CHECK_STATUS(cb_fleet_join(c, &oc, &fc), CB_STATUS_OK);
    CHECK(wait_membership(fc, CB_MEMBERSHIP_REFUSED, 3000) >= 0);
    CHECK_STATUS(cb_fleet_status(fc, &info), CB_STATUS_OK);
    CHECK(info.fleet_fingerprint != 0);
    CHECK_STATUS(cb_fleet_force_open(fc), CB_STATUS_FLEET_REFUSED);
    CHECK(strstr(cb_status_str(CB_STATUS_FLEET_REFUSED), "differs") != NULL);
    record(c, CB_OUTCOME_SUCCESS, 3);
    CHECK(state(c) == CB_STATE_CLOSED && state(a) == CB_STATE_CLOSED);
    CHECK_STATUS(cb_fleet_leave(fc), CB_STATUS_OK);
    CHECK_STATUS(cb_breaker_free(c), CB_STATUS_OK);

    /* The store stops answering: degraded within the timeout, calls go on unblocked, operator
     * moves fail with a store error; it answers again: joined again. */
    CHECK(kill(redis, SIGSTOP) == 0);
    CHECK(wait_membership(fa, CB_MEMBERSHIP_DEGRADED, 3000) >= 0);
    CHECK(wait_membership(fb, CB_MEMBERSHIP_DEGRADED, 3000) >= 0);
    CHECK_STATUS(cb_fleet_status(fa, &info), CB_STATUS_OK);
    CHECK(info.failures >= 1 && strncmp(info.last_error, "fleet store: ", 13) == 0);
    uint64_t t0 = now_ms();
    record(a, CB_OUTCOME_SUCCESS, 100);
    record(b, CB_OUTCOME_SUCCESS, 100);
    CHECK(now_ms() - t0 < 200);
    CHECK(state(a) == CB_STATE_CLOSED && state(b) == CB_STATE_CLOSED);
    CHECK_STATUS(cb_fleet_force_open(fa), CB_STATUS_FLEET_STORE);
    CHECK(strstr(cb_status_str(CB_STATUS_FLEET_STORE), "fleet store") != NULL);
    CHECK(kill(redis, SIGCONT) == 0);
    CHECK(wait_membership(fa, CB_MEMBERSHIP_JOINED, 5000) >= 0);
    CHECK(wait_membership(fb, CB_MEMBERSHIP_JOINED, 5000) >= 0);

    /* Leave, then free: the breakers keep working alone. */
    CHECK_STATUS(cb_fleet_leave(fa), CB_STATUS_OK);
    CHECK_STATUS(cb_fleet_leave(fb), CB_STATUS_OK);
    record(a, CB_OUTCOME_SUCCESS, 1);
    record(b, CB_OUTCOME_SUCCESS, 1);
    CHECK_STATUS(cb_breaker_free(a), CB_STATUS_OK);
    free(mem);
    return cb_test_finish("fleet");
}
