/*
 * Host tests of the multiboot2 information parser (kernel/boot/mb2.c).
 * Blocks are built by hand, then copied into a heap block of exactly
 * total_size bytes before parsing, so ASan catches any read past the end.
 */
#include <kernel/mb2.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { TAG_END = 0, TAG_CMDLINE = 1, TAG_LOADER = 2, TAG_MODULE = 3,
       TAG_MEMINFO = 4, TAG_MMAP = 6 };

/* A block under construction: bytes, and where the next byte goes. */
typedef struct {
	uint64_t words[8192];           /* 8-byte alignment, as the loader gives */
	uint32_t off;
} block_t;

static uint8_t *bytes(block_t *b)
{
	return (uint8_t *)b->words;
}

static void put_u32(block_t *b, uint32_t at, uint32_t v)
{
	memcpy(bytes(b) + at, &v, sizeof v);
}

static void add_bytes(block_t *b, const void *p, uint32_t n)
{
	assert_true(b->off + n <= sizeof b->words);
	memcpy(bytes(b) + b->off, p, n);
	b->off += n;
}

static void add_u32(block_t *b, uint32_t v)
{
	add_bytes(b, &v, sizeof v);
}

static void add_u64(block_t *b, uint64_t v)
{
	add_bytes(b, &v, sizeof v);
}

static void add_str(block_t *b, const char *s)
{
	add_bytes(b, s, (uint32_t)strlen(s) + 1);
}

static void block_begin(block_t *b)
{
	memset(b, 0, sizeof *b);
	b->off = 8;
}

/* Starts a tag; returns its offset for tag_end. */
static uint32_t tag_begin(block_t *b, uint32_t type)
{
	uint32_t at = b->off;

	add_u32(b, type);
	add_u32(b, 0);
	return at;
}

/* Sets the tag's size to what was added, then pads to 8 bytes. */
static void tag_end(block_t *b, uint32_t at)
{
	put_u32(b, at + 4, b->off - at);
	b->off = (b->off + 7) & ~7u;
}

static void add_string_tag(block_t *b, uint32_t type, const char *s)
{
	uint32_t t = tag_begin(b, type);

	add_str(b, s);
	tag_end(b, t);
}

static void add_module(block_t *b, uint32_t start, uint32_t end, const char *s)
{
	uint32_t t = tag_begin(b, TAG_MODULE);

	add_u32(b, start);
	add_u32(b, end);
	add_str(b, s);
	tag_end(b, t);
}

/* An mmap tag with entries {base, len, type} padded to entry_size bytes. */
static void add_mmap(block_t *b, uint32_t entry_size, const mb2_mmap_entry_t *e,
		     uint32_t n)
{
	uint32_t t = tag_begin(b, TAG_MMAP);

	add_u32(b, entry_size);
	add_u32(b, 0);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t entry_at = b->off;
		add_u64(b, e[i].base);
		add_u64(b, e[i].len);
		add_u32(b, e[i].type);
		add_u32(b, 0);
		while (b->off < entry_at + entry_size)
			add_bytes(b, "\xee", 1);
	}
	tag_end(b, t);
}

/* Adds the end tag and writes total_size. */
static void block_finish(block_t *b)
{
	uint32_t t = tag_begin(b, TAG_END);

	tag_end(b, t);
	put_u32(b, 0, b->off);
}

static void *parsed_copy;       /* the last block parsed; freed by teardown */

/* Parses a copy of the block holding exactly max(total_size, 8) bytes. */
static int parse(block_t *b, mb2_info_t *out)
{
	uint32_t total;

	memcpy(&total, bytes(b), sizeof total);
	size_t n = total < 8 ? 8 : total;
	assert_true(n <= sizeof b->words);
	free(parsed_copy);
	parsed_copy = malloc(n);
	assert_non_null(parsed_copy);
	memcpy(parsed_copy, bytes(b), n);
	return mb2_parse(parsed_copy, out);
}

static int free_copy(void **state)
{
	(void)state;
	free(parsed_copy);
	parsed_copy = NULL;
	return 0;
}

