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

static inline long sl_send(sl_slot_t ep, sl_msg_t *m) { return sl_ipc(SL_SYS_SEND, ep, m); }
static inline long sl_nbsend(sl_slot_t ep, sl_msg_t *m) { return sl_ipc(SL_SYS_NBSEND, ep, m); }
static inline long sl_call(sl_slot_t ep, sl_msg_t *m) { return sl_ipc(SL_SYS_CALL, ep, m); }
static inline long sl_recv(sl_slot_t ep, sl_msg_t *m) { return sl_ipc(SL_SYS_RECV, ep, m); }
static inline long sl_nbrecv(sl_slot_t ep, sl_msg_t *m) { return sl_ipc(SL_SYS_NBRECV, ep, m); }
static inline long sl_reply(sl_slot_t reply, sl_msg_t *m) { return sl_ipc(SL_SYS_REPLY, reply, m); }
static inline long sl_reply_recv(sl_slot_t ep, sl_msg_t *m) { return sl_ipc(SL_SYS_REPLY_RECV, ep, m); }

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
