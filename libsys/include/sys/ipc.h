/*
 * Capabilities, endpoints and notifications for silos. The encoding of
 * tags and receive specs is in <abi/ipc.h>; slots and rights in
 * <abi/cap.h>. Every function returns 0 (or a count) or a negative SL_E*.
 */
#ifndef SYS_IPC_H
#define SYS_IPC_H

#include <abi/bootinfo.h>
#include <abi/cap.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include <stdbool.h>
#include <stdint.h>

/* A message as it sits in registers during an IPC system call. */
typedef struct sl_msg {
	uint64_t tag;                   /* RSI */
	uint64_t w[SL_MSG_WORDS];       /* RDX R10 R8 R9 R12 R13 R14 R15 */
	uint64_t badge;                 /* RDI on return: the sender's badge */
	uint64_t spec;                  /* RBX in: SL_SPEC(...); out: unwrapped badge 0 */
	uint64_t spec_out2;             /* RBP out: unwrapped badge 1 */
} sl_msg_t;

/* Loads msg into registers, makes system call nr on cap, stores them back. */
long sl_ipc(long nr, unsigned long cap, sl_msg_t *msg);

/*
 * The macros and inline calls below load all eight words into their
 * registers, while a message of length n needs only its first n set: a
 * caller that leaves the rest (or, for a receive, all of them) unset is
 * right, and the registers it did not set come back as they went in. So
 * GCC's warnings about reading unset words are off inside them.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

/*
 * The data registers of an IPC system call, for code that writes its own
 * asm statement around them (sl_ipc_words below, chanserv, libchan): the
 * eight words travel in RDX R10 R8 R9 R12 R13 R14 R15, in that order.
 * SL_IPC_WORDS_IN(in) declares rdx and r10 ... r15 holding in[0..7];
 * SL_IPC_WORDS_UNSET declares them for a call that sends no words;
 * SL_IPC_WORDS_INOUT and SL_IPC_WORDS_OUT are the asm operands for the
 * two; SL_IPC_WORDS_STORE(out) puts the eight that came back into out.
 */
#define SL_IPC_WORDS_IN(in)                                                 \
	uint64_t rdx = (in)[0];                                             \
	register uint64_t r10 __asm__("r10") = (in)[1];                     \
	register uint64_t r8 __asm__("r8") = (in)[2];                       \
	register uint64_t r9 __asm__("r9") = (in)[3];                       \
	register uint64_t r12 __asm__("r12") = (in)[4];                     \
	register uint64_t r13 __asm__("r13") = (in)[5];                     \
	register uint64_t r14 __asm__("r14") = (in)[6];                     \
	register uint64_t r15 __asm__("r15") = (in)[7]
#define SL_IPC_WORDS_UNSET                                                  \
	uint64_t rdx;                                                       \
	register uint64_t r10 __asm__("r10");                               \
	register uint64_t r8 __asm__("r8");                                 \
	register uint64_t r9 __asm__("r9");                                 \
	register uint64_t r12 __asm__("r12");                               \
	register uint64_t r13 __asm__("r13");                               \
	register uint64_t r14 __asm__("r14");                               \
	register uint64_t r15 __asm__("r15")
#define SL_IPC_WORDS_INOUT                                                  \
	"+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
#define SL_IPC_WORDS_OUT                                                    \
	"=d"(rdx), "=r"(r10), "=r"(r8), "=r"(r9), "=r"(r12), "=r"(r13), "=r"(r14), "=r"(r15)
#define SL_IPC_WORDS_STORE(out)                                             \
	do {                                                                \
		(out)[0] = rdx;                                             \
		(out)[1] = r10;                                             \
		(out)[2] = r8;                                              \
		(out)[3] = r9;                                              \
		(out)[4] = r12;                                             \
		(out)[5] = r13;                                             \
		(out)[6] = r14;                                             \
		(out)[7] = r15;                                             \
	} while (0)

/*
 * The same system call with every register explicit, for hot paths that
 * keep their words where they are: the tag in and out through *tag (RSI),
 * the spec in and unwrapped badge 0 out through *spec (RBX), RDI out (the
 * sender's badge on a receive) into *badge, the eight data words from in
 * and back into out (which may be in), and RBP pointing at buf, the
 * message buffer (<abi/ipc.h>; NULL for none). Always inlined, so the
 * words stay in registers and the outputs nobody reads cost nothing.
 */