#define EXPECT_MALFORMED(b)                                                   \
	do {                                                                  \
		mb2_info_t info_;                                             \
		_assert_int_equal(parse(b, &info_), -1, __FILE__, __LINE__);  \
	} while (0)

static const mb2_mmap_entry_t three_entries[] = {
	{ .base = 0, .len = 0x9fc00, .type = MB2_MEM_AVAILABLE },
	{ .base = 0x9fc00, .len = 0x400, .type = MB2_MEM_RESERVED },
	{ .base = 0x100000, .len = 0x7ee0000, .type = MB2_MEM_AVAILABLE },
};

/* Checks that the parsed mmap matches the entries (reserved field aside). */
static void expect_mmap(const mb2_info_t *info, const mb2_mmap_entry_t *e, uint32_t n)
{
	assert_non_null(info->mmap);
	assert_int_equal(info->mmap_count, n);
	for (uint32_t i = 0; i < n; i++) {
		mb2_mmap_entry_t got = mb2_mmap_entry(info, i);
		assert_int_equal(got.base, e[i].base);
		assert_int_equal(got.len, e[i].len);
		assert_int_equal(got.type, e[i].type);
	}
}

/* A normal block: command line, loader, two modules, a 3-entry map. */
static void test_normal_block(void **state)
{
	(void)state;
	block_t b;
	mb2_info_t info;

	block_begin(&b);
	add_string_tag(&b, TAG_CMDLINE, "console=ttyS0 selftest");
	add_string_tag(&b, TAG_LOADER, "GRUB 2.06");
	add_module(&b, 0x200000, 0x280000, "init.elf arg");
	add_module(&b, 0x300000, 0x300000, "");
	add_mmap(&b, 24, three_entries, 3);
	block_finish(&b);

	assert_int_equal(parse(&b, &info), 0);
	assert_int_equal(info.total_size, b.off);
	assert_string_equal(info.cmdline, "console=ttyS0 selftest");
	assert_ptr_equal(info.cmdline, (char *)parsed_copy + 8 + 8);  /* in place */
	assert_string_equal(info.loader, "GRUB 2.06");
	assert_int_equal(info.module_count, 2);
	assert_int_equal(info.modules_dropped, 0);
	assert_int_equal(info.modules[0].start, 0x200000);
	assert_int_equal(info.modules[0].end, 0x280000);
	assert_string_equal(info.modules[0].cmdline, "init.elf arg");
	assert_int_equal(info.modules[1].start, 0x300000);
	assert_int_equal(info.modules[1].end, 0x300000);
	assert_string_equal(info.modules[1].cmdline, "");
	assert_int_equal(info.mmap_entry_size, 24);
	expect_mmap(&info, three_entries, 3);
}

/* Absent tags: cmdline and loader are "", mmap is NULL, no modules. */
static void test_absent_tags(void **state)
{
	(void)state;
	block_t b;
	mb2_info_t info;

	block_begin(&b);
	block_finish(&b);
	assert_int_equal(b.off, 16);
	memset(&info, 0xa5, sizeof info);       /* every field must be set */
	assert_int_equal(parse(&b, &info), 0);
	assert_int_equal(info.total_size, 16);
	assert_non_null(info.cmdline);
	assert_string_equal(info.cmdline, "");
	assert_non_null(info.loader);
	assert_string_equal(info.loader, "");
	assert_null(info.mmap);
	assert_int_equal(info.mmap_count, 0);
	assert_int_equal(info.module_count, 0);
	assert_int_equal(info.modules_dropped, 0);
}

