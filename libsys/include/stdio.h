/*
 * The stdio of the silo runtime: formatting only. There are no streams
 * (no FILE, fopen, puts, putchar, fprintf): a silo writes to the console
 * with printf, and each call is one message that never mixes with other
 * silos' output. Conversions: d i u x X o p c s %, with flags - 0 + space #,
 * width, precision and the sizes hh h l ll z t j (as C's printf).
 */
#ifndef SLUICE_STDIO_H
#define SLUICE_STDIO_H

#include <stdarg.h>
#include <stddef.h>

/* Writes one message (cut at 512 bytes) to the console; returns the length
 * the whole message would have had. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
