/*
 * ipcbench: instruction counts (rdtsc under QEMU -icount shift=0) of a
 * null system call and of a call/reply round trip to echoserv, whose loop
 * answers with reply_recv. Boot with ipc.slowpath to disable the direct
 * switch and measure the general path. ipcbench regs (against echoserv
 * regs) measures the same round trip with both sides at the register
 * level (sl_ipc_words). The answers are checked (each its word plus
 * one: every one in the register-level loop, their sum in the other);
 * a wrong one makes the silo fail.
 */
#include "echo_proto.h"
#include "measure.h"
#include <sys/ipc.h>
#include <sys/sluice.h>

/* The round trip at the register level (sl_ipc_words), against echoserv
 * regs: what the kernel's path costs with the least user code around it.
 * Every answer is checked (its word plus one). */
static int round_trip_regs(int rounds, uint64_t base)
{
	uint64_t w[SL_MSG_WORDS] = { 0 }, tag, spec, badge, t0, bad = 0;

	for (int i = 0; i < 100; i++) { /* warm up */
		tag = SL_TAG(ECHO_PING, 1, 0);
		spec = 0;
		sl_ipc_words(SL_SYS_CALL, SL_SLOT_SERVER, &tag, &spec, &badge, w, w, NULL);
	}
	t0 = sl_rdtsc();
	sl_profile_begin(6);            /* ./sluice profile ipc-regs */
	for (int i = 0; i < rounds; i++) {
		w[0] = (uint64_t)i;
		tag = SL_TAG(ECHO_PING, 1, 0);
		spec = 0;
		bad += sl_ipc_words(SL_SYS_CALL, SL_SLOT_SERVER, &tag, &spec, &badge, w, w, NULL) != 0 ||
		       w[0] != (uint64_t)i + 1;
	}
	sl_profile_end(6);
	uint64_t rt = (sl_rdtsc() - t0 - base) / (uint64_t)rounds;
	printf("ipcbench: call + reply_recv round trip (registers): %llu instructions, %llu wrong answers\n",
	       (unsigned long long)rt, (unsigned long long)bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	const int ROUNDS = argc > 2 ? (int)strtol_simple(argv[2]) : 20000;
	uint64_t t0, base = loop_overhead(ROUNDS), nul = null_syscall_cost(ROUNDS), rt, sum = 0;
	long err = 0;
	sl_msg_t m;

	if (argc > 1 && !strcmp(argv[1], "regs"))
		return round_trip_regs(ROUNDS, base);

	for (int i = 0; i < 100; i++) {         /* warm up: server in reply_recv */
		m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0), .w = { 1 } };
		sl_call(SL_SLOT_SERVER, &m);
	}
	t0 = sl_rdtsc();
	sl_profile_begin(1);            /* ./sluice profile ipc: one window */
	for (int i = 0; i < ROUNDS; i++) {
		m = (sl_msg_t){ .tag = SL_TAG(ECHO_PING, 1, 0), .w = { (uint64_t)i } };
		err |= sl_call(SL_SLOT_SERVER, &m);
		sum += m.w[0];  /* i + 1 each: checked below, at two instructions a round */
	}
	sl_profile_end(1);
	rt = (sl_rdtsc() - t0 - base) / ROUNDS;
	bool right = err == 0 && sum == (uint64_t)ROUNDS * (ROUNDS + 1) / 2;
	printf("ipcbench: null system call: %llu instructions\n", (unsigned long long)nul);
	printf("ipcbench: call + reply_recv round trip (%s): %llu instructions, answers %s\n",
	       sl_bootinfo()->args[0] == 's' ? "slow path" : "fast path", (unsigned long long)rt,
	       right ? "right" : "WRONG");
	return right ? 0 : 1;
}
