// libcb.hpp: RAII breaker, permit guard that records Ignored when dropped, errors as cb::Error.
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
    // A permit dropped unreported counts as ignored.
    { auto p = breaker.try_acquire(1); CHECK(p.has_value() && p->pending()); }
    CHECK(breaker.snapshot(1).ignored == 1);

    // Moving a permit moves the duty to report it: recorded once, not twice.
    {
        auto p = breaker.try_acquire(2);
        cb::Permit moved = std::move(*p);
        CHECK(!p->pending() && moved.pending());
        CHECK(!moved.record(CB_OUTCOME_FAILURE, 2).has_value());
        CHECK(!moved.pending());
        try { moved.record(CB_OUTCOME_FAILURE, 2); CHECK(false); } catch (const cb::Error &e) { CHECK(e.status() == CB_STATUS_INVALID_ARGUMENT); }
    }
    CHECK(breaker.snapshot(2).failures == 1 && breaker.snapshot(2).calls == 2);

    // The second failure trips; the returned transition says so.
    {
        auto p = breaker.try_acquire(3);
        auto t = p->record(CB_OUTCOME_FAILURE, 3, 12);
        CHECK(t.has_value() && t->to == CB_STATE_OPEN && t->cause == CB_CAUSE_CONSECUTIVE_FAILURES);
    }
    uint64_t retry = 0;
    CHECK(!breaker.try_acquire(500, &retry).has_value());
    CHECK(retry == 503);
    CHECK(breaker.state(500) == CB_STATE_OPEN);
    CHECK(cb::state_name(breaker.state(2000)) == "half_open");

    // Half-open: a probe dropped by the guard frees its slot for the next one.
    {
        cb::Transition t;
        auto probe = breaker.try_acquire(1003, nullptr, &t);
        CHECK(probe.has_value() && t.has_value() && t->to == CB_STATE_HALF_OPEN);
        CHECK(!breaker.try_acquire(1004).has_value());
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

    std::printf("raii: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
