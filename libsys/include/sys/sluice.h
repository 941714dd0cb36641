/*
 * The silo runtime: system calls, threads, a small libc subset and debug
 * printing. A silo's main(argc, argv) gets its module name as argv[0] and
 * the module's arguments after it; returning from main exits the silo.
 * Functions that can fail return a negative SL_E* code (<abi/errors.h>).
 */
#ifndef SYS_SLUICE_H
#define SYS_SLUICE_H

#include <abi/errors.h>
#include <abi/syscall.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

long sl_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

long sl_debug_write(const char *buf, size_t len);
__attribute__((noreturn)) void sl_exit(int code);

/* Runs fn(arg) in a new thread of this silo; returns its id (> 0). */
int sl_thread_create(int (*fn)(void *), void *arg);
__attribute__((noreturn)) void sl_thread_exit(int code);
int sl_thread_join(int tid, int *code);

int sl_sleep_ms(uint64_t ms);
int sl_yield(void);
int sl_silo_id(void);
uint64_t sl_clock_ms(void);

/*
 * Anonymous memory: sl_mem_map maps `pages` zeroed, writable, never
 * executable pages in this silo's address space, inside
 * [SL_MEM_REGION_BASE, SL_MEM_REGION_END), and stores their address in
 * *addr. On entry *addr is a hint (NULL: anywhere); with SL_MEM_FIXED it is
 * the address itself. Charged to the silo's memory quota (mem=N).
 * sl_mem_unmap gives pages back (all of them mapped, or none is unmapped).
 * Both return 0 or a negative SL_E* code (docs/abi.md); malloc
 * (<stdlib.h>) is built on them.
 */
int sl_mem_map(void **addr, size_t pages, unsigned flags);
int sl_mem_unmap(void *addr, size_t pages);

/* Instruction counter under QEMU -icount, cycle counter elsewhere. */
static inline uint64_t sl_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/*
 * Profiling windows: no-op marker instructions (`nopl DISP32(%rax)`) that
 * the insn-profile QEMU plugin (./sluice profile) recognises by their
 * bytes. Instructions between sl_profile_begin(id) and sl_profile_end(id)
 * are counted when window id is selected; outside QEMU they cost nothing.
 */
#define SL_PROFILE_MAGIC 0x51f00000u
#define sl_profile_begin(id) \
	__asm__ volatile("nopl %c0(%%rax)" ::"i"(SL_PROFILE_MAGIC | (id) << 1 | 1) : "memory")
#define sl_profile_end(id) \
	__asm__ volatile("nopl %c0(%%rax)" ::"i"(SL_PROFILE_MAGIC | (id) << 1) : "memory")

/* libc subset (also declared by <string.h>) */
#include <string.h>
long strtol_simple(const char *s);  /* decimal, optional '-'; stops at a non-digit */

int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* Formats one message and writes it with a single system call, so lines
 * from different silos never mix. Messages longer than 512 bytes are cut. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
