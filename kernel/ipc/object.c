/*
 * Kernel objects reached through capabilities: their lifetime (a count of
 * the capabilities naming them plus kernel holds), their charge to the
 * silo that made them, and their death with that silo. The cspace code
 * frees an object through kernel_cap_ops when its last capability goes.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include "ipc_internal.h"
#include <kernel/heap.h>
#include <kernel/pmm.h>
#include <kernel/vm.h>

spinlock_t ipc_lock = SPINLOCK_INIT("ipc");
cap_mdb_t cap_mdb;

/* A cspace chunk is a frame charged to the kmem quota of the silo whose
 * cspace it is (ctx; NULL charges nobody). */
static int chunk_alloc(void *ctx, void **chunk)
{
	silo_t *s = ctx;
	uint64_t pa;

	if (s && quota_charge(&s->kmem, FRAME_SIZE) < 0)
		return SL_EQUOTA;
	if (pmm_alloc(&pa) < 0) {
		if (s)
			quota_uncharge(&s->kmem, FRAME_SIZE);
		return SL_ENOMEM;
	}
	*chunk = phys_to_virt(pa);
	return SL_OK;
}

static void chunk_free(void *ctx, void *chunk)
{
	silo_t *s = ctx;

	pmm_free(virt_to_phys_direct(chunk));
	if (s)
		quota_uncharge(&s->kmem, FRAME_SIZE);
}

static void obj_get(void *obj, unsigned type)
{
	(void)type;
	((kobj_t *)obj)->refs++;
}

static void obj_destroy(kobj_t *o);

/* Takes o off its owner's list and gives the owner its quota back. */
static void owned_unlink(kobj_t *o)
{
	silo_t *s = o->owner;

	if (!s)
		return;
	if (o->owned_prev)
		o->owned_prev->owned_next = o->owned_next;
	else
		s->owned = o->owned_next;
	if (o->owned_next)
		o->owned_next->owned_prev = o->owned_prev;
	quota_uncharge(&s->kmem, o->charge);
	o->owner = NULL;
	o->owned_next = o->owned_prev = NULL;
}

void obj_put(void *obj, unsigned type)
{
	kobj_t *o = obj;

	(void)type;
	if (--o->refs == 0)
		obj_destroy(o);
}

const cap_ops_t kernel_cap_ops = { chunk_alloc, chunk_free, obj_get, obj_put, NULL };

void ipc_cap_ops_for(struct silo *s, cap_ops_t *ops)
{
	*ops = kernel_cap_ops;
	ops->ctx = s;
}

static void obj_destroy(kobj_t *o)
{
	switch (o->type) {
	case SL_CAP_ENDPOINT: {
		endpoint_t *ep = (endpoint_t *)o;
		ipc_fail_all(&ep->senders, SL_EDEAD);
		ipc_fail_all(&ep->receivers, SL_EDEAD);
		break;
	}
	case SL_CAP_NOTIFICATION: ipc_fail_all(&((notification_t *)o)->waiters, SL_EDEAD); break;
	case SL_CAP_REPLY: reply_destroy((reply_t *)o); return;
	default: return; /* the silo-events object is static */
	}
	owned_unlink(o);
	kfree(o);
}

/* A zeroed object of size bytes charged to owner's quota, or NULL. */
kobj_t *obj_new(silo_t *owner, size_t size, unsigned type, int *err)
{
	uint32_t charge = SLAB_MIN_OBJECT;

	while (charge < size)
		charge <<= 1;
	if ((*err = quota_charge(&owner->kmem, charge)) < 0)
		return NULL;
	kobj_t *o = kmalloc(size);
	if (!o) {
		quota_uncharge(&owner->kmem, charge);
		*err = SL_ENOMEM;
		return NULL;
	}
	*o = (kobj_t){ .type = type, .owner = owner, .charge = charge, .owned_next = owner->owned };
	if (owner->owned)
		owner->owned->owned_prev = o;
	owner->owned = o;
	return o;
}

void ipc_orphan_objects(silo_t *s)
{
	while (s->owned) {
		kobj_t *o = s->owned;

		owned_unlink(o);
		o->dead = true;
		if (o->type == SL_CAP_ENDPOINT) {
			ipc_fail_all(&((endpoint_t *)o)->senders, SL_EDEAD);
			ipc_fail_all(&((endpoint_t *)o)->receivers, SL_EDEAD);
		} else if (o->type == SL_CAP_NOTIFICATION) {
			ipc_fail_all(&((notification_t *)o)->waiters, SL_EDEAD);
		}
	}
}

void ipc_init(void)
{
	cap_mdb_init(&cap_mdb);
	reply_init();
}
