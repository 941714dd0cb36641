/*
 * libchan: channels for silos, served by chanserv.
 *
 * A chan_t is a handle: a capability slot in this silo holding chanserv's
 * capability for one handle record. Every function returns 0 or a negative
 * CHAN_E* code (<abi/chanserv.h>); chan_strerror names them. Functions that
 * wait (chan_send on a full channel, chan_recv on an empty one) block only
 * the calling thread. docs/chanserv.md (share/doc/sluice/docs/ in the SDK)
 * has the full semantics.
 */
#ifndef CHAN_H
#define CHAN_H

#include <abi/chanserv.h>
#include <stddef.h>

typedef unsigned int chan_t;            /* 0 is never a handle */

/* A directional channel: *tx sends, *rx receives. capacity is clamped to
 * [CHAN_CAPACITY_MIN, CHAN_CAPACITY_MAX]. */
int chan_create(size_t capacity, chan_t *tx, chan_t *rx);

/* A symmetric channel: every handle sends and receives; it lives until
 * chan_destroy or until its last handle is closed. */
int chan_create_sync(size_t capacity, chan_t *h);

int chan_send(chan_t h, const chan_msg_t *msg);          /* waits while full */
int chan_try_send(chan_t h, const chan_msg_t *msg);      /* CHAN_EWOULDBLOCK if full */
int chan_recv(chan_t h, chan_msg_t *msg);                /* waits while empty */
int chan_try_recv(chan_t h, chan_msg_t *msg);            /* CHAN_EWOULDBLOCK if empty */

int chan_clone(chan_t h, chan_t *h2);
int chan_close(chan_t h);
int chan_info(chan_t h, chan_info_t *info);

/* A new handle for the other side of a directional channel; it reconnects
 * a channel whose receivers (or senders) had all gone. */
int chan_receiver(chan_t tx, chan_t *rx);
int chan_sender(chan_t rx, chan_t *tx);

/* Symmetric channels only: every waiting sender and receiver gets
 * CHAN_EDISCONNECTED, queued messages are dropped, the name is unpublished. */
int chan_destroy(chan_t h);

/*
 * Batches: up to CHAN_BATCH_MAX messages in one request, each with the
 * semantics of chan_send / chan_recv (stamping, capacity, disconnect,
 * order). chan_send_many sends msgs[0..n) in order as long as the channel
 * takes them and sets *sent; if none fits it waits for room for the first,
 * as chan_send does. chan_recv_many takes up to max waiting messages into
 * msgs and sets *got; if none is there it waits for one, as chan_recv
 * does. Both return CHAN_OK when at least one message moved, else the
 * first message's error; n or max of 0 or past CHAN_BATCH_MAX, or a NULL
 * pointer, is CHAN_EINVAL. Handles do not ride in batches (one arriving
 * with a received message ends the batch and is closed).
 */
int chan_send_many(chan_t h, const chan_msg_t *msgs, size_t n, size_t *sent);
int chan_recv_many(chan_t h, chan_msg_t *msgs, size_t max, size_t *got);

/* Moves handle h to whoever receives msg; on success h is no longer ours. */
int chan_send_handle(chan_t tx, const chan_msg_t *msg, chan_t h);

/* Receives a message and the handle it carries (*h = 0 if none). A handle
 * arriving through plain chan_recv is closed, never leaked. */
int chan_recv_handle(chan_t rx, chan_msg_t *msg, chan_t *h);

/* Names: allowed by the silo's module arguments (ns=publish,lookup). */
int chan_publish(const char *name, chan_t h);
int chan_lookup(const char *name, chan_t *h);

const char *chan_strerror(int err);

#endif
