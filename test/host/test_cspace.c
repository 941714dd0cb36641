/*
 * Host tests of capability spaces and the derivation list
 * (kernel/cap/cspace.c): the slot, copy, mint, move, delete, revoke, destroy
 * and chunk rules one by one, then a randomized run checked against a
 * reference model that keeps each slot's object, rights, badge and parent.
 *
 * cap_ops is faked: chunks are calloc'd and counted, objects are
 * fake_obj_t's with a reference count and a "freed" flag. Taking a reference
 * to a freed object or dropping one below zero fails the test.
 */
#include <abi/cap.h>
#include <abi/errors.h>
#include <kernel/cspace.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define EP SL_CAP_ENDPOINT
#define NTFN SL_CAP_NOTIFICATION
#define REPLY SL_CAP_REPLY
#define EVENTS SL_CAP_SILO_EVENTS
#define ALL SL_RIGHTS_ALL
#define SEND SL_RIGHT_SEND
#define RECV SL_RIGHT_RECV
#define GRANT SL_RIGHT_GRANT
#define COPY SL_RIGHT_COPY

/* ---- fake cap_ops ------------------------------------------------------- */

typedef struct fake_obj {
	unsigned type;
	int refs;
	bool used;                      /* has had a reference */
	bool freed;                     /* refs went back to zero */
} fake_obj_t;

#define POOL 4096

static struct {
	int live;                       /* chunks allocated, not yet freed */
	int allocs;                     /* chunk_alloc calls */
	int fail;                       /* chunk_alloc returns this error (0: succeeds) */
	int pass;                       /* ... after this many more calls succeed */
} chunks;

static fake_obj_t pool[POOL];
static int npool;

static int chunk_alloc(void *ctx, void **chunk)
{
	assert_ptr_equal(ctx, &chunks);
	chunks.allocs++;
	if (chunks.fail && chunks.pass-- <= 0)
		return chunks.fail;
	void *p = calloc(CAP_CHUNK, sizeof(cap_t));
	assert_non_null(p);
	chunks.live++;
	*chunk = p;
	return SL_OK;
}

static void chunk_free(void *ctx, void *chunk)
{
	assert_ptr_equal(ctx, &chunks);
	assert_non_null(chunk);
	assert_true(chunks.live > 0);
	chunks.live--;
	free(chunk);
}

static void obj_get(void *obj, unsigned type)
{
	fake_obj_t *o = obj;

	assert_non_null(o);
	assert_int_equal(type, o->type);
	if (o->freed)
		fail_msg("obj_get on a freed object");
	o->refs++;
	o->used = true;
}

static void obj_put(void *obj, unsigned type)
{
	fake_obj_t *o = obj;

	assert_non_null(o);
	assert_int_equal(type, o->type);
	if (o->freed || o->refs <= 0)
		fail_msg("obj_put below zero (refs %d, freed %d)", o->refs, o->freed);
	if (--o->refs == 0)
		o->freed = true;
}

static const cap_ops_t ops = { chunk_alloc, chunk_free, obj_get, obj_put, &chunks };

static fake_obj_t *new_obj(unsigned type)
{
	assert_true(npool < POOL);
	pool[npool] = (fake_obj_t){ .type = type };
	return &pool[npool++];
}

/* ---- fixture: two cspaces a and b on one mdb ----------------------------- */

#define CS_SIZE 100                     /* not a multiple of CAP_CHUNK on purpose */
#define CS_CHUNKS ((CS_SIZE + CAP_CHUNK - 1) / CAP_CHUNK)

static cap_mdb_t mdb;
static cspace_t a, b;

static int setup(void **state)
{
	(void)state;
	memset(&chunks, 0, sizeof chunks);
	npool = 0;
	cap_mdb_init(&mdb);
	cspace_init(&a, CS_SIZE, &mdb, &ops);
	cspace_init(&b, CS_SIZE, &mdb, &ops);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cspace_destroy(&a);
	cspace_destroy(&b);
	assert_int_equal(chunks.live, 0);
	assert_ptr_equal(mdb.head.next, &mdb.head);
	assert_ptr_equal(mdb.head.prev, &mdb.head);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

/* A new root capability to o in an empty slot, unbadged. */
static void root(cspace_t *cs, uint32_t slot, fake_obj_t *o, unsigned rights)
{
	assert_int_equal(cap_insert_root(cs, slot, o, o->type, rights, 0), SL_OK);
}

/* Checks slot holds a capability to o with these rights and badge. */
static void expect_cap(cspace_t *cs, uint32_t slot, fake_obj_t *o, unsigned rights,
		       uint64_t badge)
{
	cap_t *c = NULL;

	assert_int_equal(cspace_lookup(cs, slot, SL_CAP_NULL, 0, &c), SL_OK);
	assert_ptr_equal(c->obj, o);
	assert_int_equal(c->type, o->type);
	assert_int_equal(c->rights, rights);
	assert_int_equal(c->badge, badge);
}

static void expect_empty(cspace_t *cs, uint32_t slot)
{
	cap_t *c = NULL;

	assert_int_equal(cspace_lookup(cs, slot, SL_CAP_NULL, 0, &c), SL_ECAP);
	assert_null(c);
}

static void expect_live(const fake_obj_t *o, int refs)
{
	assert_int_equal(o->refs, refs);
	assert_false(o->freed);
}

/* Everything an operation may change: both cspaces' slots, the list head,
 * object references, chunks. */
typedef struct state {
	bool dirs[2][CAP_DIRS];
	bool present[2][CS_CHUNKS];
	cap_t caps[2][CS_CHUNKS * CAP_CHUNK];
	cap_t head;
	int live_chunks;
	int npool;
	fake_obj_t objs[64];
} state_t;

static state_t before, after;

static void take(state_t *s)
{
	cspace_t *cs[2] = { &a, &b };

	memset(s, 0, sizeof *s);
	for (int i = 0; i < 2; i++) {
		for (int d = 0; d < CAP_DIRS; d++)
			s->dirs[i][d] = cs[i]->dirs[d] != NULL;
		for (uint32_t k = 0; k < CS_CHUNKS; k++)
			if ((s->present[i][k] = cspace_chunk(cs[i], k) != NULL))
				memcpy(&s->caps[i][k * CAP_CHUNK], cspace_chunk(cs[i], k),
				       CAP_CHUNK * sizeof(cap_t));
	}
	s->head = mdb.head;
	s->live_chunks = chunks.live;
	s->npool = npool;
	assert_true(npool <= 64);
	memcpy(s->objs, pool, (size_t)npool * sizeof(fake_obj_t));
}

static void save(void)
{
	take(&before);
}

/* Checks nothing changed since save(). */
static void expect_unchanged(void)
{
	take(&after);
	assert_memory_equal(before.dirs, after.dirs, sizeof before.dirs);
	assert_memory_equal(before.present, after.present, sizeof before.present);
	assert_memory_equal(before.caps, after.caps, sizeof before.caps);
	assert_memory_equal(&before.head, &after.head, sizeof before.head);
	assert_int_equal(before.live_chunks, after.live_chunks);
	assert_int_equal(before.npool, after.npool);
	assert_memory_equal(before.objs, after.objs, sizeof before.objs);
}

/* ---- slots and lookup ---------------------------------------------------- */

/* Slot 0 is the null capability: nothing reads, writes, copies or moves it. */
static void test_slot_0_is_the_null_capability(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);
	cap_t *c;

	root(&a, 1, o, ALL);
	save();
	assert_int_equal(cspace_lookup(&a, 0, SL_CAP_NULL, 0, &c), SL_EINVAL);
	assert_int_equal(cspace_prepare_empty(&a, 0, &c), SL_EINVAL);
	assert_int_equal(cap_insert_root(&a, 0, o, EP, ALL, 0), SL_EINVAL);
	assert_int_equal(cap_copy(&a, 1, &a, 0), SL_EINVAL);
	assert_int_equal(cap_copy(&a, 1, &b, 0), SL_EINVAL);
	assert_int_equal(cap_copy(&a, 0, &a, 2), SL_EINVAL);
	assert_int_equal(cap_mint(&a, 1, 0, SEND, 5), SL_EINVAL);
	assert_int_equal(cap_mint(&a, 0, 2, SEND, 5), SL_EINVAL);
	assert_int_equal(cap_move(&a, 1, &a, 0), SL_EINVAL);
	assert_int_equal(cap_move(&a, 1, &b, 0), SL_EINVAL);
	assert_int_equal(cap_move(&a, 0, &a, 2), SL_EINVAL);
	assert_int_equal(cap_delete(&a, 0), SL_EINVAL);
	assert_int_equal(cap_revoke(&a, 0), SL_EINVAL);
	expect_unchanged();
	assert_null(cspace_chunk(&a, 0)[0].obj);
}

