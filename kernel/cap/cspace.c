/*
 * Capability spaces and the derivation list. See <kernel/cspace.h>.
 */
#include <abi/errors.h>
#include <kernel/cspace.h>
#include <stddef.h>

void cap_mdb_init(cap_mdb_t *mdb)
{
	mdb->head.prev = mdb->head.next = &mdb->head;
}

void cspace_init(cspace_t *cs, uint32_t size, cap_mdb_t *mdb, const cap_ops_t *ops)
{
	*cs = (cspace_t){ .size = size, .mdb = mdb, .ops = ops };
}

cap_t *cspace_chunk(const cspace_t *cs, uint32_t k)
{
	const cap_dir_t *dir = k / CAP_DIR_CHUNKS < CAP_DIRS ? cs->dirs[k / CAP_DIR_CHUNKS] : NULL;

	return dir ? dir->chunks[k % CAP_DIR_CHUNKS] : NULL;
}

static cap_t *slot_at(const cspace_t *cs, uint32_t slot)
{
	cap_t *chunk = cspace_chunk(cs, slot / CAP_CHUNK);

	return chunk ? &chunk[slot % CAP_CHUNK] : NULL;
}

int cspace_lookup(cspace_t *cs, uint32_t slot, unsigned type, unsigned rights, cap_t **out)
{
	if (slot == SL_SLOT_NULL || slot >= cs->size)
		return SL_EINVAL;
	cap_t *c = slot_at(cs, slot);
	if (!c || !c->obj || (type != SL_CAP_NULL && c->type != type))
		return SL_ECAP;
	if ((c->rights & rights) != rights)
		return SL_EPERM;
	*out = c;
	return SL_OK;
}

/* Makes the directory page and the chunk of slot exist. Both are taken
 * before either is installed, so a failure leaves cs as it was. */
static int chunk_make(cspace_t *cs, uint32_t slot)
{
	cap_dir_t **dir = &cs->dirs[slot / CAP_DIR_SPAN];
	void *fresh_dir = NULL, *fresh_chunk = NULL;
	int err;

	if (!*dir && (err = cs->ops->chunk_alloc(cs->ops->ctx, &fresh_dir)) < 0)
		return err;
	if ((err = cs->ops->chunk_alloc(cs->ops->ctx, &fresh_chunk)) < 0) {
		if (fresh_dir)
			cs->ops->chunk_free(cs->ops->ctx, fresh_dir);
		return err;
	}
	if (fresh_dir)
		*dir = fresh_dir;
	(*dir)->chunks[slot / CAP_CHUNK % CAP_DIR_CHUNKS] = fresh_chunk;
	return SL_OK;
}

int cspace_prepare_empty(cspace_t *cs, uint32_t slot, cap_t **out)
{
	if (slot == SL_SLOT_NULL || slot >= cs->size)
		return SL_EINVAL;
	cap_t *c = slot_at(cs, slot);
	if (!c) {
		int err = chunk_make(cs, slot);

		if (err < 0)
			return err;
		c = slot_at(cs, slot);
	}
	if (c->obj)
		return SL_EEXIST;
	*out = c;
	return SL_OK;
}

static void link_after(cap_t *pos, cap_t *c)
{
	c->prev = pos;
	c->next = pos->next;
	pos->next->prev = c;
	pos->next = c;
}

