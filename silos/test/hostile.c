/*
 * hostile: calls every capability and IPC system call with invalid slots,
 * wrong types, missing rights, bad pointers, bad tags and an exhausted
 * quota, checking the documented error each time and that nothing changed.
 * Runs beside a well-behaved client and server, which must not notice.
 */
#include <sys/ipc.h>
#include <sys/sluice.h>

#define KERNEL_PTR ((void *)0xffffffff80100000ull)
#define EP 20           /* an endpoint of our own, all rights */
#define EP_SEND 21      /* send only */
#define EP_NOCOPY 22    /* send + recv, no copy */
#define NTFN 23
#define FREE 30         /* an empty slot */

static int count, failed;

static void check(long got, long want, const char *what)
{
	count++;
	failed += got != want;
	printf("%s %d - %s (got %ld, want %ld)\n", got == want ? "ok" : "not ok", count, what, got, want);
}

static bool slot_empty(sl_slot_t s)
{
	sl_cap_info_t info;

	return sl_cap_identify(s, &info) == SL_ECAP;
}

static void setup(void)
{
	check(sl_ep_create(EP), 0, "create an endpoint");
	check(sl_cap_mint(EP, EP_SEND, SL_RIGHT_SEND, 0), 0, "mint a send-only copy");
	check(sl_cap_mint(EP, EP_NOCOPY, SL_RIGHT_SEND | SL_RIGHT_RECV, 0), 0, "mint a copy without the copy right");
	check(sl_ntfn_create(NTFN), 0, "create a notification");
}

static void bad_slots(void)
{
	sl_cap_info_t info;
	sl_msg_t m = { 0 };

	check(sl_cap_identify(0, &info), SL_EINVAL, "identify slot 0 (null)");
	check(sl_cap_identify(sl_bootinfo()->cspace_slots, &info), SL_EINVAL, "identify past the cspace");
	check(sl_cap_identify(0x7fffffff, &info), SL_EINVAL, "identify a huge slot");
	check(sl_cap_identify(FREE, &info), SL_ECAP, "identify an empty slot");
	check(sl_send(FREE, &m), SL_ECAP, "send on an empty slot");
	check(sl_ipc(SL_SYS_SEND, ~0ul, &m), SL_EINVAL, "send on slot ~0");
	check(sl_recv(0, &m), SL_EINVAL, "recv on slot 0");
	check(sl_cap_delete(FREE), SL_ECAP, "delete an empty slot");
	check(sl_cap_revoke(FREE), SL_ECAP, "revoke an empty slot");
	check(sl_cap_move(FREE, FREE + 1), SL_ECAP, "move from an empty slot");
	check(sl_cap_copy(EP, 0), SL_EINVAL, "copy into slot 0");
	check(sl_cap_copy(EP, EP_SEND), SL_EEXIST, "copy onto an occupied slot");
	check(sl_ep_create(EP), SL_EEXIST, "create into an occupied slot");
	check(sl_ep_create(sl_bootinfo()->cspace_slots + 5), SL_EINVAL, "create past the cspace");
}

static void wrong_types(void)
{
	sl_msg_t m = { 0 };
	uint64_t word;

	check(sl_signal(EP), SL_ECAP, "signal an endpoint");
	check(sl_wait(EP, &word), SL_ECAP, "wait on an endpoint");
	check(sl_send(NTFN, &m), SL_ECAP, "send on a notification");
	check(sl_reply(EP, &m), SL_ECAP, "reply through an endpoint");
	check(sl_events_bind(EP, EP), SL_ECAP, "bind events without the silo-events capability");
	check(sl_cap_mint(NTFN, FREE, SL_RIGHTS_ALL, 0), 0, "mint an unbadged notification copy");
	check(sl_cap_delete(FREE), 0, "delete it");
}

static void missing_rights(void)
{
	sl_msg_t m = { .spec = SL_SPEC(0, FREE, 0, 0) };

	check(sl_nbrecv(EP_SEND, &m), SL_EPERM, "recv through a send-only capability");
	check(sl_cap_copy(EP_NOCOPY, FREE), SL_EPERM, "copy a capability without the copy right");
	check(sl_cap_mint(EP_NOCOPY, FREE, SL_RIGHTS_ALL, 5), SL_EPERM, "mint it");
	check(slot_empty(FREE), 1, "  ... and the target slot stayed empty");
	check(sl_cap_mint(EP_SEND, FREE, SL_RIGHTS_ALL, 0), SL_EPERM, "mint from send-only (no copy right)");
	m = (sl_msg_t){ .tag = SL_TAG_CAPS(SL_TAG(1, 0, 1), NTFN, 0) };
	check(sl_nbsend(EP_NOCOPY, &m), SL_EPERM, "send a capability without the grant right");
	check(slot_empty(NTFN), 0, "  ... and it stayed with us");
	check(sl_cap_mint(EP, FREE, SL_RIGHT_SEND | SL_RIGHT_COPY, 9), 0, "mint a badged copy");
	check(sl_cap_mint(FREE, FREE + 1, SL_RIGHTS_ALL, 10), SL_EPERM, "re-badge a badged capability");
	check(sl_cap_mint(FREE, FREE + 1, SL_RIGHTS_ALL, 0), 0, "copy it keeping its badge");
	sl_cap_info_t info = { 0 };
	sl_cap_identify(FREE + 1, &info);
	check((long)(info.badge * 100 + info.rights), 9 * 100 + (SL_RIGHT_SEND | SL_RIGHT_COPY),
	      "  ... badge 9 and no rights gained back");
	check(sl_cap_revoke(FREE), 1, "revoke the copy of the badged copy");
	check(slot_empty(FREE + 1), 1, "  ... which is gone");
	check(sl_cap_delete(FREE), 0, "delete the badged copy");
}

