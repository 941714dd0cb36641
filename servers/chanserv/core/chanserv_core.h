/*
 * chanserv's channel logic, as plain C over plain data: no system calls,
 * no IPC. The IPC loop (main.c) decodes each request into a cs_request_t,
 * calls cs_request, and carries out the replies it returns (to whom, what,
 * which handles to mint). The same code runs in the host tests and under
 * libFuzzer.
 *
 * Memory comes in pages from a provider given at init (cs_pages_t): the
 * record tables (channels, handle records, waiting operations, names,
 * silos) are arrays of chunks that grow on demand, so an index stays valid
 * for a record's whole life; rings come from the same pages, cut to their
 * size. Every record and every ring byte is charged to a silo, and a silo
 * past one of its quotas gets CHAN_ENOSPC before anything is changed.
 *
 * A request that cannot be completed now (a send to a full channel, a
 * receive from an empty one) is kept as a pending operation holding the
 * caller's reply token; it is answered when it can complete, or when the
 * channel disconnects, or dropped when its silo dies. chanserv never
 * blocks on a client, and no operation costs more as the tables grow.
 */
#ifndef CHANSERV_CORE_H
#define CHANSERV_CORE_H

#include <abi/chanserv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_PAGE 4096u
#define CS_SILO_MAX 0xffffu             /* silo ids 1..65535 */
#define CS_HANDLE_LIMIT (1u << 24)      /* handle indexes a badge can name */
#define CS_OUT_EXTRA 4                  /* replies beyond one per pending operation */
#define CS_OUTS 4                       /* reply buffers a state keeps sized */

/* Where the core's memory comes from: zeroed pages, given back whole. */
typedef struct cs_pages {
	void *(*map)(void *ctx, size_t pages);          /* zeroed, page-aligned, or NULL */
	void (*unmap)(void *ctx, void *p, size_t pages);
	void *ctx;
} cs_pages_t;

#define CS_MSG_WORDS 8

typedef struct cs_msg {
	uint64_t w[CS_MSG_WORDS];       /* a chan_msg_t as 8 words */
} cs_msg_t;

typedef struct cs_item {               /* a queued message */
	cs_msg_t msg;
	int32_t carried;                /* handle record riding along, or -1 */
} cs_item_t;

/*
 * A table of fixed-size records in chunks of 2^shift. Records are made in
 * index order and recycled through a free list threaded through their
 * first word (`link`), so allocation and lookup are O(1) and an index
 * never moves.
 */
typedef struct cs_table {
	void **dir;                     /* chunk pointers */
	uint32_t dir_cap;               /* entries dir has room for */
	uint32_t nchunks;
	uint32_t made;                  /* indexes handed out so far: all < made */
	uint32_t used;                  /* records in use */
	int32_t free;                   /* free list, or -1 */
	uint32_t size, shift;           /* record bytes; log2 records per chunk */
	uint32_t limit;                 /* most records the table may hold */
} cs_table_t;

typedef struct cs_chan {
	int32_t link;                   /* free list */
	bool used, destroyed;
	uint8_t kind;                   /* enum chan_kind */
	bool on_check, on_cand;         /* on the work lists below */
	uint16_t creator;               /* silo charged for it and its ring */
	uint64_t id;
	uint32_t capacity, head, count;
	uint32_t slots;                 /* ring storage: capacity + 1 (room for a return) */
	uint32_t ring_bytes;            /* charged to the creator */
	cs_item_t *ring;
	uint32_t senders, receivers;    /* handles that can send / receive, in flight included */
	uint32_t live;                  /* handles some silo holds */
	uint32_t pinned;                /* in-flight handles riding in waiting sends */
	int32_t sendq, sendq_tail;      /* blocked operations, oldest first, or -1 */
	int32_t recvq, recvq_tail;
	int32_t flying;                 /* its in-flight handle records */
	int32_t names;                  /* names of it */
	int32_t check_next, cand_next;  /* work lists */
	int32_t walk_next;
	uint32_t walk_epoch;
} cs_chan_t;

enum cs_handle_state { CS_H_FREE, CS_H_LIVE, CS_H_INFLIGHT };

