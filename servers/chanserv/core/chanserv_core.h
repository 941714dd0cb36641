/*
 * chanserv's channel logic, as plain C over plain data: no system calls,
 * no IPC, no allocation of its own. The IPC loop (main.c) decodes each
 * request into a cs_request_t, calls cs_request, and carries out the
 * replies it returns (to whom, what, which handles to mint). The same code
 * runs in the host tests.
 *
 * Tables are fixed (channels, handle records, pending operations, names);
 * ring buffers come from the caller's allocator. A request that cannot be
 * completed now (a send to a full channel, a receive from an empty one) is
 * kept as a pending operation holding the caller's reply token; it is
 * answered when it can complete, or when the channel disconnects, or
 * dropped when its silo dies. chanserv never blocks on a client.
 */
#ifndef CHANSERV_CORE_H
#define CHANSERV_CORE_H

#include <abi/chanserv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_MAX_SILOS 33                 /* silo ids 1..32 */
#define CS_MAX_CHANNELS 256
#define CS_MAX_HANDLES 2048
#define CS_MAX_PENDING 512
#define CS_MAX_NAMES 64
#define CS_OUT_MAX (CS_MAX_PENDING + 4) /* replies one request can cause */

typedef struct cs_msg {
	uint64_t w[8];                  /* a chan_msg_t as 8 words */
} cs_msg_t;

typedef struct cs_item {               /* a queued message */
	cs_msg_t msg;
	int32_t carried;                /* handle record riding along, or -1 */
} cs_item_t;

typedef struct cs_chan {
	bool used, destroyed;
	uint8_t kind;                   /* enum chan_kind */
	uint16_t creator;               /* silo charged for it */
	uint64_t id;
	uint32_t capacity, head, count;
	uint32_t slots;                 /* ring storage: capacity, more after a return */
	cs_item_t *ring;
	uint32_t senders, receivers;    /* handles that can send / receive, in flight included */
	int32_t sendq, recvq;           /* first blocked operation, or -1 */
} cs_chan_t;

enum cs_handle_state { CS_H_FREE, CS_H_LIVE, CS_H_INFLIGHT };

typedef struct cs_handle {
	uint32_t gen;                   /* bumped whenever the record is freed */
	uint8_t state;                  /* enum cs_handle_state */
	uint8_t rights;                 /* enum chan_rights */
	uint16_t owner;                 /* silo, while live */
	int32_t chan;
} cs_handle_t;

typedef struct cs_pending {
	bool used;
	bool is_send, wants_handle;
	uint16_t silo;
	uint32_t token;                 /* the caller's parked reply */
	int32_t handle;                 /* the handle it was made on */
	int32_t next;                   /* in its channel's queue */
	cs_item_t item;                 /* a send's message */
} cs_pending_t;

typedef struct cs_silo {
	bool known;
	uint8_t ns;                     /* CS_NS_* */
	uint32_t handles, pending, channels;            /* in use */
	uint32_t max_handles, max_pending, max_channels;
} cs_silo_t;

enum { CS_NS_PUBLISH = 1, CS_NS_LOOKUP = 2 };

typedef struct cs_name {
	bool used;
	char name[CHAN_NAME_MAX + 1];
	int32_t chan;
	uint64_t chan_id;
	uint8_t rights;
} cs_name_t;

typedef struct cs_alloc {
	void *(*alloc)(void *ctx, size_t bytes);        /* zeroed, or NULL */
	void (*free)(void *ctx, void *p, size_t bytes);
	void *ctx;
} cs_alloc_t;

typedef struct cs_state {
	cs_chan_t chans[CS_MAX_CHANNELS];
	cs_handle_t handles[CS_MAX_HANDLES];
	cs_pending_t pending[CS_MAX_PENDING];
	cs_silo_t silos[CS_MAX_SILOS];
	cs_name_t names[CS_MAX_NAMES];
	uint64_t next_id;
	uint32_t inflight;              /* handle records riding in messages */
	const cs_alloc_t *alloc;
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

typedef struct cs_reply {
	uint32_t token;
	bool drop;                      /* the caller is gone: discard the reply */
	int32_t status;                 /* 0 or CHAN_E*, the reply's label */
	cs_msg_t words;
	uint32_t nhandles;              /* handles to mint and attach, in order */
	uint64_t handles[2];            /* their badges */
	/* A reply that hands over a message says where it came from, so an
	 * undeliverable one can be given back (cs_return). */
	bool has_msg;
	int32_t chan;
	uint64_t chan_id;
	int32_t carried;                /* the handle that rode along, or -1 */
} cs_reply_t;

typedef struct cs_out {
	uint32_t n;
	cs_reply_t r[CS_OUT_MAX];
} cs_out_t;

void cs_init(cs_state_t *s, const cs_alloc_t *alloc);

/* Sets a silo's name rights and quotas (0 = the default). */
void cs_silo_config(cs_state_t *s, uint16_t silo, uint8_t ns, uint32_t max_handles,
		    uint32_t max_pending, uint32_t max_channels);

/* Handles one request; out receives every reply it causes (possibly none
 * now, for a request that waits). */
void cs_request(cs_state_t *s, const cs_request_t *req, cs_out_t *out);

/* A silo ended: its pending operations are dropped and its handles closed,
 * with the effects closing them would have had. */
void cs_silo_exit(cs_state_t *s, uint16_t silo, cs_out_t *out);

/* A reply carrying a message could not be delivered (the receiver's silo
 * was dying): the message goes back, to the next waiting receiver or the
 * front of its queue, with the handle it carried. */
void cs_return(cs_state_t *s, const cs_reply_t *failed, cs_out_t *out);

/* The silo a request on this badge comes from, or 0 if it is not a live
 * handle (then the request is refused with CHAN_EBADHANDLE). */
uint16_t cs_badge_silo(const cs_state_t *s, uint64_t badge);

#endif
