// libcb.hpp's cb::Fleet against a real redis-server (run through ffi/tests/c/with-redis.sh):
// bad options throw cb::Error naming the field; two breakers on one fleet trip together; an
// operator move reaches both; the destructors leave the fleet before the breakers go.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>

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

static uint64_t now_ms() {
    return (uint64_t)std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

template <class F>
static bool eventually(F cond, int timeout_ms = 2000) {
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
}

int main() {
    const char *url = std::getenv("CB_TEST_REDIS_URL");
    if (url == nullptr) {
        std::fprintf(stderr, "run me through ffi/tests/c/with-redis.sh\n");
        return 2;
    }
    std::string name = "cxx-fleet-" + std::to_string((long)getpid());
    cb_config c = cb::default_config();
    c.minimum_calls = 10;
    c.open_duration_ms = 60000;

    cb::Breaker a(c), b(c);
    try {
        cb::Fleet bad(a, cb::fleet_options(url, "a{b}"));
        CHECK(false);
    } catch (const cb::Error &e) {
        CHECK(e.status() == CB_STATUS_FLEET_NAME);
        CHECK(std::strstr(e.what(), "name") != nullptr);
    }

    // steady_clock is CLOCK_MONOTONIC on Linux: the default clock of cb_fleet_options.
    cb_fleet_options o = cb::fleet_options(url, name.c_str());
    o.sync_interval_ms = 50;
    cb::Fleet fa(a, o);
    cb::Fleet fb(b, o);
    CHECK(eventually([&] { return fa.membership() == CB_MEMBERSHIP_JOINED; }));
    CHECK(eventually([&] { return fb.membership() == CB_MEMBERSHIP_JOINED; }));
    CHECK(cb::membership_name(fb.membership()) == "joined");
    std::this_thread::sleep_for(std::chrono::milliseconds(150));

    for (int i = 0; i < 10; i++) {
        if (auto p = a.try_acquire(now_ms())) p->record(CB_OUTCOME_FAILURE, now_ms());
    }
    CHECK(eventually([&] { return b.state(now_ms()) == CB_STATE_OPEN; }, 1000));
    cb::Rejection why;
    CHECK(!b.try_acquire(now_ms(), &why).has_value() && why.reason == CB_REJECT_OPEN);

    fb.reset();
    CHECK(eventually([&] { return a.state(now_ms()) == CB_STATE_CLOSED; }, 1000));
    CHECK(eventually([&] { return b.state(now_ms()) == CB_STATE_CLOSED; }, 1000));

    cb::Fleet moved(std::move(fa));
    CHECK(fa.get() == nullptr && moved.get() != nullptr);
    moved.force_open();
    CHECK(eventually([&] { return b.state(now_ms()) == CB_STATE_FORCED_OPEN; }, 1000));
    fb.reset();

    std::printf("fleet-cxx: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
