/*
 * sdk-hello: makes a channel, sends itself a message through chanserv,
 * reads it back and checks it, then exits 0.
 */
#include <chan.h>
#include <sys/sluice.h>

int main(int argc, char **argv)
{
	chan_t tx, rx;
	chan_msg_t out = { .type = 7 }, in;
	int r;

	printf("sdk-hello: silo %d, %d argument(s)%s%s\n", sl_silo_id(), argc - 1,
	       argc > 1 ? ", first: " : "", argc > 1 ? argv[1] : "");
	memcpy(out.payload, "through chanserv", 17);
	if ((r = chan_create(4, &tx, &rx)) != 0 || (r = chan_send(tx, &out)) != 0 ||
	    (r = chan_recv(rx, &in)) != 0) {
		printf("sdk-hello: %s\n", chan_strerror(r));
		return 1;
	}
	if (in.type != 7 || memcmp(in.payload, "through chanserv", 17) != 0 ||
	    in.sender != (uint64_t)sl_silo_id()) {
		printf("sdk-hello: the message came back wrong\n");
		return 1;
	}
	printf("sdk-hello: message came back intact, stamped by silo %llu\n",
	       (unsigned long long)in.sender);
	return 0;
}
