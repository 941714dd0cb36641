/*
 * The protocol between libchan and chanserv, and the channel ABI silos see.
 *
 * Every request is a call. A request about a handle is a call on that
 * handle's capability: chanserv minted it on its own endpoint with a badge
 * that names the handle record (CHAN_BADGE_HANDLE | generation | index),
 * so the badge says which handle, and a stale one is refused. Requests not
 * about a handle (create, lookup) go through the silo's boot capability
 * (SL_SLOT_SERVER, badge = silo id). The label is the operation; the
 * reply's label is the result (0 or a CHAN_E* code) and its 8 data words
 * the results.
 * docs/chanserv.md describes every request.
 */
#ifndef ABI_CHANSERV_H
#define ABI_CHANSERV_H

#include <stdint.h>

/* Errors: 0 or one of these, negative. */
typedef enum chan_error {
	CHAN_OK = 0,
	CHAN_EWOULDBLOCK = -1,          /* try_ call: full (send) or empty (recv) */
	CHAN_EDISCONNECTED = -2,        /* the other side is gone, or the channel was destroyed */
	CHAN_EBADHANDLE = -3,           /* not a live handle (closed, moved away, never made) */
	CHAN_EPERM = -4,                /* the handle or the silo lacks the right */
	CHAN_ENOSPC = -5,               /* a per-silo quota is used up */
	CHAN_EINVAL = -6,               /* a malformed argument */
	CHAN_ENOENT = -7,               /* no channel published under that name */
	CHAN_EEXIST = -8,               /* the name is taken */
	CHAN_ENOMEM = -9,               /* chanserv is out of memory */
	CHAN_EIPC = -10,                /* the request could not reach chanserv */
	CHAN_ELIMIT = -11,              /* a limit of chanserv's own, no silo's quota, is reached */
	CHAN_ERROR_COUNT = 12,          /* number of codes, CHAN_OK included */
} chan_error_t;

/* A message: 64 bytes, 64-byte aligned, exactly the 8 words of an IPC
 * message. chanserv overwrites `sender` with the sending silo's id. */
typedef struct __attribute__((aligned(64))) chan_msg {
	uint64_t sender;
	uint32_t type;
	uint32_t flags;
	uint8_t payload[48];
} chan_msg_t;

#define CHAN_MSG_FLAG_HANDLE 0x80000000u        /* set by chanserv: a handle rides along */

enum chan_kind {
	CHAN_KIND_DIRECTIONAL = 1,      /* channel<T>: send handles and receive handles */
	CHAN_KIND_SYNC = 2,             /* SyncChan: every handle sends and receives */
};

enum chan_rights {
	CHAN_RIGHT_SEND = 1,
	CHAN_RIGHT_RECV = 2,
};

enum chan_state {
	CHAN_STATE_CONNECTED = 0,
	CHAN_STATE_NO_SENDERS = 1,      /* receivers drain, then get CHAN_EDISCONNECTED */
	CHAN_STATE_NO_RECEIVERS = 2,    /* senders get CHAN_EDISCONNECTED */
	CHAN_STATE_DESTROYED = 3,
};

typedef struct chan_info {
	uint64_t id;                    /* ChanId: from 1, never reused */
	uint32_t kind;                  /* enum chan_kind */
	uint32_t rights;                /* this handle's: enum chan_rights */
	uint32_t length;                /* messages queued */
	uint32_t capacity;
	uint32_t senders;               /* handles that can send, those riding in messages included */
	uint32_t receivers;             /* handles that can receive, likewise */
	uint32_t state;                 /* enum chan_state */
	uint32_t reserved;
} chan_info_t;

#define CHAN_CAPACITY_MIN 1
#define CHAN_CAPACITY_MAX 1024
#define CHAN_NAME_MAX 31                /* bytes, without the NUL */

/* Per-silo quotas: defaults, and the module arguments that change them. */
#define CHAN_QUOTA_HANDLES 64           /* chan.handles=N: live + sent, still in flight */
#define CHAN_QUOTA_PENDING 8            /* chan.pending=N: blocked sends + receives */
#define CHAN_QUOTA_CHANNELS 16          /* chan.channels=N: channels created */
#define CHAN_QUOTA_NAMES 8              /* chan.names=N: names published */
#define CHAN_QUOTA_BYTES (256u << 10)   /* chan.bytes=N: ring memory of the channels created */
/* Names: ns=publish, ns=lookup or ns=publish,lookup. */

/* Badges chanserv gives handle capabilities. */
#define CHAN_BADGE_HANDLE (1ull << 63)
#define CHAN_BADGE_INDEX(b) ((uint32_t)(b) & 0xffffff)
#define CHAN_BADGE_GEN(b) ((uint32_t)((b) >> 24) & 0xffffffffu)
#define CHAN_BADGE(index, gen) (CHAN_BADGE_HANDLE | (uint64_t)(gen) << 24 | (index))

/* Operations (the call's label). */
enum chanserv_op {
	CS_OP_CREATE = 1,               /* boot cap; w0 capacity -> caps: tx, rx */
	CS_OP_CREATE_SYNC = 2,          /* boot cap; w0 capacity -> cap: handle */
	CS_OP_SEND = 3,                 /* handle; words: the message (8); cap: a handle to move */
	CS_OP_TRY_SEND = 4,
	CS_OP_RECV = 5,                 /* handle -> words: message; cap: a handle that rode along */
	CS_OP_TRY_RECV = 6,
	CS_OP_CLONE = 7,                /* handle -> cap: a new handle, same side */
	CS_OP_CLOSE = 8,                /* handle */
	CS_OP_INFO = 9,                 /* handle -> w0..w4: a chan_info_t */
	CS_OP_RECEIVER = 10,            /* send handle -> cap: a new receive handle */
	CS_OP_SENDER = 11,              /* receive handle -> cap: a new send handle */
	CS_OP_DESTROY = 12,             /* sync handle */
	CS_OP_PUBLISH = 13,             /* handle; w0-w3 the name */
	CS_OP_LOOKUP = 14,              /* boot cap; w0-w3 the name -> cap: handle */
	CS_OP_SEND_MANY = 15,           /* handle; buffer: n messages (8n words) -> w0 sent */
	CS_OP_RECV_MANY = 16,           /* handle; w0 max -> w0 received, buffer: them;
					 * cap: a handle that rode with the last one */
};

/* The most messages one batch request carries. */
#define CHAN_BATCH_MAX 64

/* A message carries a handle when a capability comes with CS_OP_SEND. */

#endif