static void unlink(cap_t *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Fills an empty slot with a capability derived from parent (or a root
 * when parent is NULL) and links it into the derivation list. */
static void fill(const cspace_t *cs, cap_t *dst, const cap_t *parent, void *obj,
		 unsigned type, unsigned rights, uint64_t badge)
{
	*dst = (cap_t){ .obj = obj, .type = (uint8_t)type, .rights = (uint8_t)rights,
			.badge = badge, .depth = parent ? parent->depth + 1 : 0 };
	link_after(parent ? (cap_t *)parent : cs->mdb->head.prev, dst);
	cs->ops->obj_get(obj, type);
}

int cap_insert_root(cspace_t *cs, uint32_t slot, void *obj, unsigned type,
		    unsigned rights, uint64_t badge)
{
	cap_t *dst;
	int err = cspace_prepare_empty(cs, slot, &dst);

	if (err < 0)
		return err;
	fill(cs, dst, NULL, obj, type, rights & SL_RIGHTS_ALL, badge);
	return SL_OK;
}

int cap_insert_leaf(cspace_t *cs, uint32_t slot, void *obj, unsigned type, unsigned rights)
{
	cap_t *dst;
	int err;

	if (rights & ~(unsigned)SL_RIGHTS_ALL || rights & SL_RIGHT_COPY)
		return SL_EINVAL;
	if ((err = cspace_prepare_empty(cs, slot, &dst)) < 0)
		return err;
	*dst = (cap_t){ .obj = obj, .type = (uint8_t)type, .rights = (uint8_t)rights };
	cs->ops->obj_get(obj, type);
	return SL_OK;
}

int cap_derive(cspace_t *src_cs, uint32_t src, cspace_t *dst_cs, uint32_t dst,
	       unsigned rights, uint64_t badge)
{
	cap_t *s, *d;
	int err = cspace_lookup(src_cs, src, SL_CAP_NULL, SL_RIGHT_COPY, &s);

	if (err < 0)
		return err;
	if (badge && s->type != SL_CAP_ENDPOINT && s->type != SL_CAP_NOTIFICATION)
		return SL_EINVAL;
	if (badge && s->badge)
		return SL_EPERM;                /* a badge is set once */
	if ((err = cspace_prepare_empty(dst_cs, dst, &d)) < 0)
		return err;
	fill(dst_cs, d, s, s->obj, s->type, s->rights & rights, badge ? badge : s->badge);
	return SL_OK;
}

int cap_copy(cspace_t *src_cs, uint32_t src, cspace_t *dst_cs, uint32_t dst)
{
	return cap_derive(src_cs, src, dst_cs, dst, SL_RIGHTS_ALL, 0);
}

int cap_mint(cspace_t *cs, uint32_t src, uint32_t dst, unsigned rights, uint64_t badge)
{
	return cap_derive(cs, src, cs, dst, rights, badge);
}

int cap_move(cspace_t *src_cs, uint32_t src, cspace_t *dst_cs, uint32_t dst)
{
	cap_t *s, *d;
	int err = cspace_lookup(src_cs, src, SL_CAP_NULL, 0, &s);

	if (err < 0 || (err = cspace_prepare_empty(dst_cs, dst, &d)) < 0)
		return err;
	*d = *s;
	if (d->prev) {                  /* leaves are on no list */
		d->prev->next = d;
		d->next->prev = d;
	}
	*s = (cap_t){ 0 };
	return SL_OK;
}

void cap_delete_entry(const cspace_t *cs, cap_t *c)
{
	void *obj = c->obj;
	unsigned type = c->type;

	if (c->prev) {
		/* Its descendants stay derived from its parent: one level up. */
		for (cap_t *d = c->next; d != &cs->mdb->head && d->depth > c->depth; d = d->next)
			d->depth--;
		unlink(c);
	}
	*c = (cap_t){ 0 };
	cs->ops->obj_put(obj, type);
}

int cap_delete(cspace_t *cs, uint32_t slot)
{
	cap_t *c;
	int err = cspace_lookup(cs, slot, SL_CAP_NULL, 0, &c);

	if (err < 0)
		return err;
	cap_delete_entry(cs, c);
	return SL_OK;
}

int cap_revoke(cspace_t *cs, uint32_t slot)
{
	cap_t *c;
	int err = cspace_lookup(cs, slot, SL_CAP_NULL, 0, &c), n = 0;

	if (err < 0 || !c->prev)
		return err;             /* 0 for a leaf: it has no descendants */
	/* The entry after c is its first descendant while it is deeper; a
	 * deleted descendant has no descendants left to lift by then. */
	while (c->next != &cs->mdb->head && c->next->depth > c->depth) {
		cap_t *d = c->next;
		void *obj = d->obj;
		unsigned type = d->type;

		unlink(d);
		*d = (cap_t){ 0 };
		cs->ops->obj_put(obj, type);
		n++;
	}
	return n;
}

/* Deletes the capabilities of one chunk and frees it. */
static void chunk_destroy(cspace_t *cs, cap_t *chunk)
{
	for (uint32_t j = 0; j < CAP_CHUNK; j++)
		if (chunk[j].obj)
			cap_delete_entry(cs, &chunk[j]);
	cs->ops->chunk_free(cs->ops->ctx, chunk);
}

void cspace_destroy(cspace_t *cs)
{
	for (uint32_t d = 0; d < CAP_DIRS; d++) {
		cap_dir_t *dir = cs->dirs[d];

		if (!dir)
			continue;
		for (uint32_t k = 0; k < CAP_DIR_CHUNKS; k++)
			if (dir->chunks[k]) {
				chunk_destroy(cs, dir->chunks[k]);
				dir->chunks[k] = NULL;
			}
		cs->ops->chunk_free(cs->ops->ctx, dir);
		cs->dirs[d] = NULL;
	}
}
