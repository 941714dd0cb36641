/*
 * The protocol between the echoserv test server and its clients.
 */
#ifndef ECHO_PROTO_H
#define ECHO_PROTO_H

enum echo_label {
	ECHO_PING = 1,          /* reply: each data word + 1, same length */
	ECHO_DEFER = 2,         /* w0 = caller index, w1 = how many to gather; the
				 * server answers once it holds w1 calls, last first:
				 * reply w0 = caller index, w1 = arrival, w2 = answer order */
	ECHO_HOLD = 3,          /* carries a capability; the server keeps it and
				 * replies type, rights, badge, tag flags, unwrapped badge */
	ECHO_PROBE = 4,         /* reply: identify() and nbsend() on the kept slot */
	ECHO_PARK = 5,          /* never answered directly: the reply is parked */
	ECHO_ANSWER_PARKED = 6, /* reply: the result of answering the parked call */
};

#define ECHO_SLOT_REPLY 8
#define ECHO_SLOT_CAP0 9
#define ECHO_SLOT_CAP1 10
#define ECHO_SLOT_HELD 11
#define ECHO_SLOT_PARKED 12
#define ECHO_SLOT_DEFERRED 100          /* 100 .. 100 + ECHO_DEFER_MAX - 1 */
#define ECHO_DEFER_MAX 64

#endif
