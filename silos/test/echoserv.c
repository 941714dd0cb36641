/*
 * echoserv: the test server. It answers pings, gathers and answers
 * deferred calls last-first, keeps capabilities sent to it, parks a call
 * to answer later, and prints every silo event it hears. See echo_proto.h.
 */
#include "echo_proto.h"
#include <sys/ipc.h>
#include <sys/sluice.h>

static unsigned deferred;       /* parked replies in ECHO_SLOT_DEFERRED.. */
static uint64_t deferred_who[ECHO_DEFER_MAX];

static void print_event(const sl_msg_t *m)
{
	if ((int64_t)m->w[2] < 0)
		printf("echoserv: event: silo %llu exited with %lld\n",
		       (unsigned long long)m->w[0], (long long)m->w[1]);
	else
		printf("echoserv: event: silo %llu killed by vector %llu at rip=%#llx\n",
		       (unsigned long long)m->w[0], (unsigned long long)m->w[2],
		       (unsigned long long)m->w[3]);
}

/* Answers every gathered call, the last to arrive first. */
static void answer_deferred(void)
{
	for (unsigned k = 0; k < deferred; k++) {
		unsigned i = deferred - 1 - k;
		sl_msg_t a = { .tag = SL_TAG(0, 3, 0), .w = { deferred_who[i], i, k } };
		long r = sl_reply(ECHO_SLOT_DEFERRED + i, &a);

		if (r < 0)
			printf("echoserv: deferred reply %u failed: %ld\n", i, r);
	}
	deferred = 0;
}

static bool defer(sl_msg_t *m)
{
	unsigned want = (unsigned)m->w[1];

	if (deferred >= ECHO_DEFER_MAX || want > ECHO_DEFER_MAX ||
	    sl_cap_move(ECHO_SLOT_REPLY, ECHO_SLOT_DEFERRED + deferred) < 0) {
		m->tag = SL_TAG((unsigned)SL_EINVAL, 0, 0);
		return true;
	}
	deferred_who[deferred++] = m->w[0];
	if (deferred == want)
		answer_deferred();
	return false;
}

/* Keeps the capability that came with the message; replies what it is. */
static void hold(sl_msg_t *m)
{
	sl_cap_info_t info = { 0 };
	uint64_t flags = m->tag >> 40 & 0xf, unwrapped = m->spec;
	long r = SL_ECAP;

	sl_cap_delete(ECHO_SLOT_HELD);
	if (m->tag & SL_TAG_MOVED(0)) {
		sl_cap_move(ECHO_SLOT_CAP0, ECHO_SLOT_HELD);
		r = sl_cap_identify(ECHO_SLOT_HELD, &info);
	}
	*m = (sl_msg_t){ .tag = SL_TAG(0, 6, 0),
			 .w = { (uint64_t)r, info.type, info.rights, info.badge, flags, unwrapped } };
}

static void probe(sl_msg_t *m)
{
	sl_cap_info_t info;
	sl_msg_t ping = { .tag = SL_TAG(ECHO_PING, 0, 0) };
	long id = sl_cap_identify(ECHO_SLOT_HELD, &info);
	long send = sl_nbsend(ECHO_SLOT_HELD, &ping);

	*m = (sl_msg_t){ .tag = SL_TAG(0, 2, 0), .w = { (uint64_t)id, (uint64_t)send } };
}

static void answer_parked(sl_msg_t *m)
{
	sl_msg_t a = { .tag = SL_TAG(0, 0, 0) };
	long r = sl_reply(ECHO_SLOT_PARKED, &a);

	printf("echoserv: answering the parked call: %ld\n", r);
	*m = (sl_msg_t){ .tag = SL_TAG(0, 1, 0), .w = { (uint64_t)r } };
}

