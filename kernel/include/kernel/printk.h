/*
 * Kernel console output. Each call writes its whole line with interrupts
 * off, so lines from interrupt handlers never land inside another line.
 */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <stdarg.h>

int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);

#endif
