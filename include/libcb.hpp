/*
 * libcb.hpp: a header-only C++17 RAII wrapper over libcb.h (hand-written, not generated).
 *
 *   cb::Breaker breaker(cb::default_config());            // cb_breaker_new; throws cb::Error
 *   if (auto permit = breaker.try_acquire(now_ms())) {     // std::optional<cb::Permit>
 *       bool ok = call_dependency();
 *       permit->record(ok ? CB_OUTCOME_SUCCESS : CB_OUTCOME_FAILURE, now_ms());
 *   }                                                      // unsettled? settled as cancelled
 *
 * A cb::Permit is the guard of one call, on the core's protocol: it is settled exactly once
 * (record(), or drop(), or its destructor as CB_OUTCOME_CANCELLED); a second record() or
 * drop() throws cb::Error with CB_STATUS_PERMIT_SETTLED and records nothing.
 *
 * Thread safety is libcb's: a cb::Breaker may be used from many threads at once (it is not
 * copyable or movable while permits refer to it: keep it alive longer than its permits). A
 * cb::Permit belongs to one thread at a time (movable, not copyable).
 *
 * A fleet (std builds): cb::Fleet fleet(breaker, cb::fleet_options("redis://...", "payments"));
 * joins the breaker to its fleet until the cb::Fleet is destroyed (declare it after the breaker).
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

/** The default config (cb_config_default): the core's Config::default(). */
inline cb_config default_config() {
    cb_config c;
    detail::check(cb_config_default(&c));
    return c;
}

/** A preset by name (cb_config_preset); throws cb::Error(CB_STATUS_INVALID_ARGUMENT) for an
 * unknown name. */
inline cb_config preset(const char *name) {
    cb_config c;
    detail::check(cb_config_preset(name, &c));
    return c;
}

/** A transition, if the call caused one. */
using Transition = std::optional<cb_transition>;

inline Transition to_optional(const cb_transition &t) { return t.occurred ? Transition(t) : std::nullopt; }

/** Why a call was refused, and when to retry (CB_RETRY_AFTER_NONE when forced open). */
struct Rejection {
    uint64_t retry_after_ms = CB_RETRY_AFTER_NONE;
    cb_reject_reason reason = CB_REJECT_OPEN;
};

/**
 * One admitted call: the guard over a cb_permit. Settle it once with record() (or drop());
 * destroyed unsettled, it is settled as CB_OUTCOME_CANCELLED at the time it was acquired
 * (counted as ignored, frees its half-open slot). A second settle throws
 * cb::Error(CB_STATUS_PERMIT_SETTLED) and records nothing; so does settling a moved-from
 * permit.
 */
class Permit {
  public:
    Permit(const cb_breaker *breaker, cb_permit permit, uint64_t acquired_ms) noexcept
        : breaker_(breaker), permit_(permit), acquired_ms_(acquired_ms) {}
    Permit(const Permit &) = delete;
    Permit &operator=(const Permit &) = delete;
    Permit(Permit &&other) noexcept
        : breaker_(other.breaker_), permit_(std::exchange(other.permit_, cb_permit{})),
          acquired_ms_(other.acquired_ms_), duration_ms_(other.duration_ms_) {}
    Permit &operator=(Permit &&other) noexcept {
        if (this != &other) {
            settle_cancelled();
            breaker_ = other.breaker_;
            permit_ = std::exchange(other.permit_, cb_permit{});
            acquired_ms_ = other.acquired_ms_;
            duration_ms_ = other.duration_ms_;
        }
        return *this;
    }
    ~Permit() { settle_cancelled(); }

    /**
     * Settles the call: outcome is CB_OUTCOME_SUCCESS, _FAILURE, _IGNORED, _TIMEOUT (a
     * failure) or _CANCELLED (ignored). measured_ms: the duration the caller measured, or
     * CB_DURATION_NONE to let the core time the call (when it is timed). Returns the
     * transition it caused; throws cb::Error (CB_STATUS_PERMIT_SETTLED when settled already).
     */
    Transition record(cb_outcome outcome, uint64_t now_ms, uint64_t measured_ms = CB_DURATION_NONE) {
        cb_transition t;
        uint64_t d = CB_DURATION_NONE;
        detail::check(cb_breaker_record(breaker_, &permit_, outcome, measured_ms, now_ms, &d, &t));
        if (d != CB_DURATION_NONE) duration_ms_ = d;
        return to_optional(t);
    }

    /** Settles the call unused (counted as ignored); throws cb::Error when settled already. */
    void drop(uint64_t now_ms) { detail::check(cb_breaker_drop(breaker_, &permit_, now_ms)); }

    /** Whether this permit still has to be settled. */
    bool pending() const noexcept { return !cb_permit_is_settled(&permit_); }
    /** Whether the core times this call (then record() reports its duration). */
    bool timed() const noexcept { return cb_permit_is_timed(&permit_); }
    /** The duration record() reported, if any (a timed call, or a measured one). */
    std::optional<uint64_t> duration_ms() const noexcept { return duration_ms_; }
    const cb_permit &raw() const noexcept { return permit_; }