/* Slots at or past the cspace's size are SL_EINVAL for every operation,
 * even inside an allocated chunk. */
static void test_slots_at_or_past_size_are_einval(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);
	const uint32_t bad[] = { CS_SIZE, CS_SIZE + 1, 127, 128, SL_CSPACE_MAX - 1,
				 SL_CSPACE_MAX, UINT32_MAX };
	cap_t *c;

	root(&a, CS_SIZE - 1, o, ALL);          /* chunk 1 exists, slot 100 is in it */
	expect_cap(&a, CS_SIZE - 1, o, ALL, 0);
	save();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t s = bad[i];

		assert_int_equal(cspace_lookup(&a, s, SL_CAP_NULL, 0, &c), SL_EINVAL);
		assert_int_equal(cspace_prepare_empty(&a, s, &c), SL_EINVAL);
		assert_int_equal(cap_insert_root(&a, s, o, EP, ALL, 0), SL_EINVAL);
		assert_int_equal(cap_copy(&a, CS_SIZE - 1, &a, s), SL_EINVAL);
		assert_int_equal(cap_copy(&a, s, &b, 1), SL_EINVAL);
		assert_int_equal(cap_mint(&a, CS_SIZE - 1, s, SEND, 0), SL_EINVAL);
		assert_int_equal(cap_move(&a, CS_SIZE - 1, &b, s), SL_EINVAL);
		assert_int_equal(cap_move(&a, s, &b, 1), SL_EINVAL);
		assert_int_equal(cap_delete(&a, s), SL_EINVAL);
		assert_int_equal(cap_revoke(&a, s), SL_EINVAL);
	}
	expect_unchanged();
}

/* An empty slot (chunk allocated or not) looks up as SL_ECAP, and so do
 * copy, mint, move, delete and revoke from it. */
static void test_empty_slot_is_ecap(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);
	cap_t *c;

	assert_int_equal(cspace_lookup(&a, 5, SL_CAP_NULL, 0, &c), SL_ECAP);  /* no chunk */
	root(&a, 1, o, ALL);
	save();
	assert_int_equal(cspace_lookup(&a, 2, SL_CAP_NULL, 0, &c), SL_ECAP);
	assert_int_equal(cspace_lookup(&a, 2, EP, 0, &c), SL_ECAP);
	assert_int_equal(cap_copy(&a, 2, &a, 3), SL_ECAP);
	assert_int_equal(cap_mint(&a, 2, 3, ALL, 1), SL_ECAP);
	assert_int_equal(cap_move(&a, 2, &b, 3), SL_ECAP);
	assert_int_equal(cap_delete(&a, 2), SL_ECAP);
	assert_int_equal(cap_revoke(&a, 2), SL_ECAP);
	assert_int_equal(cap_delete(&b, 70), SL_ECAP);
	expect_unchanged();
}

/* A capability of another type looks up as SL_ECAP (before any rights
 * check); SL_CAP_NULL matches any type. */
static void test_wrong_type_is_ecap(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);
	cap_t *c;

	root(&a, 1, o, SEND);
	assert_int_equal(cspace_lookup(&a, 1, NTFN, 0, &c), SL_ECAP);
	assert_int_equal(cspace_lookup(&a, 1, REPLY, 0, &c), SL_ECAP);
	assert_int_equal(cspace_lookup(&a, 1, EVENTS, 0, &c), SL_ECAP);
	assert_int_equal(cspace_lookup(&a, 1, NTFN, RECV, &c), SL_ECAP);
	c = NULL;
	assert_int_equal(cspace_lookup(&a, 1, EP, SEND, &c), SL_OK);
	assert_ptr_equal(c->obj, o);
	c = NULL;
	assert_int_equal(cspace_lookup(&a, 1, SL_CAP_NULL, 0, &c), SL_OK);
	assert_ptr_equal(c->obj, o);
}

/* A capability missing any of the asked rights looks up as SL_EPERM. */
static void test_missing_right_is_eperm(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(NTFN);
	cap_t *c;

	root(&a, 1, o, SEND | GRANT);
	assert_int_equal(cspace_lookup(&a, 1, NTFN, RECV, &c), SL_EPERM);
	assert_int_equal(cspace_lookup(&a, 1, NTFN, SEND | RECV, &c), SL_EPERM);
	assert_int_equal(cspace_lookup(&a, 1, SL_CAP_NULL, COPY, &c), SL_EPERM);
	assert_int_equal(cspace_lookup(&a, 1, NTFN, ALL, &c), SL_EPERM);
	assert_int_equal(cspace_lookup(&a, 1, NTFN, SEND | GRANT, &c), SL_OK);
	assert_int_equal(cspace_lookup(&a, 1, NTFN, SEND, &c), SL_OK);
	assert_int_equal(cspace_lookup(&a, 1, NTFN, 0, &c), SL_OK);
}

/* cap_insert_root into an occupied slot is SL_EEXIST and changes nothing. */
static void test_insert_root_into_occupied_slot_is_eexist(void **state)
{
	(void)state;
	fake_obj_t *o1 = new_obj(EP), *o2 = new_obj(NTFN);

	root(&a, 3, o1, SEND);
	save();
	assert_int_equal(cap_insert_root(&a, 3, o2, NTFN, ALL, 9), SL_EEXIST);
	assert_int_equal(cap_insert_root(&a, 3, o1, EP, ALL, 0), SL_EEXIST);
	expect_unchanged();
	expect_cap(&a, 3, o1, SEND, 0);
	assert_false(o2->used);
}

/* ---- copy ---------------------------------------------------------------- */

/* Copy and mint need SL_RIGHT_COPY on the source: SL_EPERM otherwise, and
 * the target (empty or not) is untouched. */
static void test_copy_needs_copy_right(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *other = new_obj(EP);

	root(&a, 1, o, SEND | RECV | GRANT);
	root(&b, 3, other, ALL);
	save();
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_EPERM);
	assert_int_equal(cap_copy(&a, 1, &b, 2), SL_EPERM);
	assert_int_equal(cap_copy(&a, 1, &b, 3), SL_EPERM);
	assert_int_equal(cap_mint(&a, 1, 2, SEND, 0), SL_EPERM);
	assert_int_equal(cap_derive(&a, 1, &b, 2, SEND, 7), SL_EPERM);
	expect_unchanged();
	expect_empty(&a, 2);
	expect_empty(&b, 2);
	expect_cap(&b, 3, other, ALL, 0);
	expect_live(o, 1);
}

/* Copy into an occupied slot is SL_EEXIST and changes nothing. */
static void test_copy_into_occupied_slot_is_eexist(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *other = new_obj(NTFN);

	root(&a, 1, o, ALL);
	root(&b, 1, other, ALL);
	save();
	assert_int_equal(cap_copy(&a, 1, &b, 1), SL_EEXIST);
	assert_int_equal(cap_copy(&a, 1, &a, 1), SL_EEXIST);
	assert_int_equal(cap_mint(&a, 1, 1, SEND, 3), SL_EEXIST);
	expect_unchanged();
}

/* A copy has the source's rights and badge, in the same or another cspace,
 * and holds its own object reference. */
static void test_copy_keeps_rights_and_badge(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	assert_int_equal(cap_insert_root(&a, 1, o, EP, SEND | COPY, 77), SL_OK);
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);
	assert_int_equal(cap_copy(&a, 2, &b, 70), SL_OK);
	expect_cap(&a, 1, o, SEND | COPY, 77);
	expect_cap(&a, 2, o, SEND | COPY, 77);
	expect_cap(&b, 70, o, SEND | COPY, 77);
	expect_live(o, 3);
}

