/* The stdlib of the silo runtime: what libsys has. */
#ifndef SLUICE_STDLIB_H
#define SLUICE_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/* Ends the whole silo (every thread) with this status. */
__attribute__((noreturn)) void sl_exit(int code);
__attribute__((noreturn)) static inline void exit(int code)
{
	sl_exit(code);
}

#endif
