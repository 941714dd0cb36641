/*
 * Capability and notification system-call stubs.
 */
#include <sys/ipc.h>
#include <sys/sluice.h>

int sl_cap_copy(sl_slot_t src, sl_slot_t dst)
{
	return (int)sl_syscall(SL_SYS_CAP_COPY, src, dst, 0, 0, 0, 0);
}

int sl_cap_mint(sl_slot_t src, sl_slot_t dst, unsigned rights, uint64_t badge)
{
	return (int)sl_syscall(SL_SYS_CAP_MINT, src, dst, rights, (long)badge, 0, 0);
}

int sl_cap_move(sl_slot_t src, sl_slot_t dst)
{
	return (int)sl_syscall(SL_SYS_CAP_MOVE, src, dst, 0, 0, 0, 0);
}

int sl_cap_delete(sl_slot_t slot)
{
	return (int)sl_syscall(SL_SYS_CAP_DELETE, slot, 0, 0, 0, 0, 0);
}

int sl_cap_revoke(sl_slot_t slot)
{
	return (int)sl_syscall(SL_SYS_CAP_REVOKE, slot, 0, 0, 0, 0, 0);
}

int sl_cap_identify(sl_slot_t slot, sl_cap_info_t *info)
{
	return (int)sl_syscall(SL_SYS_CAP_IDENTIFY, slot, (long)info, 0, 0, 0, 0);
}

int sl_ep_create(sl_slot_t dst)
{
	return (int)sl_syscall(SL_SYS_EP_CREATE, dst, 0, 0, 0, 0, 0);
}

int sl_ntfn_create(sl_slot_t dst)
{
	return (int)sl_syscall(SL_SYS_NTFN_CREATE, dst, 0, 0, 0, 0, 0);
}

int sl_events_bind(sl_slot_t events, sl_slot_t ep)
{
	return (int)sl_syscall(SL_SYS_EVENTS_BIND, events, ep, 0, 0, 0, 0);
}

int sl_signal(sl_slot_t ntfn)
{
	return (int)sl_syscall(SL_SYS_SIGNAL, ntfn, 0, 0, 0, 0, 0);
}

/* wait and poll return the word in RDI, which only the register-level
 * stub brings back. */
static int wait_or_poll(long nr, sl_slot_t ntfn, uint64_t *word)
{
	sl_msg_t m = { 0 };
	int r = (int)sl_ipc(nr, ntfn, &m);

	if (r == 0 && word)
		*word = m.badge;
	return r;
}

int sl_wait(sl_slot_t ntfn, uint64_t *word)
{
	return wait_or_poll(SL_SYS_WAIT, ntfn, word);
}

int sl_poll(sl_slot_t ntfn, uint64_t *word)
{
	return wait_or_poll(SL_SYS_POLL, ntfn, word);
}
