/*
 * ipcbench: instruction counts (rdtsc under QEMU -icount shift=0) of a
 * null system call and of a call/reply round trip to echoserv, whose loop
 * answers with reply_recv. Boot with ipc.slowpath to disable the direct
 * switch and measure the general path.
 */
#include "echo_proto.h"
#include "measure.h"
#include <sys/ipc.h>
#include <sys/sluice.h>

int main(int argc, char **argv)
{
	const int ROUNDS = argc > 2 ? (int)strtol_simple(argv[2]) : 20000;
	uint64_t t0, base = loop_overhead(ROUNDS), nul = null_syscall_cost(ROUNDS), rt;
	sl_msg_t m;

	for (int i = 0; i < 100; i++) {         /* warm up: server in reply_recv */
		m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0), .w = { 1 } };
		sl_call(SL_SLOT_SERVER, &m);
	}
	t0 = sl_rdtsc();
	sl_profile_begin(1);            /* ./sluice profile ipc: one window */
	for (int i = 0; i < ROUNDS; i++) {
		m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0), .w = { (uint64_t)i } };
		sl_call(SL_SLOT_SERVER, &m);
	}
	sl_profile_end(1);
	rt = (sl_rdtsc() - t0 - base) / ROUNDS;
	printf("ipcbench: null system call: %llu instructions\n", (unsigned long long)nul);
	printf("ipcbench: call + reply_recv round trip (%s): %llu instructions\n",
	       sl_bootinfo()->args[0] == 's' ? "slow path" : "fast path", (unsigned long long)rt);
	return 0;
}
