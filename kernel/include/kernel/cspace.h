/*
 * Capability spaces and the derivation tree. Portable: no locks, no
 * allocation of its own (pages and object references go through cap_ops),
 * tested on the host.
 *
 * A cspace is a table of up to SL_CSPACE_MAX slots in two levels, so that
 * a lookup stays two loads however large the space, and a silo pays only
 * for the part it uses: slots live in chunks of CAP_CHUNK slots; a
 * directory page holds CAP_DIR_CHUNKS chunk pointers (CAP_DIR_SPAN slots);
 * the cspace itself holds only CAP_DIRS directory pointers. Chunks and
 * directory pages are both made on first use through cap_ops' chunk_alloc
 * (so both are charged to whoever the ops charge) and freed by
 * cspace_destroy. Slot 0 is the null capability and can never be written.
 *
 * Derivation: every capability in the system is on one list (cap_mdb_t) in
 * tree preorder with a depth, as in seL4's mapping database: the
 * descendants of a capability are the entries right after it with a
 * greater depth. Copy and mint insert a child right after their source;
 * object creation inserts a root; move relinks the entry to its new slot;
 * delete unlinks it and lifts its descendants one level (they stay derived
 * from its parent); revoke deletes the descendants. Every operation is
 * O(1) but revoke (O(descendants)) and delete (O(descendants) for the lift).
 *
 * Leaves: a capability that can never have descendants (a reply
 * capability never carries the copy right) may be put in a slot without
 * joining the list (prev == NULL). Filling and emptying such a slot is a
 * few stores, which is what a call costs once per round trip.
 *
 * Every function checks everything before changing anything.
 */
#ifndef KERNEL_CSPACE_H
#define KERNEL_CSPACE_H

#include <abi/cap.h>
#include <stdbool.h>
#include <stdint.h>

#define CAP_CHUNK 64                    /* slots per chunk */
#define CAP_DIR_CHUNKS 256              /* chunk pointers per directory page */
#define CAP_DIR_SPAN (CAP_CHUNK * CAP_DIR_CHUNKS)
#define CAP_DIRS ((SL_CSPACE_MAX + CAP_DIR_SPAN - 1) / CAP_DIR_SPAN)

typedef struct cap {
	struct cap *prev, *next;        /* derivation list */
	void *obj;                      /* NULL: empty slot */
	uint64_t badge;
	uint32_t depth;
	uint8_t type;                   /* enum sl_cap_type */
	uint8_t rights;                 /* enum sl_rights */
	uint16_t pad;
} cap_t;

typedef struct cap_mdb {
	cap_t head;                     /* sentinel; depth unused */
} cap_mdb_t;

/* A directory page: one chunk_alloc'd block read as chunk pointers. */
typedef struct cap_dir {
	cap_t *chunks[CAP_DIR_CHUNKS];
} cap_dir_t;

_Static_assert(sizeof(cap_dir_t) <= CAP_CHUNK * sizeof(cap_t),
	       "a directory page must fit the block chunk_alloc gives");

typedef struct cap_ops {
	/* Zeroed CAP_CHUNK cap_t's into *chunk, or an error (SL_ENOMEM, or
	 * SL_EQUOTA when the chunk's owner may not have another). Directory
	 * pages come from here too. */
	int (*chunk_alloc)(void *ctx, void **chunk);
	void (*chunk_free)(void *ctx, void *chunk);
	void (*obj_get)(void *obj, unsigned type);      /* a new capability names obj */
	void (*obj_put)(void *obj, unsigned type);      /* one went; free obj at zero */
	void *ctx;
} cap_ops_t;

typedef struct cspace {
	uint32_t size;                  /* slots, 1..SL_CSPACE_MAX */
	cap_mdb_t *mdb;
	const cap_ops_t *ops;
	cap_dir_t *dirs[CAP_DIRS];      /* NULL until a slot under it is used */
} cspace_t;

void cap_mdb_init(cap_mdb_t *mdb);
void cspace_init(cspace_t *cs, uint32_t size, cap_mdb_t *mdb, const cap_ops_t *ops);

/* Deletes every capability in cs and frees its chunks and directory pages. */
void cspace_destroy(cspace_t *cs);

/*
 * Finds the capability in slot. Returns SL_EINVAL for a slot out of range
 * (slot 0 included), SL_ECAP if it is empty or not of type (SL_CAP_NULL =
 * any type), SL_EPERM if it lacks any of rights.
 */
int cspace_lookup(cspace_t *cs, uint32_t slot, unsigned type, unsigned rights, cap_t **out);

/* Checks that slot is in range and empty (SL_EINVAL, SL_EEXIST), and
 * makes sure its directory page and chunk exist (chunk_alloc's error:
 * SL_ENOMEM, SL_EQUOTA; on an error nothing was allocated). */
int cspace_prepare_empty(cspace_t *cs, uint32_t slot, cap_t **out);

/* A new root capability to obj in an empty slot. */
int cap_insert_root(cspace_t *cs, uint32_t slot, void *obj, unsigned type,
		    unsigned rights, uint64_t badge);

/* A capability to obj in an empty slot, outside the derivation list (see
 * "Leaves"); rights must not include SL_RIGHT_COPY (SL_EINVAL). */
int cap_insert_leaf(cspace_t *cs, uint32_t slot, void *obj, unsigned type, unsigned rights);

/* A child of src (possibly in another cspace) with rights (src's & rights)
 * and, if badge != 0, that badge; src needs SL_RIGHT_COPY. Badging needs an
 * unbadged endpoint or notification (SL_EPERM for a badged one, SL_EINVAL
 * for other types). cap_copy and cap_mint are the two common cases. */
int cap_derive(cspace_t *src_cs, uint32_t src, cspace_t *dst_cs, uint32_t dst,
	       unsigned rights, uint64_t badge);

/* A child of src with the same rights and badge; src needs SL_RIGHT_COPY. */
int cap_copy(cspace_t *src_cs, uint32_t src, cspace_t *dst_cs, uint32_t dst);

/* cap_derive within one cspace. */
int cap_mint(cspace_t *cs, uint32_t src, uint32_t dst, unsigned rights, uint64_t badge);

/* Moves a capability between slots (of the same or another cspace). */
int cap_move(cspace_t *src_cs, uint32_t src, cspace_t *dst_cs, uint32_t dst);

/* Deletes one capability; returns SL_ECAP for an empty slot. */
int cap_delete(cspace_t *cs, uint32_t slot);

/* Deletes every capability derived from slot's, in any cspace; returns
 * how many, or SL_EINVAL / SL_ECAP. */
int cap_revoke(cspace_t *cs, uint32_t slot);

/* Deletes the capability c points at (a slot already looked up). */
void cap_delete_entry(const cspace_t *cs, cap_t *c);

/* Chunk k (slots k * CAP_CHUNK ..) of cs, or NULL if it was never made. */
cap_t *cspace_chunk(const cspace_t *cs, uint32_t k);

#endif
