/*
 * libcb.hpp: a header-only C++17 RAII wrapper over libcb.h (hand-written, not generated).
 *
 *   cb::Breaker breaker(cb::default_config());            // cb_breaker_new; throws cb::Error
 *   if (auto permit = breaker.try_acquire(now_ms())) {     // std::optional<cb::Permit>
 *       bool ok = call_dependency();
 *       permit->record(ok ? CB_OUTCOME_SUCCESS : CB_OUTCOME_FAILURE, now_ms());
 *   }                                                      // not recorded? dropped as Ignored
 *
 * Thread safety is libcb's: a cb::Breaker may be used from many threads at once (it is not
 * copyable or movable while permits refer to it: keep it alive longer than its permits). A
 * cb::Permit belongs to one thread at a time (movable, not copyable).
 */
#ifndef LIBCB_HPP
#define LIBCB_HPP

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "libcb.h"

namespace cb {

/** A libcb call failed (misuse or config): `status()` is the cb_status, `what()` its message. */
class Error : public std::runtime_error {
  public:
    explicit Error(cb_status status) : std::runtime_error(cb_status_str(status)), status_(status) {}
    cb_status status() const noexcept { return status_; }

  private:
    cb_status status_;
};

namespace detail {
inline void check(cb_status s) {
    if (s != CB_STATUS_OK) throw Error(s);
}
}  // namespace detail

/** The default config (cb_config_default). */
inline cb_config default_config() {
    cb_config c;
    detail::check(cb_config_default(&c));
    return c;
}

/** A transition, if the call caused one. */
using Transition = std::optional<cb_transition>;

inline Transition to_optional(const cb_transition &t) { return t.occurred ? Transition(t) : std::nullopt; }

/**
 * Permission to make one call. Report it once with record() (or drop()); a permit destroyed
 * unreported is recorded as CB_OUTCOME_IGNORED at the time it was acquired, so it frees its
 * half-open slot and counts as ignored.
 */
class Permit {
  public:
    Permit(const cb_breaker *breaker, cb_permit permit, uint64_t acquired_ms) noexcept
        : breaker_(breaker), permit_(permit), acquired_ms_(acquired_ms) {}
    Permit(const Permit &) = delete;
    Permit &operator=(const Permit &) = delete;
    Permit(Permit &&other) noexcept
        : breaker_(std::exchange(other.breaker_, nullptr)), permit_(other.permit_), acquired_ms_(other.acquired_ms_) {}
    Permit &operator=(Permit &&other) noexcept {
        if (this != &other) {
            settle_ignored();
            breaker_ = std::exchange(other.breaker_, nullptr);
            permit_ = other.permit_;
            acquired_ms_ = other.acquired_ms_;
        }
        return *this;
    }
    ~Permit() { settle_ignored(); }

    /** Reports the outcome (duration_ms: the call's duration, or CB_DURATION_NONE). */
    Transition record(cb_outcome outcome, uint64_t now_ms, uint64_t duration_ms = CB_DURATION_NONE) {
        if (!breaker_) throw Error(CB_STATUS_INVALID_ARGUMENT);  // already reported
        cb_transition t;
        detail::check(cb_breaker_record(breaker_, permit_, outcome, duration_ms, now_ms, &t));
        breaker_ = nullptr;
        return to_optional(t);
    }

    /** Gives the permit back unused (counted as ignored). */
    void drop(uint64_t now_ms) {
        if (!breaker_) return;
        detail::check(cb_breaker_drop(breaker_, permit_, now_ms));
        breaker_ = nullptr;
    }

    /** Whether this permit still has to be reported. */
    bool pending() const noexcept { return breaker_ != nullptr; }
    cb_permit raw() const noexcept { return permit_; }

  private:
    void settle_ignored() noexcept {
        if (breaker_) {
            cb_breaker_record(breaker_, permit_, CB_OUTCOME_IGNORED, CB_DURATION_NONE, acquired_ms_, nullptr);
            breaker_ = nullptr;
        }
    }

    const cb_breaker *breaker_;
    cb_permit permit_;
    uint64_t acquired_ms_;
};

/** Owns a cb_breaker from cb_breaker_new; frees it in the destructor. */
class Breaker {
  public:
    explicit Breaker(const cb_config &config) { detail::check(cb_breaker_new(&config, &raw_)); }
    Breaker(const Breaker &) = delete;
    Breaker &operator=(const Breaker &) = delete;
    ~Breaker() { cb_breaker_free(raw_); }

    /** A permit, or std::nullopt when rejected (then *retry_after_ms, if given, is set). */
    std::optional<Permit> try_acquire(uint64_t now_ms, uint64_t *retry_after_ms = nullptr,
                                      Transition *transition = nullptr) const {
        cb_permit p;
        cb_transition t;
        cb_status s = cb_breaker_try_acquire(raw_, now_ms, &p, retry_after_ms, &t);
        if (s == CB_STATUS_REJECTED) return std::nullopt;
        detail::check(s);
        if (transition) *transition = to_optional(t);
        return std::optional<Permit>(std::in_place, raw_, p, now_ms);
    }

    cb_state state(uint64_t now_ms) const {
        cb_state s;
        detail::check(cb_breaker_state(raw_, now_ms, &s));
        return s;
    }
    cb_snapshot snapshot(uint64_t now_ms) const {
        cb_snapshot s;
        detail::check(cb_breaker_snapshot(raw_, now_ms, &s));
        return s;
    }
    cb_config config() const {
        cb_config c;
        detail::check(cb_breaker_config(raw_, &c));
        return c;
    }
    cb_transition force_open(uint64_t now_ms) const { return manual(cb_breaker_force_open, now_ms); }
    cb_transition force_closed(uint64_t now_ms) const { return manual(cb_breaker_force_closed, now_ms); }
    cb_transition metrics_only(uint64_t now_ms) const { return manual(cb_breaker_metrics_only, now_ms); }
    cb_transition reset(uint64_t now_ms) const { return manual(cb_breaker_reset, now_ms); }

    /** The C handle, for functions this wrapper does not cover. Still owned by this object. */
    const cb_breaker *get() const noexcept { return raw_; }

  private:
    cb_transition manual(cb_status (*op)(const cb_breaker *, uint64_t, cb_transition *), uint64_t now_ms) const {
        cb_transition t;
        detail::check(op(raw_, now_ms, &t));
        return t;
    }

    cb_breaker *raw_ = nullptr;
};

inline std::string state_name(cb_state s) { return cb_state_str(s); }
inline std::string cause_name(cb_cause c) { return cb_cause_str(c); }

}  // namespace cb

#endif /* LIBCB_HPP */
