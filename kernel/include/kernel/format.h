/*
 * printf-style formatting, independent of where the characters go.
 *
 * Supported: %d %i %u %x %X %o %p %s %c %%, flags '-' '0' '+' ' ' '#',
 * width and precision (both may be '*'), length modifiers hh h l ll z t j.
 * Built with FORMAT_FLOAT (libsys, host tests) also %f %F %e %E %g %G of a
 * double, exactly as glibc rounds them; the kernel is built without it
 * (it has no FPU code) and prints those conversions as written. Widths and
 * precisions above 4096 are treated as 4096; %p prints "0x0" for NULL.
 */
#ifndef KERNEL_FORMAT_H
#define KERNEL_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_sink_t)(char c, void *ctx);

/* Formats into sink; returns the number of characters produced. */
int fmt_vformat(fmt_sink_t sink, void *ctx, const char *fmt, va_list ap);

/* C99 semantics: always NUL-terminates when size > 0; returns the length
 * the full output would have had. */
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
