/*
 * Helpers shared by the channel test silos: TAP checks, message building,
 * and waiting for a name another silo publishes.
 */
#ifndef CHAN_TEST_COMMON_H
#define CHAN_TEST_COMMON_H

#include <chan.h>
#include <sys/ipc.h>
#include <sys/sluice.h>

static int tap_count, tap_failed;

static inline void check(bool ok, const char *what, long got)
{
	tap_count++;
	tap_failed += !ok;
	printf("%s %d - %s: %s (got %ld)\n", ok ? "ok" : "not ok", tap_count,
	       sl_bootinfo()->name, what, got);
}

static inline int tap_done(const char *who)
{
	printf("%s: %d of %d checks failed\n", who, tap_failed, tap_count);
	return tap_failed ? 1 : 0;
}

static inline chan_msg_t make_msg(uint32_t type, uint64_t a, uint64_t b)
{
	chan_msg_t m = { .sender = 0xdeadbeef, .type = type };

	memcpy(m.payload, &a, sizeof a);
	memcpy(m.payload + 8, &b, sizeof b);
	return m;
}

static inline uint64_t msg_word(const chan_msg_t *m, unsigned i)
{
	uint64_t v;

	memcpy(&v, m->payload + 8 * i, sizeof v);
	return v;
}

/* Looks a name up until another silo has published it. */
static inline int lookup_wait(const char *name, chan_t *h)
{
	int r;

	for (int tries = 0; tries < 500; tries++) {
		if ((r = chan_lookup(name, h)) != CHAN_ENOENT)
			return r;
		sl_sleep_ms(10);
	}
	return r;
}

/* Waits until the channel of h counts `senders` send handles (for a
 * symmetric channel every handle counts): other silos have looked it up,
 * or a dead silo's handles have been closed. */
static inline void wait_senders(chan_t h, uint32_t senders)
{
	chan_info_t info;

	while (chan_info(h, &info) == 0 && info.senders != senders)
		sl_sleep_ms(5);
}

#endif
