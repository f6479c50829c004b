/* Two processes, one breaker: a breaker placed with cb_breaker_init in shm_open + mmap
 * (MAP_SHARED) memory; the parent, a forked child and a separately exec'd process record
 * concurrently, and all three see exactly one trip. Then a process dies holding the
 * half-open probe, and the slot comes back after half_open_max_wait. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcb.h"
#include "check.h"

#define PROCS 3
#define OPEN_MS 600000u
#define WAIT_MS 5000u
#define LATER 10000000u

static int iterations = 100000;

typedef struct {
    uint64_t granted, rejected, successes, failures, trips, other;
    int saw_one_trip, attached_ok, config_ok, finished;
} tally;

typedef struct {
    int ready, done;
    tally t[PROCS];
} control;

static size_t control_offset(void) {
    size_t a = 64;
    return (cb_breaker_size() + a - 1) / a * a;
}
static size_t mapping_size(void) { return control_offset() + sizeof(control); }

static cb_config shared_config(void) {
    cb_config c;
    cb_config_default(&c);
    c.window_size = 100;
    c.minimum_calls = 50;
    c.failure_rate_threshold = 50;
    c.open_duration_ms = OPEN_MS;
    c.half_open_max_wait_ms = WAIT_MS;
    return c;
}

static void wait_for(int *counter, int n) {
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < n) usleep(100);
}

/* One process's share: a quarter failures for the first half (never trips), then only
 * failures (trips once, for all of them). */
static void work(cb_breaker *b, control *ctl, int role) {
    tally *t = &ctl->t[role];
    int i;
    __atomic_add_fetch(&ctl->ready, 1, __ATOMIC_ACQ_REL);
    wait_for(&ctl->ready, PROCS);
    for (i = 0; i < iterations; i++) {
        cb_permit p;
        cb_transition tr;
        uint64_t now = 1000 + (uint64_t)i / 8;
        cb_status s = cb_breaker_try_acquire(b, now, &p, NULL, NULL, &tr);
        if (s == CB_STATUS_REJECTED) {
            t->rejected++;
            continue;
        }
        if (s != CB_STATUS_OK) abort();
        t->granted++;
        if (tr.occurred) t->other++;
        {
            int fail = i >= iterations / 2 || i % 4 == 0;
            if (fail) t->failures++; else t->successes++;
            if (cb_breaker_record(b, &p, fail ? CB_OUTCOME_FAILURE : CB_OUTCOME_SUCCESS, CB_DURATION_NONE, now, NULL, &tr) != CB_STATUS_OK) abort();
        }
        if (tr.occurred) {
            if (tr.from == CB_STATE_CLOSED && tr.to == CB_STATE_OPEN) t->trips++;
            else t->other++;
        }
    }
    __atomic_add_fetch(&ctl->done, 1, __ATOMIC_ACQ_REL);
    wait_for(&ctl->done, PROCS);
    {
        cb_snapshot snap;
        if (cb_breaker_snapshot(b, 1000 + (uint64_t)iterations, &snap) == CB_STATUS_OK)
            t->saw_one_trip = snap.state == CB_STATE_OPEN && snap.transitions[CB_STATE_OPEN] == 1;
    }
    __atomic_store_n(&t->finished, 1, __ATOMIC_RELEASE);
}