/* A copy is derived from its source: revoking the source deletes it and
 * its own copies, across cspaces. */
static void test_copy_is_derived_from_its_source(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);
	assert_int_equal(cap_copy(&a, 1, &b, 2), SL_OK);
	assert_int_equal(cap_copy(&b, 2, &a, 3), SL_OK);
	assert_int_equal(cap_revoke(&b, 2), 1);         /* the copy's copy */
	expect_empty(&a, 3);
	expect_cap(&b, 2, o, ALL, 0);
	assert_int_equal(cap_copy(&b, 2, &a, 3), SL_OK);
	assert_int_equal(cap_revoke(&a, 1), 2);
	expect_empty(&b, 2);
	expect_empty(&a, 3);
	expect_cap(&a, 1, o, ALL, 0);
	expect_live(o, 1);
}

/* ---- mint ---------------------------------------------------------------- */

/* Mint only drops rights: asking for more than the source has gives the
 * source's rights, never more. */
static void test_mint_rights_only_shrink(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, SEND | COPY);
	assert_int_equal(cap_mint(&a, 1, 2, ALL, 0), SL_OK);
	expect_cap(&a, 2, o, SEND | COPY, 0);
	assert_int_equal(cap_mint(&a, 1, 3, 0xff, 0), SL_OK);
	expect_cap(&a, 3, o, SEND | COPY, 0);
	assert_int_equal(cap_mint(&a, 2, 4, RECV | COPY, 0), SL_OK);
	expect_cap(&a, 4, o, COPY, 0);
	assert_int_equal(cap_mint(&a, 1, 5, SEND, 0), SL_OK);
	expect_cap(&a, 5, o, SEND, 0);
	assert_int_equal(cap_mint(&a, 5, 6, ALL, 0), SL_EPERM);    /* COPY dropped */
	assert_int_equal(cap_derive(&a, 4, &b, 1, ALL, 0), SL_OK);
	expect_cap(&b, 1, o, COPY, 0);
	expect_live(o, 6);
}

/* Mint can badge an unbadged endpoint or notification; the result is
 * derived from the source, which keeps no badge. */
static void test_mint_badges_unbadged_endpoint_or_notification(void **state)
{
	(void)state;
	fake_obj_t *ep = new_obj(EP), *nt = new_obj(NTFN);

	root(&a, 1, ep, ALL);
	root(&a, 2, nt, ALL);
	assert_int_equal(cap_mint(&a, 1, 3, SEND | COPY, 42), SL_OK);
	assert_int_equal(cap_mint(&a, 2, 4, SEND, 7), SL_OK);
	assert_int_equal(cap_derive(&a, 1, &b, 5, SEND, UINT64_MAX), SL_OK);
	expect_cap(&a, 3, ep, SEND | COPY, 42);
	expect_cap(&a, 4, nt, SEND, 7);
	expect_cap(&b, 5, ep, SEND, UINT64_MAX);
	expect_cap(&a, 1, ep, ALL, 0);
	expect_cap(&a, 2, nt, ALL, 0);
	assert_int_equal(cap_revoke(&a, 1), 2);
	assert_int_equal(cap_revoke(&a, 2), 1);
	expect_live(ep, 1);
	expect_live(nt, 1);
}

/* A badged capability cannot be re-badged (SL_EPERM, nothing changes),
 * whatever the new badge and whoever set the first. */
static void test_badged_cap_cannot_be_rebadged(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *n = new_obj(NTFN);

	root(&a, 1, o, ALL);
	assert_int_equal(cap_mint(&a, 1, 2, ALL, 42), SL_OK);
	assert_int_equal(cap_insert_root(&a, 3, n, NTFN, ALL, 5), SL_OK);
	save();
	assert_int_equal(cap_mint(&a, 2, 4, ALL, 43), SL_EPERM);
	assert_int_equal(cap_mint(&a, 2, 4, ALL, 42), SL_EPERM);
	assert_int_equal(cap_derive(&a, 2, &b, 4, SEND, 1), SL_EPERM);
	assert_int_equal(cap_mint(&a, 3, 4, ALL, 6), SL_EPERM);
	expect_unchanged();
}

/* A badged capability minted with badge 0 keeps its badge, with fewer
 * rights if asked. */
static void test_badged_cap_minted_with_badge_0_keeps_badge(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);
	assert_int_equal(cap_mint(&a, 1, 2, ALL, 42), SL_OK);
	assert_int_equal(cap_mint(&a, 2, 3, SEND | COPY, 0), SL_OK);
	assert_int_equal(cap_mint(&a, 3, 4, SEND, 0), SL_OK);
	expect_cap(&a, 3, o, SEND | COPY, 42);
	expect_cap(&a, 4, o, SEND, 42);
	assert_int_equal(cap_revoke(&a, 2), 2);
}

/* Badging a reply or silo-events capability is SL_EINVAL (even unbadged,
 * with the copy right); minting them without a badge works. */
static void test_badging_reply_or_silo_events_is_einval(void **state)
{
	(void)state;
	fake_obj_t *r = new_obj(REPLY), *e = new_obj(EVENTS);

	root(&a, 1, r, ALL);
	root(&a, 2, e, ALL);
	save();
	assert_int_equal(cap_mint(&a, 1, 3, ALL, 5), SL_EINVAL);
	assert_int_equal(cap_mint(&a, 2, 3, ALL, 5), SL_EINVAL);
	assert_int_equal(cap_derive(&a, 1, &b, 3, SEND, 1), SL_EINVAL);
	expect_unchanged();
	assert_int_equal(cap_mint(&a, 1, 3, SEND | COPY, 0), SL_OK);
	assert_int_equal(cap_mint(&a, 2, 4, RECV, 0), SL_OK);
	expect_cap(&a, 3, r, SEND | COPY, 0);
	expect_cap(&a, 4, e, RECV, 0);
}

/* ---- move ---------------------------------------------------------------- */

/* Move empties the source and the capability arrives intact (object, type,
 * rights, badge), within one cspace, with no reference change. */
static void test_move_empties_source_and_arrives_intact(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(NTFN);

	assert_int_equal(cap_insert_root(&a, 1, o, NTFN, SEND | COPY, 9), SL_OK);
	assert_int_equal(cap_move(&a, 1, &a, 70), SL_OK);     /* to another chunk */
	expect_empty(&a, 1);
	expect_cap(&a, 70, o, SEND | COPY, 9);
	assert_int_equal(cap_move(&a, 70, &a, 71), SL_OK);    /* within a chunk */
	expect_empty(&a, 70);
	expect_cap(&a, 71, o, SEND | COPY, 9);
	expect_live(o, 1);
	assert_int_equal(cap_move(&a, 70, &a, 72), SL_ECAP);
}

/* Move works across cspaces, and back. */
static void test_move_across_cspaces(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	assert_int_equal(cap_insert_root(&a, 1, o, EP, SEND | GRANT, 3), SL_OK);
	assert_int_equal(cap_move(&a, 1, &b, 1), SL_OK);
	expect_empty(&a, 1);
	expect_cap(&b, 1, o, SEND | GRANT, 3);
	assert_int_equal(cap_move(&b, 1, &a, 99), SL_OK);
	expect_empty(&b, 1);
	expect_cap(&a, 99, o, SEND | GRANT, 3);
	expect_live(o, 1);
}

/* A moved child stays derived from its parent: revoking the parent after
 * the move deletes it. */
static void test_moved_child_stays_derived(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);
	assert_int_equal(cap_move(&a, 2, &b, 10), SL_OK);
	assert_int_equal(cap_move(&b, 10, &b, 80), SL_OK);
	assert_int_equal(cap_revoke(&a, 1), 1);
	expect_empty(&b, 80);
	expect_live(o, 1);
}

/* A moved parent keeps its children: revoking it at its new slot deletes
 * them; the same for a moved middle of a chain. */