/* Tags of unknown types, of any size, are skipped (with their padding). */
static void test_unknown_tags_skipped(void **state)
{
	(void)state;
	block_t b;
	mb2_info_t info;

	block_begin(&b);
	uint32_t t = tag_begin(&b, 99);
	add_bytes(&b, "\1\2\3\4\5", 5);                 /* size 13: padded to 16 */
	tag_end(&b, t);
	t = tag_begin(&b, TAG_MEMINFO);
	add_u32(&b, 639);
	add_u32(&b, 130048);
	tag_end(&b, t);
	add_string_tag(&b, TAG_LOADER, "loader");
	t = tag_begin(&b, 0x7fffffff);                  /* bare header only */
	tag_end(&b, t);
	add_string_tag(&b, TAG_CMDLINE, "quiet");
	block_finish(&b);

	assert_int_equal(parse(&b, &info), 0);
	assert_string_equal(info.cmdline, "quiet");
	assert_string_equal(info.loader, "loader");
	assert_null(info.mmap);
	assert_int_equal(info.module_count, 0);
}

/* Entries larger than 24 bytes are stepped over by entry_size; a partial
 * trailing entry is not counted. */
static void test_mmap_entry_size(void **state)
{
	(void)state;
	block_t b;
	mb2_info_t info;

	block_begin(&b);
	add_mmap(&b, 32, three_entries, 3);
	block_finish(&b);
	assert_int_equal(parse(&b, &info), 0);
	assert_int_equal(info.mmap_entry_size, 32);
	expect_mmap(&info, three_entries, 3);

	block_begin(&b);
	uint32_t t = tag_begin(&b, TAG_MMAP);
	add_u32(&b, 24);
	add_u32(&b, 0);
	for (int i = 0; i < 2; i++) {
		add_u64(&b, three_entries[i].base);
		add_u64(&b, three_entries[i].len);
		add_u32(&b, three_entries[i].type);
		add_u32(&b, 0);
	}
	add_u64(&b, 0x12345);                           /* 8 stray bytes */
	tag_end(&b, t);
	block_finish(&b);
	assert_int_equal(parse(&b, &info), 0);
	expect_mmap(&info, three_entries, 2);

	block_begin(&b);
	add_mmap(&b, 24, three_entries, 0);             /* an empty map */
	block_finish(&b);
	assert_int_equal(parse(&b, &info), 0);
	assert_non_null(info.mmap);
	assert_int_equal(info.mmap_count, 0);
}

/* total_size below 16 or not a multiple of 8 is malformed. */
static void test_bad_total_size(void **state)
{
	(void)state;
	block_t b;

	block_begin(&b);
	block_finish(&b);
	put_u32(&b, 0, 0);
	EXPECT_MALFORMED(&b);
	put_u32(&b, 0, 8);
	EXPECT_MALFORMED(&b);
	put_u32(&b, 0, 15);
	EXPECT_MALFORMED(&b);

	block_begin(&b);
	add_string_tag(&b, TAG_CMDLINE, "x");
	block_finish(&b);
	put_u32(&b, 0, b.off + 4);
	EXPECT_MALFORMED(&b);
	put_u32(&b, 0, b.off - 4);
	EXPECT_MALFORMED(&b);
}

/* A tag smaller than its own 8-byte header is malformed. */
static void test_tag_size_too_small(void **state)
{
	(void)state;
	block_t b;

	for (uint32_t size = 0; size < 8; size++) {
		block_begin(&b);
		uint32_t t = tag_begin(&b, 99);
		add_u64(&b, 0);
		block_finish(&b);
		put_u32(&b, t + 4, size);
		EXPECT_MALFORMED(&b);
	}
}

/* A tag whose size runs past total_size is malformed. */
static void test_tag_past_total(void **state)
{
	(void)state;
	block_t b;

	block_begin(&b);
	uint32_t t = tag_begin(&b, 99);
	add_u64(&b, 0);
	block_finish(&b);                               /* total 32 */
	put_u32(&b, t + 4, 32);                         /* 8 + 32 > 32 */
	EXPECT_MALFORMED(&b);
	put_u32(&b, t + 4, 25);
	EXPECT_MALFORMED(&b);
	put_u32(&b, t + 4, 0xfffffff8u);
	EXPECT_MALFORMED(&b);

	/* a string tag claiming more bytes than the block holds, with no NUL
	 * before the end: refused without reading past total_size */
	block_begin(&b);
	t = tag_begin(&b, TAG_CMDLINE);
	add_bytes(&b, "abcdefgh", 8);
	block_finish(&b);                               /* total 32 */
	put_u32(&b, t + 4, 100);
	memcpy(bytes(&b) + 24, "xxxxxxxx", 8);          /* over the end tag */
	EXPECT_MALFORMED(&b);

	/* the end tag itself past the end */
	block_begin(&b);
	block_finish(&b);
	put_u32(&b, 12, 16);
	EXPECT_MALFORMED(&b);
}