static void *map(int fd) {
    void *m = mmap(NULL, mapping_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return m == MAP_FAILED ? NULL : m;
}

/* The exec'd process: opens the same name, attaches, checks the config, works. */
static int attach_main(const char *name) {
    int fd = shm_open(name, O_RDWR, 0);
    unsigned char *m;
    cb_breaker *b = NULL;
    control *ctl;
    cb_config mine = shared_config(), theirs;
    if (fd < 0) return 2;
    m = (unsigned char *)map(fd);
    close(fd);
    if (!m) return 3;
    ctl = (control *)(m + control_offset());
    ctl->t[2].attached_ok = cb_breaker_attach(m, cb_breaker_size(), &b) == CB_STATUS_OK;
    if (!ctl->t[2].attached_ok) return 4;
    /* The stored config is the validated one: compare the fields this process set. */
    ctl->t[2].config_ok = cb_breaker_config(b, &theirs) == CB_STATUS_OK && theirs.window_size == mine.window_size &&
                          theirs.minimum_calls == mine.minimum_calls && theirs.open_duration_ms == mine.open_duration_ms;
    work(b, ctl, 2);
    munmap(m, mapping_size());
    return 0;
}

int main(int argc, char **argv) {
    char name[64];
    int fd, status, r;
    unsigned char *m;
    cb_breaker *b = NULL;
    control *ctl;
    cb_config c = shared_config();
    pid_t child, execd;
    tally sum;
    cb_snapshot snap;

    if (argc > 3 && strcmp(argv[1], "--attach") == 0) {
        iterations = atoi(argv[3]);
        return attach_main(argv[2]);
    }
    if (argc > 1) iterations = atoi(argv[1]);

    snprintf(name, sizeof name, "/cbreaker-shm-test-%ld", (long)getpid());
    fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0);
    if (fd < 0) return cb_test_finish("shm");
    CHECK(ftruncate(fd, (off_t)mapping_size()) == 0);
    m = (unsigned char *)map(fd);
    close(fd);
    CHECK(m != NULL);
    if (!m) return cb_test_finish("shm");
    /* mmap returns page-aligned memory: aligned for any breaker. */
    CHECK_STATUS(cb_breaker_init(m, cb_breaker_size(), &c, &b), CB_STATUS_OK);
    ctl = (control *)(m + control_offset());
    memset(ctl, 0, sizeof *ctl);

    child = fork();
    if (child == 0) {
        work(b, ctl, 1);
        _exit(0);
    }
    execd = fork();
    if (execd == 0) {
        char iters[32];
        snprintf(iters, sizeof iters, "%d", iterations);
        execl(argv[0], argv[0], "--attach", name, iters, (char *)NULL);
        _exit(127);
    }
    work(b, ctl, 0);
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(waitpid(execd, &status, 0) == execd && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    memset(&sum, 0, sizeof sum);
    for (r = 0; r < PROCS; r++) {
        tally *t = &ctl->t[r];
        CHECK(t->finished);
        CHECK(t->saw_one_trip);
        sum.granted += t->granted; sum.rejected += t->rejected; sum.trips += t->trips; sum.other += t->other;
        sum.successes += t->successes; sum.failures += t->failures;
    }
    CHECK(ctl->t[2].attached_ok && ctl->t[2].config_ok);
    CHECK(sum.trips == 1);
    CHECK(sum.other == 0);
    CHECK(sum.granted + sum.rejected == (uint64_t)PROCS * (uint64_t)iterations);
    CHECK_STATUS(cb_breaker_snapshot(b, 1000 + (uint64_t)iterations, &snap), CB_STATUS_OK);
    CHECK(snap.calls == sum.granted && snap.rejected == sum.rejected);
    CHECK(snap.successes == sum.successes && snap.failures == sum.failures);

    /* A process that dies holding the only half-open probe cannot wedge the breaker. */
    child = fork();
    if (child == 0) {
        cb_permit p;
        cb_transition tr;
        int ok = cb_breaker_try_acquire(b, LATER, &p, NULL, NULL, &tr) == CB_STATUS_OK && tr.occurred &&
                 tr.to == CB_STATE_HALF_OPEN;
        _exit(ok ? 0 : 1); /* dies without recording */
    }
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    {
        cb_permit p;
        uint64_t retry = 0;
        cb_reject_reason reason = 99;
        cb_transition tr;
        /* Every slot taken: the advice is at most 1 s, not the whole reclaim wait. */
        CHECK_STATUS(cb_breaker_try_acquire(b, LATER + 1, &p, &retry, &reason, NULL), CB_STATUS_REJECTED);
        CHECK(reason == CB_REJECT_HALF_OPEN_FULL && retry == 1000);
        CHECK_STATUS(cb_breaker_try_acquire(b, LATER + WAIT_MS - 1, &p, &retry, NULL, NULL), CB_STATUS_REJECTED);
        CHECK(retry == 1);
        CHECK_STATUS(cb_breaker_try_acquire(b, LATER + WAIT_MS, &p, NULL, NULL, &tr), CB_STATUS_OK);
        CHECK(!tr.occurred); /* a reclaim is a new generation, not a transition */
        CHECK_STATUS(cb_breaker_record(b, &p, CB_OUTCOME_SUCCESS, CB_DURATION_NONE, LATER + WAIT_MS, NULL, &tr), CB_STATUS_OK);
        CHECK(tr.occurred && tr.to == CB_STATE_CLOSED);
    }

    munmap(m, mapping_size());
    CHECK(shm_unlink(name) == 0);
    return cb_test_finish("shm");
}