static void test_moved_parent_keeps_its_children(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);        /* C */
	assert_int_equal(cap_copy(&a, 2, &b, 3), SL_OK);        /* GC */
	assert_int_equal(cap_move(&a, 2, &a, 90), SL_OK);
	assert_int_equal(cap_revoke(&a, 90), 1);
	expect_empty(&b, 3);
	assert_int_equal(cap_copy(&a, 90, &b, 3), SL_OK);
	assert_int_equal(cap_move(&a, 1, &b, 50), SL_OK);
	assert_int_equal(cap_revoke(&b, 50), 2);
	expect_empty(&a, 90);
	expect_empty(&b, 3);
	expect_cap(&b, 50, o, ALL, 0);
	expect_live(o, 1);
}

/* Move into an occupied slot (its own included) fails with SL_EEXIST and
 * changes nothing. */
static void test_move_to_occupied_slot_fails(void **state)
{
	(void)state;
	fake_obj_t *o1 = new_obj(EP), *o2 = new_obj(NTFN);

	root(&a, 1, o1, ALL);
	root(&a, 2, o2, ALL);
	assert_int_equal(cap_copy(&a, 1, &b, 3), SL_OK);
	save();
	assert_int_equal(cap_move(&a, 1, &a, 2), SL_EEXIST);
	assert_int_equal(cap_move(&a, 1, &a, 1), SL_EEXIST);
	assert_int_equal(cap_move(&a, 2, &b, 3), SL_EEXIST);
	assert_int_equal(cap_move(&b, 3, &a, 1), SL_EEXIST);
	expect_unchanged();
}

/* ---- delete -------------------------------------------------------------- */

/* Delete empties the slot and drops exactly one object reference; deleting
 * it again is SL_ECAP. */
static void test_delete_empties_slot_and_drops_one_reference(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);
	assert_int_equal(cap_copy(&a, 1, &b, 3), SL_OK);
	expect_live(o, 3);
	assert_int_equal(cap_delete(&a, 2), SL_OK);
	expect_empty(&a, 2);
	expect_live(o, 2);
	assert_int_equal(cap_delete(&a, 2), SL_ECAP);
	expect_live(o, 2);
	expect_cap(&a, 1, o, ALL, 0);
	expect_cap(&b, 3, o, ALL, 0);
}

/* An object is freed exactly when its last capability goes, whichever that
 * is (the root may go first), and not before. */
static void test_object_freed_exactly_with_last_cap(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *other = new_obj(EP);

	root(&a, 1, o, ALL);
	root(&a, 5, other, ALL);
	assert_int_equal(cap_copy(&a, 1, &b, 1), SL_OK);
	assert_int_equal(cap_mint(&a, 1, 2, ALL, 8), SL_OK);
	assert_int_equal(cap_move(&a, 2, &b, 2), SL_OK);
	assert_int_equal(cap_delete(&a, 1), SL_OK);             /* the root */
	expect_live(o, 2);
	assert_int_equal(cap_delete(&b, 2), SL_OK);
	expect_live(o, 1);
	assert_int_equal(cap_delete(&b, 1), SL_OK);
	assert_int_equal(o->refs, 0);
	assert_true(o->freed);
	expect_live(other, 1);
}

/* Deleting a capability keeps its children, now derived from its parent:
 * revoking the grandparent deletes them. */
static void test_deleted_caps_children_stay_derived_from_grandparent(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);                                    /* G */
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);        /* P */
	assert_int_equal(cap_copy(&a, 2, &a, 3), SL_OK);        /* C1 */
	assert_int_equal(cap_copy(&a, 2, &b, 4), SL_OK);        /* C2 */
	assert_int_equal(cap_copy(&a, 3, &b, 5), SL_OK);        /* GC of C1 */
	assert_int_equal(cap_delete(&a, 2), SL_OK);
	expect_cap(&a, 3, o, ALL, 0);
	expect_cap(&b, 4, o, ALL, 0);
	expect_cap(&b, 5, o, ALL, 0);
	assert_int_equal(cap_revoke(&b, 4), 0);                 /* C2 is not C1's parent */
	assert_int_equal(cap_copy(&a, 1, &a, 6), SL_OK);        /* a new child of G... */
	assert_int_equal(cap_revoke(&a, 6), 0);                 /* ...is not theirs */
	assert_int_equal(cap_revoke(&a, 1), 4);
	expect_live(o, 1);
}

/* Deleting a root makes its children roots: they survive and are not each
 * other's descendants. */
static void test_deleted_roots_children_become_roots(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);
	assert_int_equal(cap_copy(&a, 1, &b, 3), SL_OK);
	assert_int_equal(cap_copy(&a, 2, &a, 4), SL_OK);
	assert_int_equal(cap_delete(&a, 1), SL_OK);
	assert_int_equal(cap_revoke(&b, 3), 0);
	assert_int_equal(cap_revoke(&a, 2), 1);
	expect_cap(&b, 3, o, ALL, 0);
	expect_live(o, 2);
}

/* The children of a deleted capability are not revoked with a sibling that
 * came before it (P; A, X copies of P; AC of A; XC of X; delete X). */
static void test_deleted_caps_children_not_revoked_by_earlier_sibling(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);                                    /* P */
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);        /* A */
	assert_int_equal(cap_copy(&a, 2, &b, 3), SL_OK);        /* AC */
	assert_int_equal(cap_copy(&a, 1, &a, 4), SL_OK);        /* X */
	assert_int_equal(cap_copy(&a, 4, &b, 5), SL_OK);        /* XC */
	assert_int_equal(cap_delete(&a, 4), SL_OK);
	assert_int_equal(cap_revoke(&a, 2), 1);
	expect_empty(&b, 3);
	expect_cap(&b, 5, o, ALL, 0);
	assert_int_equal(cap_revoke(&a, 1), 2);                 /* A and XC */
	expect_empty(&b, 5);
	expect_empty(&a, 2);
	expect_live(o, 1);
}

/* ---- revoke -------------------------------------------------------------- */

/* Revoke deletes every descendant at any depth in any cspace and returns
 * how many; their references go with them. */
static void test_revoke_deletes_all_descendants_and_counts_them(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);

	root(&a, 1, o, ALL);
	assert_int_equal(cap_copy(&a, 1, &b, 1), SL_OK);        /* C1 */
	assert_int_equal(cap_mint(&a, 1, 2, ALL, 4), SL_OK);    /* C2 */
	assert_int_equal(cap_copy(&b, 1, &b, 2), SL_OK);        /* C1a */
	assert_int_equal(cap_copy(&b, 2, &a, 3), SL_OK);        /* C1aa */
	assert_int_equal(cap_copy(&a, 3, &b, 90), SL_OK);       /* C1aaa */
	assert_int_equal(cap_copy(&a, 2, &b, 3), SL_OK);        /* C2a */
	expect_live(o, 7);
	assert_int_equal(cap_revoke(&a, 1), 6);
	for (uint32_t s = 1; s < CS_SIZE; s++) {
		if (s != 1)
			expect_empty(&a, s);
		expect_empty(&b, s);
	}
	expect_live(o, 1);
	assert_int_equal(cap_revoke(&a, 1), 0);
}

/* Revoke leaves the revoked capability, its parent, its siblings, other
 * roots of the same object and other objects' capabilities alone. */
static void test_revoke_leaves_cap_and_unrelated_caps(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *other = new_obj(NTFN);

	root(&a, 1, o, ALL);                                    /* G */
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);        /* P, revoked */
	assert_int_equal(cap_copy(&a, 1, &a, 3), SL_OK);        /* sibling of P */
	assert_int_equal(cap_copy(&a, 3, &b, 4), SL_OK);        /* its child */
	assert_int_equal(cap_copy(&a, 2, &b, 5), SL_OK);        /* P's child */
	root(&b, 6, o, SEND | COPY);                            /* another root of o */
	assert_int_equal(cap_copy(&b, 6, &a, 7), SL_OK);
	root(&b, 8, other, ALL);
	assert_int_equal(cap_copy(&b, 8, &a, 9), SL_OK);
	assert_int_equal(cap_revoke(&a, 2), 1);
	expect_empty(&b, 5);
	expect_cap(&a, 2, o, ALL, 0);
	expect_cap(&a, 1, o, ALL, 0);
	expect_cap(&a, 3, o, ALL, 0);
	expect_cap(&b, 4, o, ALL, 0);
	expect_cap(&b, 6, o, SEND | COPY, 0);
	expect_cap(&a, 7, o, SEND | COPY, 0);
	expect_cap(&b, 8, other, ALL, 0);
	expect_cap(&a, 9, other, ALL, 0);
	expect_live(o, 6);
	expect_live(other, 2);
}