static inline __attribute__((always_inline)) long sl_ipc_words(long nr, unsigned long cap, uint64_t *tag,
								uint64_t *spec, uint64_t *badge,
								const uint64_t in[SL_MSG_WORDS],
								uint64_t out[SL_MSG_WORDS], const void *buf)
{
	SL_IPC_WORDS_IN(in);
	uint64_t rdi = cap, rsi = *tag, rbx = *spec;
	const void *rbp = buf;          /* every register is taken: RBP is loaded from memory */
	long rax = nr;

	__asm__ volatile("movq %[buf], %%rbp\n\tsyscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+b"(rbx), SL_IPC_WORDS_INOUT
			 : [buf] "m"(rbp)
			 : "rcx", "r11", "rbp", "memory");
	*tag = rsi;
	*spec = rbx;
	*badge = rdi;
	SL_IPC_WORDS_STORE(out);
	return rax;
}

/*
 * sl_ipc inline: the same registers loaded from and stored back to *m,
 * without a call, so a caller in a loop saves its callee-saved registers
 * once rather than on every message. RBP is kept (pushed below the red
 * zone and popped again), so this builds with or without frame pointers;
 * it carries no message buffer (NULL) in, and spec_out2 out.
 */
static inline __attribute__((always_inline)) long sl_ipc_msg(long nr, unsigned long cap, sl_msg_t *m)
{
	SL_IPC_WORDS_IN(m->w);
	uint64_t rdi = cap, rsi = m->tag, rbx = m->spec, rbp_out;
	long rax = nr;

	__asm__ volatile("leaq -128(%%rsp), %%rsp\n\t" /* past the red zone */
			 "pushq %%rbp\n\t"
			 "xorl %%ebp, %%ebp\n\t"
			 "syscall\n\t"
			 "movq %%rbp, %%rcx\n\t"
			 "popq %%rbp\n\t"
			 "leaq 128(%%rsp), %%rsp"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+b"(rbx), "=c"(rbp_out), SL_IPC_WORDS_INOUT
			 :
			 : "r11", "memory");
	m->tag = rsi;
	SL_IPC_WORDS_STORE(m->w);
	m->badge = rdi;
	m->spec = rbx;
	m->spec_out2 = rbp_out;
	return rax;
}

#pragma GCC diagnostic pop

static inline long sl_send(sl_slot_t ep, sl_msg_t *m) { return sl_ipc_msg(SL_SYS_SEND, ep, m); }
static inline long sl_nbsend(sl_slot_t ep, sl_msg_t *m) { return sl_ipc_msg(SL_SYS_NBSEND, ep, m); }
static inline long sl_call(sl_slot_t ep, sl_msg_t *m) { return sl_ipc_msg(SL_SYS_CALL, ep, m); }
static inline long sl_recv(sl_slot_t ep, sl_msg_t *m) { return sl_ipc_msg(SL_SYS_RECV, ep, m); }
static inline long sl_nbrecv(sl_slot_t ep, sl_msg_t *m) { return sl_ipc_msg(SL_SYS_NBRECV, ep, m); }
static inline long sl_reply(sl_slot_t reply, sl_msg_t *m) { return sl_ipc_msg(SL_SYS_REPLY, reply, m); }
static inline long sl_reply_recv(sl_slot_t ep, sl_msg_t *m) { return sl_ipc_msg(SL_SYS_REPLY_RECV, ep, m); }
/* reply_recv that first answers the caller behind reply capability
 * `second` (0: none) with `label` alone: no words, no capabilities. */
static inline long sl_reply2_recv(sl_slot_t ep, sl_slot_t second, uint32_t label, sl_msg_t *m)
{
	return sl_ipc_msg(SL_SYS_REPLY2_RECV, SL_REPLY2(ep, second, label), m);
}

/* Capability operations. */
int sl_cap_copy(sl_slot_t src, sl_slot_t dst);
int sl_cap_mint(sl_slot_t src, sl_slot_t dst, unsigned rights, uint64_t badge);
int sl_cap_move(sl_slot_t src, sl_slot_t dst);
int sl_cap_delete(sl_slot_t slot);
int sl_cap_revoke(sl_slot_t slot);
int sl_cap_identify(sl_slot_t slot, sl_cap_info_t *info);
int sl_ep_create(sl_slot_t dst);
int sl_ntfn_create(sl_slot_t dst);
int sl_events_bind(sl_slot_t events, sl_slot_t ep);

/* Notifications: the word comes back through *word. */
int sl_signal(sl_slot_t ntfn);
int sl_wait(sl_slot_t ntfn, uint64_t *word);
int sl_poll(sl_slot_t ntfn, uint64_t *word);

/* The read-only pages every silo (and the server) starts with. */
static inline const sl_bootinfo_t *sl_bootinfo(void)
{
	return (const sl_bootinfo_t *)SL_BOOTINFO_ADDR;
}

static inline const sl_silo_table_t *sl_silo_table(void)
{
	return (const sl_silo_table_t *)SL_SILO_TABLE_ADDR;
}

#endif
