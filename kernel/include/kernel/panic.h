/*
 * panic() is for broken kernel invariants only; input from user space is
 * answered with an error code, never a panic. It prints the reason and a
 * backtrace, then powers QEMU off with the failure status.
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#define assert(cond)                                                          \
	do {                                                                  \
		if (!(cond))                                                  \
			panic("assertion failed: %s (%s:%d)", #cond, __FILE__, \
			      __LINE__);                                      \
	} while (0)

#endif