/* Revoking a root with no children returns 0 and changes nothing. */
static void test_revoke_of_childless_root_returns_0(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *p = new_obj(EP);

	root(&a, 1, o, ALL);
	root(&a, 2, p, ALL);                    /* right after it on the list */
	save();
	assert_int_equal(cap_revoke(&a, 1), 0);
	assert_int_equal(cap_revoke(&a, 2), 0);
	expect_unchanged();
}

/* A reused slot does not resurrect a stale capability: lookups see only the
 * new one, and revoking the old one's parent does not touch it. */
static void test_reused_slot_does_not_resurrect_stale_cap(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *n = new_obj(NTFN);
	cap_t *c;

	root(&a, 1, o, ALL);                                    /* P */
	assert_int_equal(cap_copy(&a, 1, &a, 2), SL_OK);        /* C */
	assert_int_equal(cap_copy(&a, 2, &b, 1), SL_OK);        /* GC */
	assert_int_equal(cap_delete(&a, 2), SL_OK);
	root(&a, 2, n, RECV);
	expect_cap(&a, 2, n, RECV, 0);
	assert_int_equal(cspace_lookup(&a, 2, EP, 0, &c), SL_ECAP);
	assert_int_equal(cspace_lookup(&a, 2, NTFN, COPY, &c), SL_EPERM);
	assert_int_equal(cap_revoke(&a, 2), 0);                 /* GC is not its child */
	expect_cap(&b, 1, o, ALL, 0);
	assert_int_equal(cap_revoke(&a, 1), 1);                 /* GC only */
	expect_cap(&a, 2, n, RECV, 0);
	expect_empty(&b, 1);
	expect_live(o, 1);
	expect_live(n, 1);
}

/* ---- destroy ------------------------------------------------------------- */

/* cspace_destroy deletes every capability in the cspace (objects only it
 * held are freed) and frees every chunk. */
static void test_cspace_destroy_deletes_all_caps_and_chunks(void **state)
{
	(void)state;
	fake_obj_t *mine = new_obj(EP), *shared = new_obj(NTFN), *r = new_obj(REPLY);

	root(&b, 1, mine, ALL);
	assert_int_equal(cap_copy(&b, 1, &b, 70), SL_OK);
	assert_int_equal(cap_mint(&b, 1, 99, SEND, 5), SL_OK);
	root(&b, 2, r, ALL);
	root(&a, 1, shared, ALL);
	assert_int_equal(cap_copy(&a, 1, &b, 3), SL_OK);
	assert_int_equal(cap_copy(&b, 3, &b, 80), SL_OK);
	assert_int_equal(chunks.live, 5);                       /* 3 chunks, 2 directory pages */
	cspace_destroy(&b);
	assert_int_equal(chunks.live, 2);
	for (int d = 0; d < CAP_DIRS; d++)
		assert_null(b.dirs[d]);
	for (uint32_t k = 0; k < SL_CSPACE_MAX / CAP_CHUNK; k++)
		assert_null(cspace_chunk(&b, k));
	assert_true(mine->freed);
	assert_true(r->freed);
	expect_live(shared, 1);
	for (uint32_t s = 1; s < CS_SIZE; s++)
		expect_empty(&b, s);
	expect_cap(&a, 1, shared, ALL, 0);
	assert_int_equal(cap_revoke(&a, 1), 0);
}

/* After cspace_destroy the other cspace's derivation stays consistent: its
 * capabilities derived through the destroyed ones are still revocable. */
static void test_cspace_destroy_keeps_other_cspace_revocable(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *q = new_obj(NTFN);

	root(&a, 1, o, ALL);                                    /* P */
	assert_int_equal(cap_copy(&a, 1, &b, 1), SL_OK);        /* in b */
	assert_int_equal(cap_copy(&b, 1, &a, 2), SL_OK);
	assert_int_equal(cap_copy(&a, 2, &b, 2), SL_OK);        /* in b */
	assert_int_equal(cap_copy(&b, 2, &a, 3), SL_OK);
	assert_int_equal(cap_copy(&a, 1, &a, 4), SL_OK);
	root(&b, 5, q, ALL);                                    /* a root in b */
	assert_int_equal(cap_copy(&b, 5, &a, 10), SL_OK);
	assert_int_equal(cap_copy(&a, 10, &a, 11), SL_OK);
	assert_int_equal(cap_copy(&b, 5, &a, 12), SL_OK);
	cspace_destroy(&b);
	expect_live(o, 4);
	expect_live(q, 3);
	assert_int_equal(cap_revoke(&a, 10), 1);
	assert_int_equal(cap_revoke(&a, 12), 0);
	assert_int_equal(cap_revoke(&a, 2), 1);
	assert_int_equal(cap_copy(&a, 2, &a, 3), SL_OK);
	assert_int_equal(cap_revoke(&a, 1), 3);
	expect_live(o, 1);
	expect_live(q, 2);
}

/* ---- chunks -------------------------------------------------------------- */

/* A fresh cspace has no chunks, and failed operations do not allocate. */
static void test_fresh_cspace_has_no_chunks(void **state)
{
	(void)state;
	cap_t *c;

	for (int d = 0; d < CAP_DIRS; d++)
		assert_null(a.dirs[d]);
	for (uint32_t k = 0; k < SL_CSPACE_MAX / CAP_CHUNK; k++)
		assert_null(cspace_chunk(&a, k));
	assert_int_equal(cspace_lookup(&a, 5, SL_CAP_NULL, 0, &c), SL_ECAP);
	assert_int_equal(cap_delete(&a, 5), SL_ECAP);
	assert_int_equal(cap_revoke(&a, 5), SL_ECAP);
	assert_int_equal(cap_copy(&a, 5, &b, 6), SL_ECAP);
	assert_int_equal(cap_move(&a, 5, &b, 6), SL_ECAP);
	assert_int_equal(chunks.allocs, 0);
	assert_int_equal(chunks.live, 0);
}

/* Using slot 1000 of a full-size cspace allocates exactly one chunk, the
 * one holding it, and its directory page; slots of that chunk need no
 * more. */
static void test_slot_1000_allocates_exactly_one_chunk(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);
	cspace_t big;

	cspace_init(&big, SL_CSPACE_MAX, &mdb, &ops);
	root(&big, 1000, o, ALL);
	assert_int_equal(chunks.allocs, 2);
	assert_int_equal(chunks.live, 2);
	for (uint32_t k = 0; k < SL_CSPACE_MAX / CAP_CHUNK; k++)
		if (k == 1000 / CAP_CHUNK)
			assert_non_null(cspace_chunk(&big, k));
		else
			assert_null(cspace_chunk(&big, k));
	assert_int_equal(cap_copy(&big, 1000, &big, 1023), SL_OK);
	assert_int_equal(cap_move(&big, 1023, &big, 960), SL_OK);
	assert_int_equal(chunks.allocs, 2);
	assert_int_equal(cap_copy(&big, 1000, &big, SL_CSPACE_MAX - 1), SL_OK);
	assert_int_equal(chunks.live, 4);                       /* another directory page */
	cspace_destroy(&big);
	assert_int_equal(chunks.live, 0);
	assert_true(o->freed);
}

/* A chunk_alloc failure is SL_ENOMEM for insert, copy, mint and move, and
 * changes nothing; the same call works once memory is back. */
