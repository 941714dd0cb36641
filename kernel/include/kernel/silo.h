/*
 * Silos: isolated user programs, one address space each, loaded from the
 * boot modules. Their records are allocated at boot, one per module (at
 * most MB2_MAX_MODULES), and live until the machine powers off.
 *
 * User address space of a silo:
 *   0x0000000000200000 ..  boot-info page, the server's silo table
 *   0x0000000000400000 ..  program segments (the SDK links at 0x400000)
 *   SL_MEM_REGION_BASE ..  anonymous memory (SL_SYS_MEM_MAP), up to
 *   SL_MEM_REGION_END      16 TiB .. 0x7f0000000000
 *   USER_STACK_TOP - i * USER_STACK_STRIDE  thread i's stack, 64 KiB, with
 *                                           an unmapped guard page below
 */
#ifndef KERNEL_SILO_H
#define KERNEL_SILO_H

#include <abi/syscall.h>
#include <kernel/cspace.h>
#include <kernel/ipc.h>
#include <kernel/mb2.h>
#include <kernel/quota.h>
#include <kernel/silo_mem.h>
#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <kernel/vm.h>

#define SILO_NAME_MAX 32
#define SILO_ARGS_MAX 256
#define SILO_THREADS_MAX SL_THREADS_MAX
#define USER_MIN 0x1000ull
#define USER_IMAGE_MIN 0x400000ull      /* below: boot-info and silo-table pages */
#define USER_STACK_TOP 0x00007ff000000000ull
#define USER_STACK_SIZE (64 * 1024)
#define USER_STACK_STRIDE (USER_STACK_SIZE + 4096)
#define USER_IMAGE_MAX SL_MEM_REGION_BASE      /* images end where anonymous memory starts */

typedef enum silo_state {
	SILO_FREE,
	SILO_RUNNING,
	SILO_EXITED,            /* every thread gone, exit_code valid */
	SILO_FAULTED,           /* killed by a fault; fault_* valid */
	SILO_LOAD_FAILED,
	SILO_STOPPED,           /* the server, ended by the kernel at shutdown */
} silo_state_t;

typedef struct silo {
	int id;
	silo_state_t state;
	char name[SILO_NAME_MAX];
	char args[SILO_ARGS_MAX];       /* the module command line after the name */
	bool has_args;                  /* a space followed the name (args may be "") */
	vm_space_t space;
	spinlock_t lock;                /* threads[], live_threads, exit fields */
	thread_t *threads[SILO_THREADS_MAX];    /* by user stack slot */
	int live_threads;
	bool is_server;                 /* the first module */
	cspace_t cspace;                /* guarded by ipc_lock */
	quota_t kmem;                   /* bytes of kernel objects it caused (kmem=N) */
	quota_t mem;                    /* pages of user memory (mem=N) */
	quota_t nthreads;               /* its threads, unjoined ones included (threads=N) */
	int prio;                       /* its threads' priority (prio=N: 1 to 6, else 4) */
	cap_ops_t cap_ops;              /* the kernel's, charging cspace chunks to it */
	silo_event_t exit_event;        /* posted to the server when it ends */
	struct silo *next;              /* all silos, in id order */
	silo_mem_t anon;                /* its anonymous-memory region (silo_mem.h) */
	struct kobj *owned;             /* the objects it made; ipc_lock */
	bool exiting;                   /* exit or fault recorded; threads dying */
	int exit_code;
	int fault_vector;
	const char *fault_name;
	uint64_t fault_rip, fault_addr;
} silo_t;

/* Loads every boot module as a silo and starts its main thread. Returns
 * how many started. */
int silo_start_all(const mb2_info_t *mb);

vm_space_t silo_space(const silo_t *s);

/* Charges n pages of user memory to s (SL_EQUOTA past mem=N) / gives
 * them back. Every page mapped into a silo's space is charged. */
int silo_charge_pages(silo_t *s, uint64_t n);
void silo_uncharge_pages(silo_t *s, uint64_t n);

/* System calls. */
int64_t silo_thread_spawn(silo_t *s, uint64_t entry, uint64_t a0, uint64_t a1);
int silo_thread_join(silo_t *s, int64_t tid, uint64_t code_ptr);
__attribute__((noreturn)) void silo_exit(int code);
__attribute__((noreturn)) void silo_thread_exit(int code);

/* A user-mode exception: report, kill the silo, end the faulting thread. */
void silo_fault(int vector, const char *name, uint64_t rip, uint64_t addr, uint64_t error);

/* Last step before any return to user mode: a killed thread ends here. */
void silo_return_to_user(void);

/* Copies between kernel and the current silo's memory. Return SL_OK or
 * SL_EFAULT, never fault. */
int copy_from_user(void *dst, uint64_t usrc, size_t n);
int copy_to_user(uint64_t udst, const void *src, size_t n);

#endif
