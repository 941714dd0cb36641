/*
 * insn-profile: a QEMU TCG plugin counting how often each guest
 * instruction runs inside a profiling window.
 *
 * A window opens and closes at marker instructions a silo executes
 * (sl_profile_begin/sl_profile_end in <sys/sluice.h>): the no-op
 * `nopl DISP32(%rax)` with DISP32 = SL_PROFILE_MAGIC | id << 1 | open.
 * Only window `window=ID` (plugin argument, default 1) is counted. Every
 * instruction is keyed by its virtual address and the host address of its
 * bytes, so the same address in two silos (all link at 0x400000) stays
 * apart; its bytes go out with it so that tools/profile/report can tell
 * which silo's ELF it came from.
 *
 * Output (plugin argument out=FILE, rewritten when a window closes and at
 * exit): "windows N" then one line per instruction that ran in a window:
 * "VADDR SIZE COUNT HEXBYTES".
 *
 * QEMU 7.2 does not package its plugin header, so the few declarations
 * used here are written out below; they match its API version 1.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the part of QEMU 7.2's qemu-plugin.h this plugin uses ---- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_VERSION 1
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed through */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS
};
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);
/* ---- end of QEMU's declarations ---- */

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define PROFILE_MAGIC 0x51f00000u /* SL_PROFILE_MAGIC in <sys/sluice.h> */
#define MAX_BYTES 16

typedef struct insn_rec {
	uint64_t vaddr;
	uintptr_t haddr;
	uint64_t count;
	uint32_t size;
	uint8_t bytes[MAX_BYTES];
	struct insn_rec *next; /* hash chain */
} insn_rec_t;

typedef struct marker {
	unsigned id;
	bool open;
} marker_t;

#define HASH_SIZE (1u << 20)
static insn_rec_t **table;
static unsigned window = 1;
static bool active;
static uint64_t windows;
static const char *out_path = "profile.out";

static insn_rec_t *rec_get(uint64_t vaddr, uintptr_t haddr, const void *data, size_t size)
{
	uint64_t h = (vaddr * 0x9e3779b97f4a7c15ull) ^ (haddr * 0xc2b2ae3d27d4eb4full);
	insn_rec_t **slot = &table[(h >> 20) & (HASH_SIZE - 1)];

	for (insn_rec_t *r = *slot; r; r = r->next)
		if (r->vaddr == vaddr && r->haddr == haddr)
			return r;
	insn_rec_t *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	r->vaddr = vaddr;
	r->haddr = haddr;
	r->size = (uint32_t)size;
	memcpy(r->bytes, data, size < MAX_BYTES ? size : MAX_BYTES);
	r->next = *slot;
	*slot = r;
	return r;
}

static void dump(void)
{
	FILE *f = fopen(out_path, "w");

	if (!f) {
		qemu_plugin_outs("insn-profile: cannot write the output file\n");
		return;
	}
	fprintf(f, "windows %llu\n", (unsigned long long)windows);
	for (size_t i = 0; i < HASH_SIZE; i++) {
		for (insn_rec_t *r = table[i]; r; r = r->next) {
			if (!r->count)
				continue;
			fprintf(f, "%llx %u %llu ", (unsigned long long)r->vaddr, r->size,
				(unsigned long long)r->count);
			for (uint32_t b = 0; b < r->size && b < MAX_BYTES; b++)
				fprintf(f, "%02x", r->bytes[b]);
			fputc('\n', f);
		}
	}
	fclose(f);
}

static void on_insn(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	if (active)
		((insn_rec_t *)udata)->count++;
}

static void on_marker(unsigned int vcpu, void *udata)
{
	const marker_t *m = udata;

	(void)vcpu;
	if (m->id != window)
		return;
	if (m->open && !active) {
		active = true;
	} else if (!m->open && active) {
		active = false;
		windows++;
		dump();
	}
}

/* A marker: 0f 1f 80 followed by DISP32 with the magic in its top bits. */
static marker_t *marker_of(const uint8_t *p, size_t size)
{
	uint32_t disp;

	if (size != 7 || p[0] != 0x0f || p[1] != 0x1f || p[2] != 0x80)
		return NULL;
	memcpy(&disp, p + 3, 4);
	if ((disp & 0xfff00000u) != PROFILE_MAGIC)
		return NULL;
	marker_t *m = malloc(sizeof *m);
	if (!m)
		abort();
	m->id = (disp >> 1) & 0x7ffff;
	m->open = disp & 1;
	return m;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		const uint8_t *data = qemu_plugin_insn_data(insn);
		size_t size = qemu_plugin_insn_size(insn);
		marker_t *m = marker_of(data, size);

		if (m)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
							       QEMU_PLUGIN_CB_NO_REGS, m);
		insn_rec_t *r = rec_get(qemu_plugin_insn_vaddr(insn),
					(uintptr_t)qemu_plugin_insn_haddr(insn), data, size);
		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, r);
	}
}

static void on_qemu_exit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;
	dump();
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					   char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out_path = argv[i] + 4;
		else if (!strncmp(argv[i], "window=", 7))
			window = (unsigned)strtoul(argv[i] + 7, NULL, 0);
	}
	table = calloc(HASH_SIZE, sizeof *table);
	if (!table)
		return 1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}