static void test_chunk_alloc_failure_is_enomem(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *n = new_obj(NTFN);

	root(&a, 1, o, ALL);
	chunks.fail = SL_ENOMEM;
	save();
	assert_int_equal(cap_insert_root(&a, 70, n, NTFN, ALL, 0), SL_ENOMEM);
	assert_int_equal(cap_insert_root(&b, 1, n, NTFN, ALL, 0), SL_ENOMEM);
	assert_int_equal(cap_copy(&a, 1, &a, 70), SL_ENOMEM);
	assert_int_equal(cap_mint(&a, 1, 70, SEND, 3), SL_ENOMEM);
	assert_int_equal(cap_derive(&a, 1, &b, 2, SEND, 3), SL_ENOMEM);
	assert_int_equal(cap_move(&a, 1, &a, 70), SL_ENOMEM);
	assert_int_equal(cap_move(&a, 1, &b, 2), SL_ENOMEM);
	expect_unchanged();
	assert_false(n->used);
	expect_cap(&a, 1, o, ALL, 0);
	chunks.fail = 0;
	assert_int_equal(cap_copy(&a, 1, &a, 70), SL_OK);
	assert_int_equal(chunks.live, 3);
	assert_int_equal(cap_revoke(&a, 1), 1);
}

/* A chunk refused by the owner's quota is SL_EQUOTA, passed through as
 * the chunk source gave it, and changes nothing either. */
static void test_chunk_quota_failure_is_equota(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP), *n = new_obj(NTFN);

	root(&a, 1, o, ALL);
	chunks.fail = SL_EQUOTA;
	save();
	assert_int_equal(cap_insert_root(&a, 70, n, NTFN, ALL, 0), SL_EQUOTA);
	assert_int_equal(cap_copy(&a, 1, &a, 70), SL_EQUOTA);
	assert_int_equal(cap_move(&a, 1, &b, 2), SL_EQUOTA);
	expect_unchanged();
	assert_false(n->used);
	chunks.fail = 0;
	assert_int_equal(cap_copy(&a, 1, &a, 70), SL_OK);
	assert_int_equal(cap_revoke(&a, 1), 1);
}

/* ---- large spaces and directory pages ------------------------------------- */

/* A space of 10,064 slots (chanscale many 10000's) filled completely:
 * every slot holds its own capability, a copy across directory pages
 * works, and it costs exactly one chunk per 64 slots plus one directory
 * page; destroy frees every one and every object. */
static void test_10064_slot_space_filled_completely(void **state)
{
	(void)state;
	enum { N = 10064 };
	static fake_obj_t objs[N];
	cspace_t big;
	cap_t *c;

	cspace_init(&big, N, &mdb, &ops);
	for (uint32_t s = 1; s < N; s++) {
		objs[s] = (fake_obj_t){ .type = EP };
		assert_int_equal(cap_insert_root(&big, s, &objs[s], EP, ALL, s), SL_OK);
	}
	assert_int_equal(chunks.live, (N + CAP_CHUNK - 1) / CAP_CHUNK + 1);
	assert_int_equal(chunks.allocs, chunks.live);
	for (uint32_t s = 1; s < N; s++) {
		assert_int_equal(cspace_lookup(&big, s, EP, ALL, &c), SL_OK);
		assert_ptr_equal(c->obj, &objs[s]);
		assert_int_equal(c->badge, s);
	}
	assert_int_equal(cspace_lookup(&big, N, SL_CAP_NULL, 0, &c), SL_EINVAL);
	assert_int_equal(cap_copy(&big, N - 1, &big, N), SL_EINVAL);
	assert_int_equal(cap_delete(&big, 5000), SL_OK);
	assert_int_equal(cap_copy(&big, N - 1, &big, 5000), SL_OK);
	assert_int_equal(cap_revoke(&big, N - 1), 1);
	assert_int_equal(chunks.allocs, chunks.live);
	cspace_destroy(&big);
	assert_int_equal(chunks.live, 0);
	assert_null(big.dirs[0]);
	for (uint32_t s = 1; s < N; s++)
		assert_true(objs[s].freed);
}

/* The slots either side of every directory boundary, and the last slot
 * of the largest space, each reach their own chunk; a capability moves
 * and copies across directory pages; destroy frees all of it. */
static void test_directory_boundaries_of_largest_space(void **state)
{
	(void)state;
	fake_obj_t *o = new_obj(EP);
	cspace_t big;
	cap_t *c, *prev = NULL;

	cspace_init(&big, SL_CSPACE_MAX, &mdb, &ops);
	root(&big, CAP_DIR_SPAN - 1, o, ALL);
	for (uint32_t d = 1; d < CAP_DIRS; d++) {
		assert_int_equal(cap_copy(&big, CAP_DIR_SPAN - 1, &big, d * CAP_DIR_SPAN - 1), d == 1 ? SL_EEXIST : SL_OK);
		assert_int_equal(cap_copy(&big, CAP_DIR_SPAN - 1, &big, d * CAP_DIR_SPAN), SL_OK);
	}
	assert_int_equal(cap_move(&big, CAP_DIR_SPAN, &big, SL_CSPACE_MAX - 1), SL_OK);
	assert_int_equal(chunks.live, CAP_DIRS + 2 * CAP_DIRS - 1);    /* directory pages, chunks */
	for (uint32_t d = 1; d < CAP_DIRS; d++) {
		assert_int_equal(cspace_lookup(&big, d * CAP_DIR_SPAN - 1, EP, ALL, &c), SL_OK);
		assert_ptr_not_equal(c, prev);
		prev = c;
	}
	expect_empty(&big, CAP_DIR_SPAN);
	expect_cap(&big, SL_CSPACE_MAX - 1, o, ALL, 0);
	expect_live(o, 2 * CAP_DIRS - 2);
	assert_int_equal(cap_copy(&big, 1, &big, SL_CSPACE_MAX), SL_ECAP);
	assert_int_equal(cap_copy(&big, CAP_DIR_SPAN - 1, &big, SL_CSPACE_MAX), SL_EINVAL);
	assert_null(cspace_chunk(&big, SL_CSPACE_MAX / CAP_CHUNK));
	assert_null(cspace_chunk(&big, UINT32_MAX));
	cspace_destroy(&big);
	assert_int_equal(chunks.live, 0);
	assert_true(o->freed);
}

/* A slot whose directory page is missing needs two blocks. If either is
 * refused (the directory page, or the chunk after the directory page was
 * given), the call fails with that error and nothing is left allocated:
 * a directory page taken for a failed call is given back. */
static void test_directory_page_failure_changes_nothing(void **state)
{
	(void)state;
	const int errs[] = { SL_ENOMEM, SL_EQUOTA };
	fake_obj_t *o = new_obj(EP), *n = new_obj(NTFN);
	cspace_t big;

	cspace_init(&big, SL_CSPACE_MAX, &mdb, &ops);
	root(&a, 1, o, ALL);
	root(&big, 5, o, ALL);
	for (int e = 0; e < 2; e++)
		for (int pass = 0; pass < 2; pass++) {
			int live = chunks.live, allocs = chunks.allocs;

			chunks.fail = errs[e];
			chunks.pass = pass;
			assert_int_equal(cap_copy(&a, 1, &big, 40000), errs[e]);
			chunks.pass = pass;
			assert_int_equal(cap_insert_root(&big, 20000, n, NTFN, ALL, 0), errs[e]);
			chunks.pass = pass;
			assert_int_equal(cap_move(&big, 5, &big, 60000), errs[e]);
			assert_int_equal(chunks.allocs, allocs + 3 * (pass + 1));
			assert_int_equal(chunks.live, live);
			for (int d = 1; d < CAP_DIRS; d++)
				assert_null(big.dirs[d]);
			expect_cap(&big, 5, o, ALL, 0);
			expect_live(o, 2);
			assert_false(n->used);
		}
	/* A refused chunk under an existing directory page keeps that page. */
	chunks.fail = SL_EQUOTA;
	chunks.pass = 0;
	assert_int_equal(cap_copy(&a, 1, &big, 1000), SL_EQUOTA);
	assert_non_null(big.dirs[0]);
	assert_null(cspace_chunk(&big, 1000 / CAP_CHUNK));
	chunks.fail = 0;
	assert_int_equal(cap_move(&big, 5, &big, 60000), SL_OK);
	assert_int_equal(cap_copy(&a, 1, &big, 40000), SL_OK);
	assert_int_equal(chunks.live, 2 + 2 + 2 + 2);          /* a; big's dirs 0, 2, 3 */
	cspace_destroy(&big);
	assert_int_equal(chunks.live, 2);
	expect_live(o, 1);
}

