/*
 * The libc subset silos get. Formatting and the string functions are the
 * kernel's own (kernel/lib/format.c, kernel/lib/string.c), compiled into
 * this library too.
 */
#include <kernel/format.h>
#include <sys/sluice.h>

long strtol_simple(const char *s)
{
	long v = 0, sign = 1;

	if (*s == '-') {
		sign = -1;
		s++;
	}
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v * sign;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return kvsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	size_t len = n < (int)sizeof buf ? (size_t)n : sizeof buf - 1;
	sl_debug_write(buf, len);
	return n;
}
