/*
 * The demo: a pipeline across silos, over chanserv channels.
 *
 *   source ID N   sends N numbers into "stage1" (two sources: a
 *                 multi-producer stage), posts a note on "board", closes
 *   filter        squares what arrives on "stage1" into "stage2"
 *   sink          adds up "stage2", then reads the notes on "board" (a
 *                 symmetric channel everyone posts to) and prints a summary
 *
 * When the sources close, stage1 drains and disconnects; the filter then
 * closes stage2, which drains and disconnects at the sink: the end of the
 * stream travels down the pipeline as disconnects.
 */
#include <chan.h>
#include <sys/ipc.h>
#include <sys/sluice.h>

static chan_t lookup(const char *name)
{
	chan_t h = 0;

	while (chan_lookup(name, &h) == CHAN_ENOENT)
		sl_sleep_ms(5);
	return h;
}

/* Lets go of our own send handle once `others` more senders hold one, so
 * the channel ends when they are done and not before they arrive. */
static void hand_over(chan_t tx, uint32_t others)
{
	chan_info_t info;

	while (chan_info(tx, &info) == 0 && info.senders < others + 1)
		sl_sleep_ms(5);
	chan_close(tx);
}

/* Posts a line on the board: fmt takes up to two %llu. */
static void note(chan_t board, const char *fmt, uint64_t a, uint64_t b)
{
	chan_msg_t m = { .type = 1 };

	snprintf((char *)m.payload, sizeof m.payload, fmt, (unsigned long long)a, (unsigned long long)b);
	chan_send(board, &m);
}

static int source(uint64_t id, uint64_t n)
{
	chan_t tx = lookup("stage1"), board = lookup("board");

	for (uint64_t i = 1; i <= n; i++) {
		chan_msg_t m = { .type = 2 };
		uint64_t v = id * n + i;
		memcpy(m.payload, &v, sizeof v);
		chan_send(tx, &m);
	}
	printf("source %llu: sent %llu numbers\n", (unsigned long long)id, (unsigned long long)n);
	note(board, "source %llu sent %llu numbers", id, n);
	chan_close(tx);
	chan_close(board);
	return 0;
}

static int filter(void)
{
	chan_t tx1, rx1, out, board;
	chan_msg_t m;
	uint64_t n = 0;

	chan_create(8, &tx1, &rx1);
	chan_publish("stage1", tx1);
	out = lookup("stage2");
	board = lookup("board");
	hand_over(tx1, 2);                      /* both sources are in */
	while (chan_recv(rx1, &m) == 0) {
		uint64_t v;
		memcpy(&v, m.payload, sizeof v);
		v *= v;
		memcpy(m.payload, &v, sizeof v);
		chan_send(out, &m);
		n++;
	}
	printf("filter: stage1 ended; squared %llu numbers\n", (unsigned long long)n);
	note(board, "filter squared %llu numbers", n, 0);
	chan_close(out);
	chan_close(board);
	return 0;
}

static int sink(uint64_t sources, uint64_t per_source)
{
	chan_t tx2, rx2, board;
	chan_msg_t m;
	chan_info_t info;
	uint64_t n = 0, total = 0, expect = 0;

	chan_create(16, &tx2, &rx2);
	chan_create_sync(32, &board);
	chan_publish("stage2", tx2);
	chan_publish("board", board);
	hand_over(tx2, 1);                      /* the filter is in */
	while (chan_recv(rx2, &m) == 0) {
		uint64_t v;
		memcpy(&v, m.payload, sizeof v);
		total += v;
		n++;
	}
	for (uint64_t id = 1; id <= sources; id++)
		for (uint64_t i = 1; i <= per_source; i++)
			expect += (id * per_source + i) * (id * per_source + i);
	chan_info(board, &info);
	printf("demo: ---- summary ----\n");
	while (chan_try_recv(board, &m) == 0)
		printf("demo: board (from silo %llu): %s\n", (unsigned long long)m.sender, (char *)m.payload);
	printf("demo: sink received %llu squares, total %llu (expected %llu): %s\n",
	       (unsigned long long)n, (unsigned long long)total, (unsigned long long)expect,
	       total == expect ? "match" : "MISMATCH");
	printf("demo: board: symmetric channel %llu, capacity %u, %u notes were waiting\n",
	       (unsigned long long)info.id, info.capacity, info.length);
	return total == expect ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *role = argc > 1 ? argv[1] : "";

	if (!strcmp(role, "source") && argc > 3)
		return source((uint64_t)strtol_simple(argv[2]), (uint64_t)strtol_simple(argv[3]));
	if (!strcmp(role, "filter"))
		return filter();
	if (!strcmp(role, "sink") && argc > 3)
		return sink((uint64_t)strtol_simple(argv[2]), (uint64_t)strtol_simple(argv[3]));
	printf("pipeline: unknown role\n");
	return 2;
}