/* ---- randomized run against a model --------------------------------------- */

#define RCS 3
#define RSLOTS 64
#define ROBJS 6
#define RSTEPS 5000
#define RID(cs, slot) ((int)((cs) * RSLOTS + (slot)))

/* The model of one slot: obj NULL when empty; parent is the slot id
 * (RID) of the capability it derives from, or -1 for a root. */
typedef struct mcap {
	fake_obj_t *obj;
	unsigned rights;
	uint64_t badge;
	int parent;
} mcap_t;

static cspace_t rcs[RCS];
static mcap_t model[RCS][RSLOTS];
static fake_obj_t *robj[ROBJS];
static const unsigned robj_type[ROBJS] = { EP, EP, NTFN, NTFN, REPLY, EVENTS };
static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32) % n;
}

static mcap_t *mc(int id)
{
	return &model[id / RSLOTS][id % RSLOTS];
}

/* Mostly a valid slot; sometimes 0 or past the end. */
static uint32_t rnd_slot(void)
{
	uint32_t r = rnd(100);

	return r == 0 ? 0 : r == 1 ? RSLOTS + rnd(3) : 1 + rnd(RSLOTS - 1);
}

/* Mostly an occupied slot of cs, if it has any. */
static uint32_t rnd_src(int cs)
{
	uint32_t used[RSLOTS], n = 0;

	for (uint32_t s = 1; s < RSLOTS; s++)
		if (model[cs][s].obj)
			used[n++] = s;
	return n && rnd(10) < 8 ? used[rnd(n)] : rnd_slot();
}

static int m_lookup(int cs, uint32_t slot, unsigned rights)
{
	if (slot == 0 || slot >= RSLOTS)
		return SL_EINVAL;
	if (!model[cs][slot].obj)
		return SL_ECAP;
	return (model[cs][slot].rights & rights) == rights ? SL_OK : SL_EPERM;
}

static int m_check_empty(int cs, uint32_t slot)
{
	if (slot == 0 || slot >= RSLOTS)
		return SL_EINVAL;
	return model[cs][slot].obj ? SL_EEXIST : SL_OK;
}

static bool m_descends(int id, int anc)
{
	for (int p = mc(id)->parent; p >= 0; p = mc(p)->parent)
		if (p == anc)
			return true;
	return false;
}

static void m_reparent(int from, int to)
{
	for (int id = 0; id < RCS * RSLOTS; id++)
		if (mc(id)->obj && mc(id)->parent == from)
			mc(id)->parent = to;
}

static void m_remove(int id)
{
	m_reparent(id, mc(id)->parent);
	*mc(id) = (mcap_t){ .parent = -1 };
}

static int m_insert(int cs, uint32_t slot, fake_obj_t *o, unsigned rights, uint64_t badge)
{
	int err = m_check_empty(cs, slot);

	if (err == SL_OK)
		model[cs][slot] = (mcap_t){ o, rights & ALL, badge, -1 };
	return err;
}

static int m_derive(int scs, uint32_t s, int dcs, uint32_t d, unsigned rights, uint64_t badge)
{
	int err = m_lookup(scs, s, COPY);

	if (err < 0)
		return err;
	mcap_t *src = &model[scs][s];
	if (badge && src->obj->type != EP && src->obj->type != NTFN)
		return SL_EINVAL;
	if (badge && src->badge)
		return SL_EPERM;
	if ((err = m_check_empty(dcs, d)) < 0)
		return err;
	model[dcs][d] = (mcap_t){ src->obj, src->rights & rights, badge ? badge : src->badge,
				  RID(scs, s) };
	return SL_OK;
}

static int m_move(int scs, uint32_t s, int dcs, uint32_t d)
{
	int err = m_lookup(scs, s, 0);

	if (err < 0 || (err = m_check_empty(dcs, d)) < 0)
		return err;
	model[dcs][d] = model[scs][s];
	model[scs][s] = (mcap_t){ .parent = -1 };
	m_reparent(RID(scs, s), RID(dcs, d));
	return SL_OK;
}

static int m_delete(int cs, uint32_t slot)
{
	int err = m_lookup(cs, slot, 0);

	if (err == SL_OK)
		m_remove(RID(cs, slot));
	return err;
}

static int m_revoke(int cs, uint32_t slot)
{
	bool gone[RCS * RSLOTS] = { false };
	int err = m_lookup(cs, slot, 0), n = 0;

	if (err < 0)
		return err;
	for (int id = 0; id < RCS * RSLOTS; id++)
		if (mc(id)->obj && m_descends(id, RID(cs, slot)))
			gone[id] = true, n++;
	for (int id = 0; id < RCS * RSLOTS; id++)
		if (gone[id])
			*mc(id) = (mcap_t){ .parent = -1 };
	return n;
}

static void m_destroy(int cs)
{
	for (uint32_t s = 1; s < RSLOTS; s++)
		if (model[cs][s].obj)
			m_remove(RID(cs, s));
}

/* The slot id of a list entry, found by address. */
static int rid_of(const cap_t *c)
{
	for (int cs = 0; cs < RCS; cs++) {
		const cap_t *chunk = cspace_chunk(&rcs[cs], 0);

		if (chunk && c >= chunk && c < chunk + CAP_CHUNK)
			return RID(cs, (int)(c - chunk));
	}
	fail_msg("list entry %p is in no slot", (const void *)c);
	return -1;
}

/* The derivation list, read as a tree (an entry's parent is the nearest
 * earlier entry of smaller depth), is the model's tree. */
static void check_list(void)
{
	int stack[RCS * RSLOTS], top = 0, n = 0, live = 0;
	uint32_t depth[RCS * RSLOTS];

	for (const cap_t *c = mdb.head.next; c != &mdb.head; c = c->next) {
		assert_ptr_equal(c->next->prev, c);
		int id = rid_of(c);
		assert_non_null(mc(id)->obj);
		while (top > 0 && depth[top - 1] >= c->depth)
			top--;
		assert_int_equal(top ? stack[top - 1] : -1, mc(id)->parent);
		depth[top] = c->depth;
		stack[top++] = id;
		n++;
	}
	for (int id = 0; id < RCS * RSLOTS; id++)
		live += mc(id)->obj != NULL;
	assert_int_equal(n, live);
}

/* Every slot and every object's references are as the model says. */
static void check_model(void)
{
	for (int cs = 0; cs < RCS; cs++)
		for (uint32_t s = 0; s <= RSLOTS; s++) {
			cap_t *c = NULL;
			mcap_t *m = &model[cs][s < RSLOTS ? s : 0];

			assert_int_equal(cspace_lookup(&rcs[cs], s, SL_CAP_NULL, 0, &c),
					 m_lookup(cs, s, 0));
			if (!c)
				continue;
			assert_ptr_equal(c->obj, m->obj);
			assert_int_equal(c->type, m->obj->type);
			assert_int_equal(c->rights, m->rights);
			assert_int_equal(c->badge, m->badge);
		}
	for (int i = 0; i < npool; i++) {
		int refs = 0;

		for (int id = 0; id < RCS * RSLOTS; id++)
			refs += mc(id)->obj == &pool[i];
		assert_int_equal(pool[i].refs, refs);
		assert_int_equal(pool[i].freed, pool[i].used && refs == 0);
	}
	check_list();
}

enum { OP_INSERT, OP_COPY, OP_MINT, OP_MOVE, OP_DELETE, OP_REVOKE, OP_DESTROY, OP_COUNT };

typedef struct rstats {
	int tried[OP_COUNT], ok[OP_COUNT], revoked;
} rstats_t;

/* The cspace call returned what the model did; counts the outcome. */
static void agree(rstats_t *st, int op, int got, int want)
{
	assert_int_equal(got, want);
	st->tried[op]++;
	st->ok[op] += want >= 0;
	if (op == OP_REVOKE && want > 0)
		st->revoked += want;
}

