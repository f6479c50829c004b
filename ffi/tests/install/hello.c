/* Built against an installed libcb (pkg-config or CMake): trips a breaker, prints a summary. */
#include <stdio.h>
#include <libcb.h>

int main(void) {
    cb_config c;
    cb_breaker *b;
    cb_permit p;
    cb_transition t;
    int trips = 0, i;
    cb_config_default(&c);
    c.window_kind = CB_WINDOW_KIND_CONSECUTIVE;
    c.consecutive_failures = 3;
    if (cb_breaker_new(&c, &b) != CB_STATUS_OK) return 1;
    for (i = 0; i < 5; i++) {
        if (cb_breaker_try_acquire(b, (uint64_t)i, &p, NULL, NULL, NULL) != CB_STATUS_OK) continue;
        cb_breaker_record(b, &p, CB_OUTCOME_FAILURE, CB_DURATION_NONE, (uint64_t)i, NULL, &t);
        if (t.occurred) trips++;
    }
    cb_breaker_free(b);
    printf("hello: installed libcb tripped %d time(s)\n", trips);
    return trips == 1 ? 0 : 1;
}