  private:
    void settle_cancelled() noexcept {
        if (pending()) {
            cb_breaker_record(breaker_, &permit_, CB_OUTCOME_CANCELLED, CB_DURATION_NONE, acquired_ms_, nullptr, nullptr);
        }
    }

    const cb_breaker *breaker_;
    cb_permit permit_;
    uint64_t acquired_ms_;
    std::optional<uint64_t> duration_ms_;
};

/** Owns a cb_breaker from cb_breaker_new; frees it in the destructor. */
class Breaker {
  public:
    explicit Breaker(const cb_config &config) { detail::check(cb_breaker_new(&config, &raw_)); }
    Breaker(const Breaker &) = delete;
    Breaker &operator=(const Breaker &) = delete;
    ~Breaker() { cb_breaker_free(raw_); }

    /** A permit, or std::nullopt when rejected (then *rejection, if given, says why). */
    std::optional<Permit> try_acquire(uint64_t now_ms, Rejection *rejection = nullptr,
                                      Transition *transition = nullptr) const {
        return begin(now_ms, false, rejection, transition);
    }

    /** try_acquire for a caller that feeds durations to a sink (sink: every call is timed). */
    std::optional<Permit> begin(uint64_t now_ms, bool sink, Rejection *rejection = nullptr,
                                Transition *transition = nullptr) const {
        cb_permit p;
        cb_transition t;
        Rejection r;
        cb_status s = cb_breaker_begin(raw_, now_ms, sink, &p, &r.retry_after_ms, &r.reason, &t);
        if (s == CB_STATUS_REJECTED) {
            if (rejection) *rejection = r;
            return std::nullopt;
        }
        detail::check(s);
        if (transition) *transition = to_optional(t);
        return std::optional<Permit>(std::in_place, raw_, p, now_ms);
    }

    cb_state state(uint64_t now_ms) const {
        cb_state s;
        detail::check(cb_breaker_state(raw_, now_ms, &s));
        return s;
    }
    cb_health health(uint64_t now_ms) const {
        cb_health h;
        detail::check(cb_health_of(state(now_ms), &h));
        return h;
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
    cb_transition trip(uint64_t now_ms) const { return manual(cb_breaker_trip, now_ms); }
    cb_transition half_open(uint64_t now_ms) const { return manual(cb_breaker_half_open, now_ms); }

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

/** Options for a fleet (cb_fleet_options_init), with the URL and the breaker's name set. The
 * strings are copied by the cb::Fleet constructor. */
inline cb_fleet_options fleet_options(const char *url, const char *name) {
    cb_fleet_options o;
    detail::check(cb_fleet_options_init(&o));
    o.url = url;
    o.name = name;
    return o;
}

/**
 * A breaker's membership of its fleet on Redis (cb_fleet_join; docs/fleet.md): the agent's
 * thread, stopped and freed by the destructor (cb_fleet_leave). Calls go on through the
 * cb::Breaker as before. The breaker must outlive the fleet: declare the cb::Fleet after its
 * cb::Breaker (destroyed first). Bad options throw cb::Error with a CB_STATUS_FLEET_* status
 * naming the field. Movable, not copyable; status() and the operator moves may run from many
 * threads at once.
 */
class Fleet {
  public:
    Fleet(const Breaker &breaker, const cb_fleet_options &options) : Fleet(breaker.get(), options) {}
    Fleet(const cb_breaker *breaker, const cb_fleet_options &options) {
        detail::check(cb_fleet_join(breaker, &options, &raw_));
    }
    Fleet(const Fleet &) = delete;
    Fleet &operator=(const Fleet &) = delete;
    Fleet(Fleet &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
    Fleet &operator=(Fleet &&other) noexcept {
        if (this != &other) {
            cb_fleet_leave(raw_);
            raw_ = std::exchange(other.raw_, nullptr);
        }
        return *this;
    }
    ~Fleet() { cb_fleet_leave(raw_); }

    /** What the member knows of its fleet now (no round trip). */
    cb_fleet_info status() const {
        cb_fleet_info i;
        detail::check(cb_fleet_status(raw_, &i));
        return i;
    }
    /** CB_MEMBERSHIP_JOINING, _JOINED, _DEGRADED or _REFUSED. */
    cb_membership membership() const { return status().status; }

    /** Operator moves of the whole fleet: one synchronous round trip each, never on the call
     * path. Throw cb::Error (CB_STATUS_FLEET_STORE, CB_STATUS_FLEET_REFUSED) when nothing moved. */
    void force_open() const { detail::check(cb_fleet_force_open(raw_)); }
    void force_closed() const { detail::check(cb_fleet_force_closed(raw_)); }
    void reset() const { detail::check(cb_fleet_reset(raw_)); }

    /** The C handle. Still owned by this object. */
    const cb_fleet *get() const noexcept { return raw_; }

  private:
    cb_fleet *raw_ = nullptr;
};

inline std::string membership_name(cb_membership m) { return cb_membership_str(m); }
inline std::string state_name(cb_state s) { return cb_state_str(s); }
inline std::string cause_name(cb_cause c) { return cb_cause_str(c); }
inline std::string reason_name(cb_reject_reason r) { return cb_reject_reason_str(r); }
inline std::string health_name(cb_health h) { return cb_health_str(h); }

}  // namespace cb

#endif /* LIBCB_HPP */