/* One random operation, on both the cspaces and the model. */
static void random_step(rstats_t *st)
{
	uint32_t r = rnd(1000);
	int c1 = (int)rnd(RCS), c2 = (int)rnd(RCS);
	uint32_t s1 = rnd_src(c1), s2 = rnd_slot();
	unsigned rights = rnd(16) | (rnd(4) ? COPY : 0);        /* mostly copyable */
	uint64_t badge = rnd(2) ? 0 : 1 + rnd(1000);

	if (r < 150) {
		int k = (int)rnd(ROBJS);
		if (robj[k]->freed)
			robj[k] = new_obj(robj_type[k]);
		badge = rnd(4) ? 0 : badge;
		agree(st, OP_INSERT,
		      cap_insert_root(&rcs[c1], s2, robj[k], robj[k]->type, rights, badge),
		      m_insert(c1, s2, robj[k], rights, badge));
	} else if (r < 420) {
		agree(st, OP_COPY, cap_copy(&rcs[c1], s1, &rcs[c2], s2),
		      m_derive(c1, s1, c2, s2, ALL, 0));
	} else if (r < 600) {
		int d = rnd(3) ? c1 : c2;       /* mostly cap_mint's case */
		agree(st, OP_MINT, cap_derive(&rcs[c1], s1, &rcs[d], s2, rights, badge),
		      m_derive(c1, s1, d, s2, rights, badge));
	} else if (r < 730) {
		agree(st, OP_MOVE, cap_move(&rcs[c1], s1, &rcs[c2], s2), m_move(c1, s1, c2, s2));
	} else if (r < 850) {
		agree(st, OP_DELETE, cap_delete(&rcs[c1], s1), m_delete(c1, s1));
	} else if (r < 995) {
		agree(st, OP_REVOKE, cap_revoke(&rcs[c1], s1), m_revoke(c1, s1));
	} else {
		cspace_destroy(&rcs[c1]);
		m_destroy(c1);
		agree(st, OP_DESTROY, 0, 0);
	}
}

/* A few thousand random inserts, copies, mints, moves, deletes, revokes and
 * destroys over three cspaces agree with the model after every step; at
 * the end every object is freed and every chunk released. */
static void test_random_operations_match_model(void **state)
{
	(void)state;
	static const char *const names[OP_COUNT] = { "insert", "copy", "mint", "move",
						     "delete", "revoke", "destroy" };
	rstats_t st = { 0 };

	rng = 0x9e3779b97f4a7c15ull;
	for (int cs = 0; cs < RCS; cs++) {
		cspace_init(&rcs[cs], RSLOTS, &mdb, &ops);
		for (uint32_t s = 0; s < RSLOTS; s++)
			model[cs][s] = (mcap_t){ .parent = -1 };
	}
	for (int k = 0; k < ROBJS; k++)
		robj[k] = new_obj(robj_type[k]);
	for (int step = 0; step < RSTEPS; step++) {
		random_step(&st);
		check_model();
	}
	for (int op = 0; op < OP_COUNT; op++) {
		print_message("  %-8s %4d tried, %4d succeeded\n", names[op], st.tried[op],
			      st.ok[op]);
		assert_true(st.ok[op] >= (op == OP_DESTROY ? 5 : 100));
		assert_true(op == OP_DESTROY || st.tried[op] - st.ok[op] >= 20);
	}
	print_message("  %d capabilities revoked, %d objects\n", st.revoked, npool);
	assert_true(st.revoked >= 200);
	for (int cs = 0; cs < RCS; cs++) {
		cspace_destroy(&rcs[cs]);
		m_destroy(cs);
		check_model();
	}
	for (int i = 0; i < npool; i++)
		if (pool[i].used)
			assert_true(pool[i].freed);
	assert_int_equal(chunks.live, 0);
	assert_ptr_equal(mdb.head.next, &mdb.head);
}

/* A leaf (a reply capability) stays off the derivation list: it can be
 * moved, deleted and revoked (nothing to revoke) like any capability, and
 * it holds its object like any other. */
static void test_leaf_is_off_the_list_and_moves_and_deletes(void **state)
{
	(void)state;
	fake_obj_t *r = new_obj(REPLY), *e = new_obj(EP);
	cap_t *c = NULL;

	root(&a, 1, e, ALL);
	assert_int_equal(cap_insert_leaf(&a, 2, r, REPLY, SEND | GRANT), SL_OK);
	expect_cap(&a, 2, r, SEND | GRANT, 0);
	expect_live(r, 1);
	assert_int_equal(cspace_lookup(&a, 2, REPLY, 0, &c), SL_OK);
	assert_null(c->prev);
	assert_ptr_equal(mdb.head.next->obj, e);        /* only the root is listed */
	assert_ptr_equal(mdb.head.next->next, &mdb.head);
	assert_int_equal(cap_revoke(&a, 2), 0);
	assert_int_equal(cap_move(&a, 2, &b, 7), SL_OK);
	expect_empty(&a, 2);
	expect_cap(&b, 7, r, SEND | GRANT, 0);
	assert_int_equal(cap_copy(&b, 7, &b, 8), SL_EPERM);    /* no copy right */
	assert_int_equal(cap_delete(&b, 7), SL_OK);
	assert_true(r->freed);
	assert_ptr_equal(mdb.head.next->next, &mdb.head);
}

/* A leaf goes only into an empty slot in range, never with the copy right;
 * a failed insert changes nothing. */
static void test_leaf_bad_input_changes_nothing(void **state)
{
	(void)state;
	fake_obj_t *r = new_obj(REPLY), *e = new_obj(EP);

	root(&a, 1, e, ALL);
	save();
	assert_int_equal(cap_insert_leaf(&a, 1, r, REPLY, SEND), SL_EEXIST);
	assert_int_equal(cap_insert_leaf(&a, 0, r, REPLY, SEND), SL_EINVAL);
	assert_int_equal(cap_insert_leaf(&a, a.size, r, REPLY, SEND), SL_EINVAL);
	assert_int_equal(cap_insert_leaf(&a, 2, r, REPLY, SEND | COPY), SL_EINVAL);
	expect_unchanged();
	assert_false(r->used);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_slot_0_is_the_null_capability),
		T(test_leaf_is_off_the_list_and_moves_and_deletes),
		T(test_leaf_bad_input_changes_nothing),
		T(test_slots_at_or_past_size_are_einval),
		T(test_empty_slot_is_ecap),
		T(test_wrong_type_is_ecap),
		T(test_missing_right_is_eperm),
		T(test_insert_root_into_occupied_slot_is_eexist),
		T(test_copy_needs_copy_right),
		T(test_copy_into_occupied_slot_is_eexist),
		T(test_copy_keeps_rights_and_badge),
		T(test_copy_is_derived_from_its_source),
		T(test_mint_rights_only_shrink),
		T(test_mint_badges_unbadged_endpoint_or_notification),
		T(test_badged_cap_cannot_be_rebadged),
		T(test_badged_cap_minted_with_badge_0_keeps_badge),
		T(test_badging_reply_or_silo_events_is_einval),
		T(test_move_empties_source_and_arrives_intact),
		T(test_move_across_cspaces),
		T(test_moved_child_stays_derived),
		T(test_moved_parent_keeps_its_children),
		T(test_move_to_occupied_slot_fails),
		T(test_delete_empties_slot_and_drops_one_reference),
		T(test_object_freed_exactly_with_last_cap),
		T(test_deleted_caps_children_stay_derived_from_grandparent),
		T(test_deleted_roots_children_become_roots),
		T(test_deleted_caps_children_not_revoked_by_earlier_sibling),
		T(test_revoke_deletes_all_descendants_and_counts_them),
		T(test_revoke_leaves_cap_and_unrelated_caps),
		T(test_revoke_of_childless_root_returns_0),
		T(test_reused_slot_does_not_resurrect_stale_cap),
		T(test_cspace_destroy_deletes_all_caps_and_chunks),
		T(test_cspace_destroy_keeps_other_cspace_revocable),
		T(test_fresh_cspace_has_no_chunks),
		T(test_slot_1000_allocates_exactly_one_chunk),
		T(test_chunk_alloc_failure_is_enomem),
		T(test_chunk_quota_failure_is_equota),
		T(test_10064_slot_space_filled_completely),
		T(test_directory_boundaries_of_largest_space),
		T(test_directory_page_failure_changes_nothing),
		T(test_random_operations_match_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
