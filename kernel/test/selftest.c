/*
 * Self-test driver and TAP output.
 */
#include <arch/arch.h>
#include <kernel/format.h>
#include <kernel/printk.h>
#include <kernel/selftest.h>

bool tap_check(tap_t *t, bool ok, const char *fmt, ...)
{
	char desc[160];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(desc, sizeof desc, fmt, ap);
	va_end(ap);
	t->count++;
	if (!ok)
		t->failed++;
	kprintf("%s %d - %s\n", ok ? "ok" : "not ok", t->count, desc);
	return ok;
}

bool selftest_run(void)
{
	tap_t t = { 0 };

	kprintf("TAP version 13\n");
	selftest_frames(&t);
	selftest_heap(&t);
	selftest_paging(&t);
	selftest_timer(&t);
	selftest_sched(&t);
	kprintf("1..%d\n", t.count);
	if (t.failed) {
		kprintf("selftest: %d of %d checks failed\n", t.failed, t.count);
		return false;
	}
	kprintf("selftest: all %d checks passed\n", t.count);
	return true;
}
