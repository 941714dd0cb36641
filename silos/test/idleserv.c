/*
 * idleserv: the smallest server. It answers every call with label
 * SL_ENOSYS and otherwise waits; the kernel stops it when the other silos
 * have ended.
 */
#include <sys/ipc.h>
#include <sys/sluice.h>

#define REPLY_SLOT SL_SLOT_FIRST_FREE

int main(void)
{
	sl_msg_t m = { .spec = SL_SPEC(0, REPLY_SLOT, 0, 0) };
	long r = sl_recv(SL_SLOT_SERVER, &m);

	for (;;) {
		bool call = r == 0 && (m.tag & SL_TAG_CALL);

		m = (sl_msg_t){ .tag = SL_TAG((unsigned)SL_ENOSYS, 0, 0),
				.spec = SL_SPEC(call ? REPLY_SLOT : 0, REPLY_SLOT, 0, 0) };
		r = call ? sl_reply_recv(SL_SLOT_SERVER, &m) : sl_recv(SL_SLOT_SERVER, &m);
	}
}