static void bad_messages(void)
{
	sl_msg_t m = { .tag = SL_TAG(1, 9, 0) };

	check(sl_nbsend(EP, &m), SL_EINVAL, "a message of 9 words");
	m.tag = SL_TAG(1, 0, 3);
	check(sl_nbsend(EP, &m), SL_EINVAL, "a message with 3 capabilities");
	m.tag = SL_TAG_CAPS(SL_TAG(1, 0, 1), FREE, 0);
	check(sl_nbsend(EP, &m), SL_ECAP, "a message carrying an empty slot");
	m.tag = SL_TAG(1, 0, 0);
	check(sl_nbsend(EP, &m), SL_EWOULDBLOCK, "nbsend with nobody receiving");
	m = (sl_msg_t){ .spec = SL_SPEC(0, EP, 0, 0) };
	check(sl_nbrecv(EP, &m), SL_EEXIST, "recv naming an occupied slot for the reply");
	m = (sl_msg_t){ .spec = SL_SPEC(0, sl_bootinfo()->cspace_slots + 1, 0, 0) };
	check(sl_nbrecv(EP, &m), SL_EINVAL, "recv naming a slot past the cspace");
	m = (sl_msg_t){ .spec = SL_SPEC(0, FREE, 0, 0) };
	check(sl_nbrecv(EP, &m), SL_EWOULDBLOCK, "nbrecv with nobody sending");
	m = (sl_msg_t){ .spec = SL_SPEC(EP, FREE, 0, 0) };
	check(sl_reply_recv(EP, &m), SL_ECAP, "reply_recv naming an endpoint as the reply");
	uint64_t word = 1;
	check(sl_poll(NTFN, &word), 0, "poll an idle notification");
	check((long)word, 0, "  ... gives 0");
}

static void bad_pointers(void)
{
	check(sl_cap_identify(EP, NULL), SL_EFAULT, "identify into NULL");
	check(sl_cap_identify(EP, KERNEL_PTR), SL_EFAULT, "identify into kernel memory");
	check(sl_cap_identify(EP, (sl_cap_info_t *)0x00007ffffffffff8ull), SL_EFAULT,
	      "identify across the top of user space");
}

static int call_and_return(void *arg)
{
	sl_msg_t m = { .tag = SL_TAG(1, 0, 0) };

	return (int)sl_call((sl_slot_t)(long)arg, &m);
}

/* Replies that try to give away their own reply capability, and calls
 * whose endpoint goes away under them. */
static void reply_tricks(void)
{
	sl_msg_t m = { .spec = SL_SPEC(0, 51, 0, 0) }, r;
	int code = 1;

	check(sl_ep_create(50), 0, "create an endpoint to call ourselves");
	int tid = sl_thread_create(call_and_return, (void *)50);
	check(sl_recv(50, &m) == 0 && (m.tag & SL_TAG_CALL) != 0, 1, "receive our own thread's call");
	r = (sl_msg_t){ .tag = SL_TAG_CAPS(SL_TAG(2, 0, 1), 51, 0) };
	check(sl_reply(51, &r), SL_EINVAL, "a reply carrying its own reply capability");
	r = (sl_msg_t){ .tag = SL_TAG(3, 0, 0) };
	check(sl_reply(51, &r), 0, "  ... the reply capability still answers");
	sl_thread_join(tid, &code);
	check(code, 0, "  ... and the caller got that answer");

	tid = sl_thread_create(call_and_return, (void *)50);
	sl_sleep_ms(20);                        /* it waits: nobody receives */
	check(sl_cap_delete(50), 0, "delete the endpoint a caller waits on");
	sl_thread_join(tid, &code);
	check(code, SL_EDEAD, "  ... the caller gets SL_EDEAD (and its reply object is freed)");

	check(sl_ipc(SL_SYS_NBSEND, (1ul << 32) + EP, &m), SL_EINVAL, "a slot number past 32 bits");
	check(sl_cap_mint(EP, FREE, 0x10 | SL_RIGHT_SEND, 0), SL_EINVAL, "mint with unknown right bits");
}

/* Creates endpoints until the quota says no, then frees them. */
static void quota(void)
{
	int made = 0, last = 0;

	for (sl_slot_t s = 100; s < 500 && (last = sl_ep_create(s)) == 0; s++)
		made++;
	check(last, SL_EQUOTA, "creating past the kernel-memory quota");
	printf("# %d endpoints fitted in a quota of %u bytes\n", made, sl_bootinfo()->kmem_quota);
	check(made > 0 && made < 400, 1, "  ... after a bounded number of objects");
	int freed = 0;
	for (sl_slot_t s = 100; s < 100 + (unsigned)made; s++)
		freed += sl_cap_delete(s) == 0;
	check(freed, made, "delete them all");
	check(sl_ep_create(100), 0, "and the quota is back");
}

int main(void)
{
	printf("TAP version 13\n");
	setup();
	bad_slots();
	wrong_types();
	missing_rights();
	bad_messages();
	bad_pointers();
	reply_tricks();
	quota();
	printf("1..%d\nhostile: %d of %d checks failed\n", count, failed, count);
	return failed ? 1 : 0;
}
