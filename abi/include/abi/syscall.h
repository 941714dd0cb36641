/*
 * System-call numbers and the calling convention.
 *
 * A silo enters the kernel with the SYSCALL instruction: the number in
 * RAX, arguments in RDI, RSI, RDX, R10, R8, R9 (in that order), the result
 * in RAX. RCX and R11 are overwritten; every other register is preserved.
 * A result is a non-negative value or a negative sl_error_t
 * (<abi/errors.h>). An unknown number returns SL_ENOSYS.
 * docs/abi.md describes every call.
 */
#ifndef ABI_SYSCALL_H
#define ABI_SYSCALL_H

enum sl_syscall {
	SL_SYS_NULL = 0,                /* () -> 0; for measuring entry and exit */
	SL_SYS_DEBUG_WRITE = 1,         /* (const char *buf, size_t len) -> len */
	SL_SYS_EXIT = 2,                /* (int code) -> does not return */
	SL_SYS_THREAD_CREATE = 3,       /* (entry, a0, a1) -> thread id */
	SL_SYS_THREAD_EXIT = 4,         /* (int code) -> does not return */
	SL_SYS_THREAD_JOIN = 5,         /* (int tid, int *code) -> 0 */
	SL_SYS_SLEEP = 6,               /* (uint64_t ms) -> 0 */
	SL_SYS_YIELD = 7,               /* () -> 0 */
	SL_SYS_SILO_ID = 8,             /* () -> the calling silo's id */
	SL_SYS_CLOCK = 9,               /* () -> milliseconds since boot */

	/* Capabilities (abi/cap.h). Slots are indexes in the caller's cspace. */
	SL_SYS_CAP_COPY = 10,           /* (src, dst) -> 0 */
	SL_SYS_CAP_MINT = 11,           /* (src, dst, rights, badge) -> 0 */
	SL_SYS_CAP_MOVE = 12,           /* (src, dst) -> 0 */
	SL_SYS_CAP_DELETE = 13,         /* (slot) -> 0 */
	SL_SYS_CAP_REVOKE = 14,         /* (slot) -> number of capabilities deleted */
	SL_SYS_CAP_IDENTIFY = 15,       /* (slot, sl_cap_info_t *) -> 0 */
	SL_SYS_EP_CREATE = 16,          /* (dst) -> 0 */
	SL_SYS_NTFN_CREATE = 17,        /* (dst) -> 0 */

	/* Endpoint IPC (abi/ipc.h gives the register encoding). */
	SL_SYS_SEND = 18,
	SL_SYS_NBSEND = 19,
	SL_SYS_CALL = 20,
	SL_SYS_RECV = 21,
	SL_SYS_NBRECV = 22,
	SL_SYS_REPLY = 23,
	SL_SYS_REPLY_RECV = 24,

	/* Notifications. */
	SL_SYS_SIGNAL = 25,             /* (ntfn) -> 0 */
	SL_SYS_WAIT = 26,               /* (ntfn) -> 0, word in RDI */
	SL_SYS_POLL = 27,               /* (ntfn) -> 0, word (maybe 0) in RDI */

	SL_SYS_EVENTS_BIND = 28,        /* (silo-events cap, endpoint) -> 0 */

	/* Anonymous memory in the caller's own address space (docs/abi.md). */
	SL_SYS_MEM_MAP = 29,            /* (hint, pages, flags) -> address */
	SL_SYS_MEM_UNMAP = 30,          /* (address, pages) -> 0 */

	/* reply_recv that first answers a second caller with a label alone
	 * (RDI: SL_REPLY2, abi/ipc.h). */
	SL_SYS_REPLY2_RECV = 31,
	SL_SYS_COUNT = 32,
};

/* Limits the kernel enforces on arguments. */
#define SL_DEBUG_WRITE_MAX 1024
#define SL_SLEEP_MAX_MS (24ull * 3600 * 1000)
#define SL_THREADS_MAX 72               /* threads of one silo, unjoined ones included */
#define SL_THREADS_DEFAULT SL_THREADS_MAX       /* the threads= quota, unless the module says */
#define SL_MEM_DEFAULT 16384            /* pages of user memory (64 MiB), unless mem=N */

/* SL_SYS_MEM_MAP flags. */
#define SL_MEM_FIXED 1u                 /* the hint is the address, or fail with SL_EEXIST */

/* Where SL_SYS_MEM_MAP places pages in every silo's address space: above
 * any program image, below the thread stacks. */
#define SL_MEM_REGION_BASE 0x0000100000000000ull        /* 16 TiB */
#define SL_MEM_REGION_END 0x00007f0000000000ull
#define SL_MEM_REGION_PAGES ((SL_MEM_REGION_END - SL_MEM_REGION_BASE) / 4096)

/* The server's mem=N default (SL_MEM_DEFAULT is everyone else's), and the
 * largest mem=N a module may ask for. */
#define SL_MEM_SERVER_DEFAULT 65536u            /* 256 MiB: the server serves everyone */
#define SL_MEM_QUOTA_MAX (1u << 30)

#endif
