/*
 * chanbench: instruction counts (rdtsc under QEMU -icount shift=0) of
 * chanserv channels between two silos.
 *
 *   a N   creates "bench.ab" and "bench.ba"; times N chan_send on ab
 *         (capacity 1: every send meets the receiver in chanserv), then N
 *         ping-pong round trips (send on ab, receive on ba), then N
 *         messages one way through "bench.c64" (capacity 64), then N
 *         more in batches of 64 (chan_send_many / chan_recv_many)
 *   b N   receives N messages, then answers N pings, then receives N,
 *         then N in batches
 *
 * Every call's result is kept (err |= ..., one instruction or two a call)
 * and a side whose calls did not all succeed fails.
 */
#include "common.h"

static int side_a(long n)
{
	chan_t ab_tx, ab_rx, ba_tx, ba_rx;
	chan_msg_t m = make_msg(1, 0, 0);
	int err = 0;

	err |= chan_create(1, &ab_tx, &ab_rx);
	err |= chan_create(1, &ba_tx, &ba_rx);
	err |= chan_publish("bench.ab", ab_rx);
	err |= chan_publish("bench.ba", ba_tx);
	err |= chan_recv(ba_rx, &m);            /* b is ready */

	uint64_t t0 = sl_rdtsc();
	sl_profile_begin(3);                    /* ./sluice profile chan-oneway */
	for (long i = 0; i < n; i++)
		err |= chan_send(ab_tx, &m);
	err |= chan_recv(ba_rx, &m);            /* b has received them all */
	sl_profile_end(3);
	uint64_t one_way = (sl_rdtsc() - t0) / (uint64_t)n;

	t0 = sl_rdtsc();
	sl_profile_begin(2);                    /* ./sluice profile chan */
	for (long i = 0; i < n; i++) {
		err |= chan_send(ab_tx, &m);
		err |= chan_recv(ba_rx, &m);
	}
	sl_profile_end(2);
	uint64_t round_trip = (sl_rdtsc() - t0) / (uint64_t)n;

	chan_t c64_tx, c64_rx;
	err |= chan_create(64, &c64_tx, &c64_rx);
	err |= chan_publish("bench.c64", c64_rx);
	err |= chan_recv(ba_rx, &m);            /* b has it */
	t0 = sl_rdtsc();
	sl_profile_begin(4);                    /* ./sluice profile chan-c64 */
	for (long i = 0; i < n; i++)
		err |= chan_send(c64_tx, &m);
	err |= chan_recv(ba_rx, &m);            /* b has received them all */
	sl_profile_end(4);
	uint64_t c64 = (sl_rdtsc() - t0) / (uint64_t)n;

	static chan_msg_t many[CHAN_BATCH_MAX];
	for (int i = 0; i < CHAN_BATCH_MAX; i++)
		many[i] = m;
	t0 = sl_rdtsc();
	sl_profile_begin(5);                    /* ./sluice profile chan-batch */
	for (long left = n; left > 0;) {
		size_t sent = 0;
		err |= chan_send_many(c64_tx, many, left < CHAN_BATCH_MAX ? (size_t)left : CHAN_BATCH_MAX, &sent);
		left -= err ? left : (long)sent;
	}
	err |= chan_recv(ba_rx, &m);            /* b has received them all */
	sl_profile_end(5);
	uint64_t batched = (sl_rdtsc() - t0) / (uint64_t)n;
	printf("chanbench: chan_send + chan_recv between two silos: %llu instructions per message\n",
	       (unsigned long long)one_way);
	printf("chanbench: one way through a capacity-64 channel: %llu instructions per message\n",
	       (unsigned long long)c64);
	printf("chanbench: one way in batches of 64 (capacity 64): %llu instructions per message\n",
	       (unsigned long long)batched);
	printf("chanbench: ping-pong over two channels: %llu instructions per round trip\n",
	       (unsigned long long)round_trip);
	if (err)
		printf("chanbench a: a call failed (error bits %d)\n", err);
	return err ? 1 : 0;
}

static int side_b(long n)
{
	chan_t ab, ba;
	chan_msg_t m = make_msg(1, 0, 0);
	int err = 0;

	lookup_wait("bench.ab", &ab);
	lookup_wait("bench.ba", &ba);
	err |= chan_send(ba, &m);
	for (long i = 0; i < n; i++)
		err |= chan_recv(ab, &m);
	err |= chan_send(ba, &m);
	for (long i = 0; i < n; i++) {
		err |= chan_recv(ab, &m);
		err |= chan_send(ba, &m);
	}
	chan_t c64;
	lookup_wait("bench.c64", &c64);
	err |= chan_send(ba, &m);
	for (long i = 0; i < n; i++)
		err |= chan_recv(c64, &m);
	err |= chan_send(ba, &m);
	static chan_msg_t many[CHAN_BATCH_MAX];
	for (long left = n; left > 0;) {
		size_t got = 0;
		err |= chan_recv_many(c64, many, CHAN_BATCH_MAX, &got);
		left -= err ? left : (long)got;
	}
	err |= chan_send(ba, &m);
	if (err)
		printf("chanbench b: a call failed (error bits %d)\n", err);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol_simple(argv[2]) : 5000;

	if (argc > 1 && !strcmp(argv[1], "a"))
		return side_a(n);
	if (argc > 1 && !strcmp(argv[1], "b"))
		return side_b(n);
	return 2;
}
