/*
 * In-kernel self-tests, run when the kernel command line has "selftest".
 * Results are TAP lines on the console.
 */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

#include <stdbool.h>

typedef struct tap {
	int count;
	int failed;
} tap_t;

/* Records and prints one result; returns ok. */
bool tap_check(tap_t *t, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void selftest_frames(tap_t *t);
void selftest_heap(tap_t *t);
void selftest_paging(tap_t *t);
void selftest_timer(tap_t *t);
void selftest_sched(tap_t *t);

/* Runs every self-test; returns true when all passed. */
bool selftest_run(void);

#endif
