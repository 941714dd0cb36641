/*
 * chan-mpmc: producers and consumers over one directional channel.
 *
 *   mpmc hub P C N    creates "work" (capacity 8) and "results", waits until
 *                     P producers are connected, then lets go of its own send
 *                     handle; collects C reports and checks, per producer,
 *                     count, sum and sum of squares of the sequence numbers
 *   mpmc producer ID N    sends N messages (ID, seq) and closes
 *   mpmc consumer P   receives until CHAN_EDISCONNECTED, checks each
 *                     producer's order, reports figures for the P producers
 */
#include "common.h"

#define MAX_PRODUCERS 8
#define T_READY 1
#define T_REPORT 2

typedef struct {
	uint64_t count, sum, sumsq;
} tally_t;

static int hub(long producers, long consumers, long n)
{
	chan_t tx, rx, res_tx, res_rx;
	tally_t total[MAX_PRODUCERS] = { 0 };
	chan_msg_t m;

	check(chan_create(8, &tx, &rx) == 0, "create work", 0);
	check(chan_create(64, &res_tx, &res_rx) == 0, "create results", 0);
	check(chan_publish("work.tx", tx) == 0 && chan_publish("work.rx", rx) == 0 &&
	      chan_publish("results", res_tx) == 0, "publish", 0);
	/* res_tx stays open: results must not look disconnected meanwhile. */
	for (long i = 0; i < producers; i++)
		chan_recv(res_rx, &m);                  /* T_READY from each producer */
	chan_close(tx);                                 /* now only the producers send */
	for (long i = 0; i < consumers; i++) {
		check(chan_recv(res_rx, &m) == 0 && m.type == T_REPORT, "a consumer report", (long)m.type);
		uint64_t id = msg_word(&m, 0);
		if (id < MAX_PRODUCERS) {
			total[id].count += msg_word(&m, 1);
			total[id].sum += msg_word(&m, 2);
			total[id].sumsq += msg_word(&m, 3);
		}
		for (long p = 1; p < producers; p++) {  /* the rest of its figures */
			chan_recv(res_rx, &m);
			id = msg_word(&m, 0);
			if (id < MAX_PRODUCERS) {
				total[id].count += msg_word(&m, 1);
				total[id].sum += msg_word(&m, 2);
				total[id].sumsq += msg_word(&m, 3);
			}
		}
	}
	uint64_t sum = (uint64_t)n * (n - 1) / 2, sumsq = (uint64_t)(n - 1) * n * (2 * n - 1) / 6;
	for (long p = 0; p < producers; p++)
		check(total[p].count == (uint64_t)n && total[p].sum == sum && total[p].sumsq == sumsq,
		      "a producer's messages all arrived exactly once", (long)total[p].count);
	printf("mpmc: %ld producers x %ld messages through capacity 8, %ld consumers\n", producers, n, consumers);
	return tap_done("mpmc hub");
}

static int producer(long id, long n)
{
	chan_t tx, res;
	chan_msg_t m = make_msg(T_READY, (uint64_t)id, 0);
	int err = 0;

	check(lookup_wait("work.tx", &tx) == 0 && lookup_wait("results", &res) == 0, "look up", 0);
	chan_send(res, &m);
	for (long seq = 0; seq < n && !err; seq++) {
		m = make_msg(0, (uint64_t)id, (uint64_t)seq);
		err = chan_send(tx, &m);
	}
	check(err == 0, "every send succeeded", err);
	chan_close(tx);
	chan_close(res);
	return tap_done("mpmc producer");
}

static int consumer(long producers)
{
	chan_t rx, res;
	chan_msg_t m;
	tally_t t[MAX_PRODUCERS] = { 0 };
	int64_t last[MAX_PRODUCERS];
	long bad_order = 0, foreign = 0, got = 0;
	int r;

	for (int i = 0; i < MAX_PRODUCERS; i++)
		last[i] = -1;
	check(lookup_wait("work.rx", &rx) == 0 && lookup_wait("results", &res) == 0, "look up", 0);
	while ((r = chan_recv(rx, &m)) == 0) {
		uint64_t id = msg_word(&m, 0), seq = msg_word(&m, 1);
		if (id >= MAX_PRODUCERS || m.sender == 0xdeadbeef) {
			foreign++;
			continue;
		}
		bad_order += (int64_t)seq <= last[id];
		last[id] = (int64_t)seq;
		t[id].count++;
		t[id].sum += seq;
		t[id].sumsq += seq * seq;
		got++;
	}
	check(r == CHAN_EDISCONNECTED, "the channel ends with CHAN_EDISCONNECTED", r);
	check(bad_order == 0, "each producer's order kept", bad_order);
	check(foreign == 0, "every message stamped by chanserv", foreign);
	printf("mpmc consumer: %ld messages\n", got);
	for (uint64_t id = 0; id < (uint64_t)producers; id++) {
		m = make_msg(T_REPORT, id, t[id].count);
		memcpy(m.payload + 16, &t[id].sum, 8);
		memcpy(m.payload + 24, &t[id].sumsq, 8);
		chan_send(res, &m);
	}
	chan_close(rx);
	chan_close(res);
	return tap_done("mpmc consumer");
}

int main(int argc, char **argv)
{
	const char *role = argc > 1 ? argv[1] : "";

	if (!strcmp(role, "hub") && argc > 4)
		return hub(strtol_simple(argv[2]), strtol_simple(argv[3]), strtol_simple(argv[4]));
	if (!strcmp(role, "producer") && argc > 3)
		return producer(strtol_simple(argv[2]), strtol_simple(argv[3]));
	if (!strcmp(role, "consumer") && argc > 2)
		return consumer(strtol_simple(argv[2]));
	printf("mpmc: unknown role\n");
	return 2;
}
