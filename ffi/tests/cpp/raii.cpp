// libcb.hpp: RAII breaker, permit guard that settles once (cancelled when destroyed unsettled,
// a second settle a cb::Error), errors as cb::Error.
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "libcb.hpp"

static int passed = 0, failed = 0;
#define CHECK(cond)                                                                \
    do {                                                                           \
        if (cond) {                                                                \
            ++passed;                                                              \
        } else {                                                                   \
            ++failed;                                                              \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

int main() {
    cb_config c = cb::default_config();
    c.window_kind = CB_WINDOW_KIND_CONSECUTIVE;
    c.consecutive_failures = 2;
    c.open_duration_ms = 1000;

    // Config errors throw with the core's message.
    try {
        cb_config bad = c;
        bad.half_open_max_calls = 0;
        cb::Breaker b(bad);
        CHECK(false);
    } catch (const cb::Error &e) {
        CHECK(e.status() == CB_STATUS_CONFIG_HALF_OPEN_MAX_CALLS);
        CHECK(std::strcmp(e.what(), "invalid config: half_open_max_calls must be 1 to 31") == 0);
    }

    cb::Breaker breaker(c);
    // A permit destroyed unsettled is settled as cancelled: counted as ignored.
    { auto p = breaker.try_acquire(1); CHECK(p.has_value() && p->pending() && !p->timed()); }
    CHECK(breaker.snapshot(1).ignored == 1);

    // Moving a permit moves the duty to settle it: settled once, not twice.
    {
        auto p = breaker.try_acquire(2);
        cb::Permit moved = std::move(*p);
        CHECK(!p->pending() && moved.pending());
        try { p->record(CB_OUTCOME_FAILURE, 2); CHECK(false); } catch (const cb::Error &e) { CHECK(e.status() == CB_STATUS_PERMIT_SETTLED); }
        CHECK(!moved.record(CB_OUTCOME_FAILURE, 2).has_value());
        CHECK(!moved.pending() && !moved.duration_ms().has_value());
        // A second settle is an error and records nothing (a second failure would trip).
        try {
            moved.record(CB_OUTCOME_FAILURE, 2);
            CHECK(false);
        } catch (const cb::Error &e) {
            CHECK(e.status() == CB_STATUS_PERMIT_SETTLED);
            CHECK(std::strcmp(e.what(), "permit already settled: a permit is settled exactly once") == 0);
        }
        try { moved.drop(2); CHECK(false); } catch (const cb::Error &e) { CHECK(e.status() == CB_STATUS_PERMIT_SETTLED); }
    }
    CHECK(breaker.snapshot(2).failures == 1 && breaker.snapshot(2).calls == 2);
    CHECK(breaker.state(2) == CB_STATE_CLOSED && breaker.health(2) == CB_HEALTH_HEALTHY);

    // A timeout is a failure: the second one trips; the returned transition says so.
    {
        auto p = breaker.try_acquire(3);
        auto t = p->record(CB_OUTCOME_TIMEOUT, 3, 12);
        CHECK(t.has_value() && t->to == CB_STATE_OPEN && t->cause == CB_CAUSE_CONSECUTIVE_FAILURES);
        CHECK(p->duration_ms() == std::optional<uint64_t>(12));
    }
    cb::Rejection r;
    CHECK(!breaker.try_acquire(500, &r).has_value());
    CHECK(r.retry_after_ms == 503 && r.reason == CB_REJECT_OPEN && cb::reason_name(r.reason) == "open");
    CHECK(breaker.state(500) == CB_STATE_OPEN);
    CHECK(cb::health_name(breaker.health(500)) == "unhealthy");
    CHECK(cb::state_name(breaker.state(2000)) == "half_open");

    // Half-open: a probe dropped by the guard frees its slot for the next one.
    {
        cb::Transition t;
        auto probe = breaker.try_acquire(1003, nullptr, &t);
        CHECK(probe.has_value() && t.has_value() && t->to == CB_STATE_HALF_OPEN);
        CHECK(!breaker.try_acquire(1004, &r).has_value() && r.reason == CB_REJECT_HALF_OPEN_FULL);
    }
    {
        auto probe = breaker.try_acquire(1005);
        CHECK(probe.has_value());
        auto t = probe->record(CB_OUTCOME_SUCCESS, 1006);
        CHECK(t.has_value() && t->to == CB_STATE_CLOSED);
    }

    // Manual control, and threads sharing the wrapper.
    CHECK(breaker.force_closed(2000).to == CB_STATE_DISABLED);
    {
        std::vector<std::thread> threads;
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&breaker] {
                for (int k = 0; k < 10000; ++k) {
                    auto p = breaker.try_acquire(3000);
                    if (p) p->record(CB_OUTCOME_FAILURE, 3000);
                }
            });
        for (auto &t : threads) t.join();
    }
    cb_snapshot s = breaker.snapshot(3000);
    CHECK(s.state == CB_STATE_DISABLED && s.calls == 40000 + 5 && s.rejected == 2);
    CHECK(breaker.reset(3001).cause == CB_CAUSE_RESET);
    CHECK(breaker.config().consecutive_failures == 2);

    // trip and half_open; a sink times every call.
    CHECK(breaker.trip(4000).cause == CB_CAUSE_TRIP && breaker.state(4000) == CB_STATE_OPEN);
    CHECK(breaker.state(5000) == CB_STATE_HALF_OPEN);  // recovers by itself
    CHECK(breaker.half_open(4001).cause == CB_CAUSE_HALF_OPEN);
    {
        auto probe = breaker.begin(4002, true);
        CHECK(probe.has_value() && probe->timed());
        auto t = probe->record(CB_OUTCOME_SUCCESS, 4010);
        CHECK(t.has_value() && t->to == CB_STATE_CLOSED);
        CHECK(probe->duration_ms() == std::optional<uint64_t>(8));
    }

    // Presets from the core.
    CHECK(cb::preset("pybreaker").consecutive_failures == 5);
    try { cb::preset("nope"); CHECK(false); } catch (const cb::Error &e) { CHECK(e.status() == CB_STATUS_INVALID_ARGUMENT); }

    std::printf("raii: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