typedef struct cs_handle {
	int32_t link;                   /* free list */
	uint32_t gen;                   /* bumped whenever the record is freed or lands */
	uint8_t state;                  /* enum cs_handle_state */
	uint8_t rights;                 /* enum chan_rights */
	uint16_t owner;                 /* live: its holder; in flight: the sender, still charged */
	int32_t chan;
	int32_t where;                  /* in flight: the channel whose ring holds it, -1 a waiting send */
	int32_t prev, next;             /* live: its owner's list; in flight: its channel's `flying` */
	int32_t ops;                    /* waiting operations made on it */
} cs_handle_t;

typedef struct cs_pending {
	int32_t link;                   /* free list */
	bool used;
	bool is_send;
	uint16_t silo;
	uint32_t token;                 /* the caller's parked reply */
	int32_t handle;                 /* the handle it was made on */
	int32_t prev, next;             /* in its channel's queue */
	int32_t hprev, hnext;           /* in its handle's `ops` */
	cs_item_t item;                 /* a send's message */
} cs_pending_t;

typedef struct cs_silo {
	int32_t link;
	bool known;                     /* configured and not yet exited */
	uint8_t ns;                     /* CS_NS_* */
	uint32_t handles, pending, channels, names;     /* charged now */
	uint64_t bytes;
	uint32_t max_handles, max_pending, max_channels, max_names;
	uint64_t max_bytes;
	int32_t hlist;                  /* live handles it holds */
} cs_silo_t;

enum { CS_NS_PUBLISH = 1, CS_NS_LOOKUP = 2 };

typedef struct cs_name {
	int32_t link;                   /* free list */
	bool used;
	uint8_t rights;
	uint16_t owner;                 /* the silo charged: the publisher */
	uint32_t hash;
	char name[CHAN_NAME_MAX + 1];
	int32_t chan;
	uint64_t chan_id;
	int32_t hnext;                  /* hash chain */
	int32_t cprev, cnext;           /* its channel's names */
} cs_name_t;

/* Per-silo quotas, as module arguments give them (0 = the default). */
typedef struct cs_quota {
	uint32_t handles, pending, channels, names;
	uint64_t bytes;
} cs_quota_t;

#define CS_RING_CLASSES 256            /* small rings: multiples of 64 bytes up to 16 KiB */
#define CS_RING_GRAIN 64u
#define CS_RING_SMALL (CS_RING_CLASSES * CS_RING_GRAIN)
#define CS_RING_RUN (16 * CS_PAGE)     /* small rings are cut from runs this big */

typedef struct cs_reply {
	/* What the loop reads of every reply first, side by side: the core
	 * writes a reply's header in few stores and the loop tests it in few
	 * loads. */
	uint32_t token;
	bool drop;                      /* the caller is gone: discard the reply */
	uint8_t nwords;                 /* words it carries: 0 (a bare status) or CS_MSG_WORDS */
	bool has_msg;                   /* it hands over a message (see chan below) */
	int32_t status;                 /* 0 or CHAN_E*, the reply's label */
	uint32_t nhandles;              /* handles to mint and attach, in order */
	cs_msg_t words;                 /* meaningful only with nwords CS_MSG_WORDS */
	uint64_t handles[2];            /* their badges */
	/* A reply that hands over a message says where it came from, so an
	 * undeliverable one can be given back (cs_return). */
	int32_t chan;
	int32_t carried;                /* the handle that rode along, or -1 */
	uint64_t chan_id;
} cs_reply_t;

/* Replies one call causes: never more than the pending operations that
 * exist plus CS_OUT_EXTRA, and the core keeps attached buffers that big. */
typedef struct cs_out {
	uint32_t n, cap;
	cs_reply_t *r;
	size_t pages;
} cs_out_t;

typedef struct cs_state {
	cs_table_t chans, handles, pending, names, silos;
	int32_t *buckets;               /* names by hash */
	uint32_t nbuckets;
	uint64_t next_id;
	uint32_t inflight;              /* handle records riding in messages */
	uint64_t ring_bytes;            /* charged for rings, all silos */
	size_t pages;                   /* mapped from the provider now */
	int32_t check, cand;            /* channels to check / to test for reachability */
	uint32_t epoch;
	void *ring_free[CS_RING_CLASSES];       /* small ring blocks, by class */
	uint8_t *run;                   /* the run small blocks are cut from */
	size_t run_left;
	void *runs;                     /* every run, chained through its first word */
	cs_out_t *outs[CS_OUTS];
	uint32_t out_room;              /* the smallest capacity of outs (UINT32_MAX: none) */
	cs_pages_t pager;
} cs_state_t;