/* A block without an end tag is malformed. */
static void test_missing_end_tag(void **state)
{
	(void)state;
	block_t b;

	block_begin(&b);
	add_string_tag(&b, TAG_CMDLINE, "no end");
	put_u32(&b, 0, b.off);
	EXPECT_MALFORMED(&b);

	/* an end tag exists, but just past total_size */
	block_begin(&b);
	add_string_tag(&b, TAG_LOADER, "x");
	block_finish(&b);
	put_u32(&b, 0, b.off - 8);
	EXPECT_MALFORMED(&b);
}

/* An end tag must have size 8. */
static void test_end_tag_size(void **state)
{
	(void)state;
	block_t b;
	const uint32_t sizes[] = { 9, 12, 16 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		block_begin(&b);
		uint32_t t = tag_begin(&b, TAG_END);
		add_u64(&b, 0);
		put_u32(&b, 0, b.off);                  /* total 24 */
		put_u32(&b, t + 4, sizes[i]);
		EXPECT_MALFORMED(&b);
	}
}

/* Adds a tag of the given type holding exactly the given bytes after
 * `header` bytes of zeroes (for module start/end). */
static void add_raw_tag(block_t *b, uint32_t type, uint32_t header,
			const char *payload, uint32_t n)
{
	uint32_t t = tag_begin(b, type);

	for (uint32_t i = 0; i < header; i++)
		add_bytes(b, "", 1);
	add_bytes(b, payload, n);
	tag_end(b, t);
}

/* Strings must be NUL-terminated inside their own tag, even if a NUL
 * follows in the padding or the next tag. */
static void test_string_without_nul(void **state)
{
	(void)state;
	block_t b;
	const uint32_t types[] = { TAG_CMDLINE, TAG_LOADER };

	for (size_t i = 0; i < 2; i++) {
		block_begin(&b);
		add_raw_tag(&b, types[i], 0, "abc", 3);         /* padding is 0 */
		block_finish(&b);
		EXPECT_MALFORMED(&b);

		block_begin(&b);
		add_raw_tag(&b, types[i], 0, "", 0);            /* no string at all */
		block_finish(&b);
		EXPECT_MALFORMED(&b);
	}
	block_begin(&b);
	add_raw_tag(&b, TAG_MODULE, 8, "mod", 3);
	block_finish(&b);
	EXPECT_MALFORMED(&b);

	block_begin(&b);
	add_raw_tag(&b, TAG_MODULE, 8, "", 0);                  /* size 16 */
	block_finish(&b);
	EXPECT_MALFORMED(&b);

	block_begin(&b);
	add_raw_tag(&b, TAG_MODULE, 4, "", 0);                  /* too short */
	block_finish(&b);
	EXPECT_MALFORMED(&b);
}

/* A module ending before it starts is malformed. */
static void test_module_end_before_start(void **state)
{
	(void)state;
	block_t b;

	block_begin(&b);
	add_module(&b, 0x1000, 0x2000, "ok");
	add_module(&b, 0x200000, 0x1fffff, "bad");
	block_finish(&b);
	EXPECT_MALFORMED(&b);
}

/* An mmap tag needs its 16-byte header and entry_size >= 24 (a multiple
 * of 8). */
static void test_bad_mmap(void **state)
{
	(void)state;
	block_t b;
	const uint32_t sizes[] = { 0, 8, 16, 20, 23, 28 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		block_begin(&b);
		uint32_t t = tag_begin(&b, TAG_MMAP);
		add_u32(&b, sizes[i]);
		add_u32(&b, 0);
		for (int k = 0; k < 6; k++)
			add_u64(&b, 0);
		tag_end(&b, t);
		block_finish(&b);
		EXPECT_MALFORMED(&b);
	}

	block_begin(&b);
	uint32_t t = tag_begin(&b, TAG_MMAP);
	add_u32(&b, 24);                                /* no entry_version */
	tag_end(&b, t);
	block_finish(&b);
	EXPECT_MALFORMED(&b);
}

