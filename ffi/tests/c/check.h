/* A tiny test harness for the C tests: CHECK counts, the last line is "N passed, N failed". */
#ifndef CB_TEST_CHECK_H
#define CB_TEST_CHECK_H

#include <stdio.h>

static int cb_test_passed = 0;
static int cb_test_failed = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            cb_test_passed++;                                                        \
        } else {                                                                     \
            cb_test_failed++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_STATUS(expr, want)                                                          \
    do {                                                                                  \
        cb_status got_ = (expr);                                                          \
        if (got_ == (want)) {                                                             \
            cb_test_passed++;                                                             \
        } else {                                                                          \
            cb_test_failed++;                                                             \
            fprintf(stderr, "%s:%d: %s = %u (%s), want %u\n", __FILE__, __LINE__, #expr,   \
                    (unsigned)got_, cb_status_str(got_), (unsigned)(want));               \
        }                                                                                 \
    } while (0)

static int cb_test_finish(const char *name) {
    printf("%s: %d passed, %d failed\n", name, cb_test_passed, cb_test_failed);
    return cb_test_failed == 0 ? 0 : 1;
}

#endif
