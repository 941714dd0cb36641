/*
 * The capability system calls (copy, mint, move, delete, revoke,
 * identify, create), the dispatch of every capability and IPC call under
 * ipc_lock, and the boot wiring of the server's endpoint.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include "ipc_internal.h"
#include <kernel/sched_fast.h>
#include <kernel/silo.h>
#include <kernel/vm.h>

static int sys_create(thread_t *self, const trap_frame_t *f, unsigned type)
{
	cspace_t *cs = cs_of(self);
	cap_t *dst;
	int err = cspace_prepare_empty(cs, slot_arg(f->rdi), &dst);
	size_t size = type == SL_CAP_ENDPOINT ? sizeof(endpoint_t) : sizeof(notification_t);

	if (err < 0)
		return err;
	kobj_t *o = obj_new(self->silo, size, type, &err);
	if (!o)
		return err;
	if (type == SL_CAP_ENDPOINT)
		endpoint_init((endpoint_t *)o);
	else
		waitq_init(&((notification_t *)o)->waiters, "ntfn", &ipc_lock);
	cap_insert_root(cs, slot_arg(f->rdi), o, type, SL_RIGHTS_ALL, 0); /* cannot fail now */
	return SL_OK;
}

static int sys_identify(thread_t *self, const trap_frame_t *f)
{
	cap_t *c;
	int err = cspace_lookup(cs_of(self), slot_arg(f->rdi), SL_CAP_NULL, 0, &c);

	if (err < 0)
		return err;
	sl_cap_info_t info = { c->type, c->rights, c->badge };
	/* Copying to user memory cannot sleep or take locks: it may run here. */
	return copy_to_user(f->rsi, &info, sizeof info);
}

static int64_t cap_call(unsigned nr, thread_t *self, trap_frame_t *f)
{
	cspace_t *cs = cs_of(self);

	switch (nr) {
	case SL_SYS_CAP_COPY: return cap_copy(cs, slot_arg(f->rdi), cs, slot_arg(f->rsi));
	case SL_SYS_CAP_MINT:
		if (f->rdx & ~(uint64_t)SL_RIGHTS_ALL)
			return SL_EINVAL;
		return cap_mint(cs, slot_arg(f->rdi), slot_arg(f->rsi), (unsigned)f->rdx, f->r10);
	case SL_SYS_CAP_MOVE: return cap_move(cs, slot_arg(f->rdi), cs, slot_arg(f->rsi));
	case SL_SYS_CAP_DELETE: return cap_delete(cs, slot_arg(f->rdi));
	case SL_SYS_CAP_REVOKE: return cap_revoke(cs, slot_arg(f->rdi));
	case SL_SYS_CAP_IDENTIFY: return sys_identify(self, f);
	case SL_SYS_EP_CREATE: return sys_create(self, f, SL_CAP_ENDPOINT);
	case SL_SYS_NTFN_CREATE: return sys_create(self, f, SL_CAP_NOTIFICATION);
	case SL_SYS_EVENTS_BIND: return events_bind(self, f);
	case SL_SYS_SIGNAL: return ntfn_signal(self, f);
	case SL_SYS_WAIT: return ntfn_wait(self, f, true);
	case SL_SYS_POLL: return ntfn_wait(self, f, false);
	default: return SL_ENOSYS;
	}
}

/* Every capability and IPC call, under ipc_lock. */
int64_t ipc_syscall(unsigned nr, trap_frame_t *f)
{
	thread_t *self = thread_current();

	spin_lock(&ipc_lock);
	int64_t r = (nr >= SL_SYS_SEND && nr <= SL_SYS_REPLY_RECV) || nr == SL_SYS_REPLY2_RECV
			    ? ep_syscall(nr, self, f)
			    : cap_call(nr, self, f);
	spin_unlock(&ipc_lock);
	return r;
}

/* -------------------------------------------------------------- boot wiring */

int ipc_setup_server(silo_t *server)
{
	int err = SL_OK;

	spin_lock(&ipc_lock);
	kobj_t *ep = obj_new(server, sizeof(endpoint_t), SL_CAP_ENDPOINT, &err);
	if (ep) {
		endpoint_init((endpoint_t *)ep);
		err = cap_insert_root(&server->cspace, SL_SLOT_SERVER, ep, SL_CAP_ENDPOINT,
				      SL_RIGHTS_ALL, 0);
	}
	if (err == SL_OK)
		err = cap_insert_root(&server->cspace, SL_SLOT_SILO_EVENTS, &silo_events_obj,
				      SL_CAP_SILO_EVENTS, SL_RIGHTS_ALL, 0);
	spin_unlock(&ipc_lock);
	return err;
}

int ipc_setup_client(silo_t *client, silo_t *server)
{
	spin_lock(&ipc_lock);
	int err = cap_derive(&server->cspace, SL_SLOT_SERVER, &client->cspace, SL_SLOT_SERVER,
			     SL_RIGHT_SEND | SL_RIGHT_GRANT, (uint64_t)client->id);
	spin_unlock(&ipc_lock);
	return err;
}

/* ---------------------------------------------------------- the fast path */

/* Here, not in fastpath.c: that file is compiled for callers in assembly
 * only (see kernel/CMakeLists.txt), and these two have C callers. */
uint64_t ipc_fastpath_count(void)
{
	return sched_fast_switches;     /* the fast path's blocking calls, one switch each */
}

void ipc_set_fastpath(bool on)
{
	ipc_fastpath_on = on;
	for (int i = 0; i < IPC_FASTPATH_CALLS; i++)
		ipc_fastpath_table[i] = on ? ipc_fast_table[i] : ipc_fast_none;
}
