/*
 * The layout fastswitch.S relies on, checked against the C structures.
 */
#include <arch/asm_offsets.h>
#include <arch/percpu.h>
#include <kernel/silo.h>
#include <kernel/thread.h>
#include <kernel/vm.h>
#include <stddef.h>

_Static_assert(offsetof(thread_t, ctx_rsp) == THREAD_CTX_RSP, "asm_offsets.h: THREAD_CTX_RSP");
_Static_assert(offsetof(thread_t, kstack_top) == THREAD_KSTACK_TOP, "asm_offsets.h: THREAD_KSTACK_TOP");
_Static_assert(offsetof(thread_t, id) == THREAD_ID, "asm_offsets.h: THREAD_ID");
_Static_assert(offsetof(thread_t, silo) == THREAD_SILO, "asm_offsets.h: THREAD_SILO");
_Static_assert(offsetof(thread_t, uframe) == THREAD_UFRAME, "asm_offsets.h: THREAD_UFRAME");
_Static_assert(offsetof(thread_t, fpu_state) == THREAD_FPU_STATE, "asm_offsets.h: THREAD_FPU_STATE");
_Static_assert(offsetof(thread_t, space_root) == THREAD_SPACE_ROOT, "asm_offsets.h: THREAD_SPACE_ROOT");
_Static_assert(offsetof(thread_t, ipc_fast_blocked) == THREAD_FAST_BLOCKED &&
	       sizeof(((thread_t *)0)->ipc_fast_blocked) == 1, "asm_offsets.h: THREAD_FAST_BLOCKED");
_Static_assert(offsetof(struct vm_space_rec, root) == VM_SPACE_ROOT, "asm_offsets.h: VM_SPACE_ROOT");
_Static_assert(offsetof(percpu_t, user_rsp) == PERCPU_USER_RSP, "percpu.h: PERCPU_USER_RSP");
_Static_assert(offsetof(percpu_t, tss.rsp[0]) == PERCPU_KERNEL_RSP && PERCPU_KERNEL_RSP % 8 == 0,
	       "percpu.h: PERCPU_KERNEL_RSP");