/* Handles one message; returns whether to answer it now (with *m). */
static bool handle(sl_msg_t *m)
{
	if (m->badge == SL_BADGE_KERNEL) {
		print_event(m);
		return false;
	}
	switch (SL_TAG_LABEL(m->tag)) {
	case ECHO_PING:
		for (unsigned i = 0; i < SL_TAG_LEN(m->tag); i++)
			m->w[i]++;
		m->tag = SL_TAG(0, SL_TAG_LEN(m->tag), 0);
		return true;
	case ECHO_DEFER:
		return defer(m);
	case ECHO_HOLD:
		hold(m);
		return true;
	case ECHO_PROBE:
		probe(m);
		return true;
	case ECHO_PARK:
		sl_cap_delete(ECHO_SLOT_PARKED);
		sl_cap_move(ECHO_SLOT_REPLY, ECHO_SLOT_PARKED);
		return false;
	case ECHO_ANSWER_PARKED:
		answer_parked(m);
		return true;
	default:
		m->tag = SL_TAG((unsigned)SL_ENOSYS, 0, 0);
		return true;
	}
}

/*
 * echoserv regs: a ping server at the register level (sl_ipc_words), as a
 * benchmark measures the kernel's round trip: every call is answered with
 * its words plus one, and the spec names no capability slot (capabilities
 * sent here stay with their sender). Anything else is received past.
 */
static void serve_regs(void)
{
	uint64_t w[SL_MSG_WORDS] = { 0 }, tag = 0, spec = SL_SPEC(0, ECHO_SLOT_REPLY, 0, 0), badge;
	long r = sl_ipc_words(SL_SYS_RECV, SL_SLOT_SERVER, &tag, &spec, &badge, w, w, NULL);

	for (;;) {
		if (r == 0 && (tag & SL_TAG_CALL)) {
			unsigned len = SL_TAG_LEN(tag);

			for (unsigned i = 0; i < len; i++)
				w[i]++;
			tag = SL_TAG(0, len, 0);
			spec = SL_SPEC(ECHO_SLOT_REPLY, ECHO_SLOT_REPLY, 0, 0);
			r = sl_ipc_words(SL_SYS_REPLY_RECV, SL_SLOT_SERVER, &tag, &spec, &badge, w, w, NULL);
		} else {
			tag = 0;
			spec = SL_SPEC(0, ECHO_SLOT_REPLY, 0, 0);
			r = sl_ipc_words(SL_SYS_RECV, SL_SLOT_SERVER, &tag, &spec, &badge, w, w, NULL);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "regs")) {
		printf("echoserv: register-level ping server\n");
		serve_regs();
	}
	long r = sl_events_bind(SL_SLOT_SILO_EVENTS, SL_SLOT_SERVER);
	sl_msg_t m = { .spec = SL_SPEC(0, ECHO_SLOT_REPLY, ECHO_SLOT_CAP0, ECHO_SLOT_CAP1) };

	printf("echoserv: serving %u silos, events bound: %ld\n", sl_silo_table()->count, r);
	r = sl_recv(SL_SLOT_SERVER, &m);
	for (;;) {
		bool was_call = r == 0 && (m.tag & SL_TAG_CALL);
		bool got_caps = r == 0 && (m.tag & (SL_TAG_MOVED(0) | SL_TAG_MOVED(1)));
		bool answer = r == 0 && handle(&m) && was_call;

		if (r < 0)
			printf("echoserv: receive failed: %ld\n", r);
		if (got_caps) {                 /* drop whatever was not kept */
			sl_cap_delete(ECHO_SLOT_CAP0);
			sl_cap_delete(ECHO_SLOT_CAP1);
		}
		m.spec = SL_SPEC(answer ? ECHO_SLOT_REPLY : 0, ECHO_SLOT_REPLY,
				 ECHO_SLOT_CAP0, ECHO_SLOT_CAP1);
		r = answer ? sl_reply_recv(SL_SLOT_SERVER, &m) : sl_recv(SL_SLOT_SERVER, &m);
	}
}