/* Past MB2_MAX_MODULES, the first MB2_MAX_MODULES are kept in order and the
 * rest are counted in modules_dropped. */
static void test_too_many_modules(void **state)
{
	(void)state;
	static block_t b;
	mb2_info_t info;
	char name[16];

	block_begin(&b);
	for (uint32_t i = 0; i < MB2_MAX_MODULES + 7; i++) {
		snprintf(name, sizeof name, "m%u", i);
		add_module(&b, i * 0x10000, i * 0x10000 + 0x100, name);
	}
	add_string_tag(&b, TAG_CMDLINE, "after");       /* parsing went on */
	block_finish(&b);

	assert_int_equal(parse(&b, &info), 0);
	assert_int_equal(info.module_count, MB2_MAX_MODULES);
	assert_int_equal(info.modules_dropped, 7);
	for (uint32_t i = 0; i < MB2_MAX_MODULES; i++) {
		snprintf(name, sizeof name, "m%u", i);
		assert_int_equal(info.modules[i].start, i * 0x10000);
		assert_int_equal(info.modules[i].end, i * 0x10000 + 0x100);
		assert_string_equal(info.modules[i].cmdline, name);
	}
	assert_string_equal(info.cmdline, "after");
}

/* Exactly MB2_MAX_MODULES modules drop nothing. */
static void test_max_modules_exactly(void **state)
{
	(void)state;
	static block_t b;
	mb2_info_t info;

	block_begin(&b);
	for (uint32_t i = 0; i < MB2_MAX_MODULES; i++)
		add_module(&b, i, i + 1, "m");
	block_finish(&b);
	assert_int_equal(parse(&b, &info), 0);
	assert_int_equal(info.module_count, MB2_MAX_MODULES);
	assert_int_equal(info.modules_dropped, 0);
	assert_int_equal(info.modules[MB2_MAX_MODULES - 1].start, MB2_MAX_MODULES - 1);
}

/* A module ending before it starts is malformed even past the
 * MB2_MAX_MODULES limit, where the module itself is not kept. */
static void test_dropped_module_still_checked(void **state)
{
	(void)state;
	static block_t b;

	block_begin(&b);
	for (uint32_t i = 0; i < MB2_MAX_MODULES; i++)
		add_module(&b, 0x1000, 0x2000, "ok");
	add_module(&b, 0x200000, 0x1fffff, "bad");
	block_finish(&b);
	EXPECT_MALFORMED(&b);
}

/* Each memory type has its name; anything else is "unknown". */
static void test_mem_type_names(void **state)
{
	(void)state;
	assert_string_equal(mb2_mem_type_name(MB2_MEM_AVAILABLE), "available");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_RESERVED), "reserved");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_ACPI_RECLAIMABLE), "ACPI reclaimable");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_NVS), "ACPI NVS");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_BAD), "bad");
	assert_string_equal(mb2_mem_type_name(0), "unknown");
	assert_string_equal(mb2_mem_type_name(6), "unknown");
	assert_string_equal(mb2_mem_type_name(0xffffffffu), "unknown");
}

int main(void)
{
#define T(fn) cmocka_unit_test_teardown(fn, free_copy)
	const struct CMUnitTest tests[] = {
		T(test_normal_block),
		T(test_absent_tags),
		T(test_unknown_tags_skipped),
		T(test_mmap_entry_size),
		T(test_bad_total_size),
		T(test_tag_size_too_small),
		T(test_tag_past_total),
		T(test_missing_end_tag),
		T(test_end_tag_size),
		T(test_string_without_nul),
		T(test_module_end_before_start),
		T(test_bad_mmap),
		T(test_too_many_modules),
		T(test_max_modules_exactly),
		T(test_mem_type_names),
		T(test_dropped_module_still_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