typedef struct cs_request {
	uint32_t op;                    /* enum chanserv_op */
	uint16_t silo;                  /* the caller (boot-capability calls) */
	uint64_t badge;                 /* of the capability called */
	uint32_t token;                 /* the caller's reply, to answer now or later */
	cs_msg_t words;
	bool carries;                   /* a chanserv handle came with it (unwrapped) */
	uint64_t carried_badge;
} cs_request_t;

/* Sets up an empty state; memory comes from pages on demand. */
void cs_init(cs_state_t *s, const cs_pages_t *pages);

/* Gives every page back (the tables, the rings, attached reply buffers). */
void cs_fini(cs_state_t *s);

/* Sizes out for every call from now on; false if memory ran out or
 * CS_OUTS buffers are attached already. */
bool cs_out_attach(cs_state_t *s, cs_out_t *out);

/* Sets a silo's name rights and quotas (0 = the default); false if its
 * record cannot be made (id 0 or past CS_SILO_MAX, or no memory). */
bool cs_silo_config(cs_state_t *s, uint16_t silo, uint8_t ns, const cs_quota_t *q);

/* Handles one request; out receives every reply it causes (possibly none
 * now, for a request that waits). */
void cs_request(cs_state_t *s, const cs_request_t *req, cs_out_t *out);

/*
 * CS_OP_SEND_MANY on handle badge req->badge: msgs[0..n) in order, each as
 * a try_send of its own (stamped with the sender, the handle flag clear,
 * straight to a waiting receiver else into the ring while there is room),
 * until one cannot go. One reply to req->token: CHAN_OK with w0 = how many
 * went, or the first message's error if none did; n of 0 or past
 * CHAN_BATCH_MAX, or a handle riding along, is CHAN_EINVAL. The receivers
 * it wakes are answered in out too.
 */
void cs_send_many(cs_state_t *s, const cs_request_t *req, const cs_msg_t *msgs, uint32_t n, cs_out_t *out);

/*
 * CS_OP_RECV_MANY: up to max messages, each as a try_recv of its own, into
 * msgs, oldest first; a message carrying a handle ends the batch (the
 * handle lands and goes with the reply). One reply to req->token: CHAN_OK
 * with w0 = how many, has_msg, chan, chan_id and carried (the last
 * message's) set so the batch can be given back message by message with
 * cs_return; or the first message's error if none came. The senders that
 * waiting room admits are answered in out too.
 */
void cs_recv_many(cs_state_t *s, const cs_request_t *req, cs_msg_t *msgs, uint32_t max, cs_out_t *out);

/* A silo ended: its pending operations are dropped and its handles closed,
 * with the effects closing them would have had. */
void cs_silo_exit(cs_state_t *s, uint16_t silo, cs_out_t *out);

/* A reply carrying a message could not be delivered (the receiver's silo
 * was dying): the message goes back, to the next waiting receiver or the
 * front of its queue (there is always room), with the handle it carried. */
void cs_return(cs_state_t *s, const cs_reply_t *failed, cs_out_t *out);

/* A reply minted the handle `badge` but could not hand it over (the
 * client named no slot for it, or a taken one): it is closed at once. */
void cs_unclaimed(cs_state_t *s, uint64_t badge, cs_out_t *out);

/* The silo a request on this badge comes from, or 0 if it is not a live
 * handle (then the request is refused with CHAN_EBADHANDLE). */
uint16_t cs_badge_silo(const cs_state_t *s, uint64_t badge);

/* Records by index (index < table.made), for checking and tests. */
void *cs_table_at(const cs_table_t *t, uint32_t i);
#define cs_chan_at(s, i) ((cs_chan_t *)cs_table_at(&(s)->chans, (uint32_t)(i)))
#define cs_handle_at(s, i) ((cs_handle_t *)cs_table_at(&(s)->handles, (uint32_t)(i)))
#define cs_pending_at(s, i) ((cs_pending_t *)cs_table_at(&(s)->pending, (uint32_t)(i)))
#define cs_name_at(s, i) ((cs_name_t *)cs_table_at(&(s)->names, (uint32_t)(i)))

/* A silo's record, or NULL if it never had one. */
cs_silo_t *cs_silo_at(const cs_state_t *s, uint16_t silo);

/* Bytes a ring of capacity `capacity` is charged (its storage, rounded to
 * the block it takes). */
uint32_t cs_ring_charge(uint32_t capacity);

#endif
