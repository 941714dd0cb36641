/*
 * Host tests of the ELF64 checker (kernel/silo/elf.c). Images are built by
 * hand in an aligned buffer, then copied into a heap block of exactly the
 * file's size before checking, so ASan catches any read past the end.
 */
#include <kernel/elf.h>
#include <abi/errors.h>

#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PAGE 0x1000ull
#define LO 0x400000ull                  /* user_min */
#define HI 0x00007f0000000000ull        /* user_max */
#define FILE_SIZE 0x4000u
#define MAX_PH 16

/* The valid image: text (R+X), rodata (R), data (R+W, with bss). */
#define TEXT_VA (LO + 0x1000)
#define RO_VA (LO + 0x2000)
#define DATA_VA (LO + 0x3000)
#define ENTRY (TEXT_VA + 0x10)

static uint64_t words[FILE_SIZE / 8];   /* 8-byte aligned, like a module */

static uint8_t *image(void)
{
	return (uint8_t *)words;
}

static Elf64_Ehdr *eh(void)
{
	return (Elf64_Ehdr *)words;
}

static Elf64_Phdr *ph(unsigned i)
{
	assert_true(i < MAX_PH);
	return (Elf64_Phdr *)(image() + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static void set_phdr(unsigned i, uint32_t type, uint32_t flags, uint64_t offset,
		     uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	*ph(i) = (Elf64_Phdr){ .p_type = type, .p_flags = flags, .p_offset = offset,
			       .p_vaddr = vaddr, .p_paddr = vaddr, .p_filesz = filesz,
			       .p_memsz = memsz, .p_align = PAGE };
	if (i >= eh()->e_phnum)
		eh()->e_phnum = (uint16_t)(i + 1);
}

static void set_load(unsigned i, uint32_t flags, uint64_t offset, uint64_t vaddr,
		     uint64_t filesz, uint64_t memsz)
{
	set_phdr(i, PT_LOAD, flags, offset, vaddr, filesz, memsz);
}

/* A header with no program headers yet. */
static void build_header(void)
{
	memset(words, 0, sizeof words);
	memcpy(eh()->e_ident, ELFMAG, SELFMAG);
	eh()->e_ident[EI_CLASS] = ELFCLASS64;
	eh()->e_ident[EI_DATA] = ELFDATA2LSB;
	eh()->e_ident[EI_VERSION] = EV_CURRENT;
	eh()->e_type = ET_EXEC;
	eh()->e_machine = EM_X86_64;
	eh()->e_version = EV_CURRENT;
	eh()->e_entry = ENTRY;
	eh()->e_phoff = sizeof(Elf64_Ehdr);
	eh()->e_ehsize = sizeof(Elf64_Ehdr);
	eh()->e_phentsize = sizeof(Elf64_Phdr);
}

static void build_valid(void)
{
	build_header();
	set_load(0, PF_R | PF_X, 0x1000, TEXT_VA, 0x200, 0x200);
	set_load(1, PF_R, 0x2000, RO_VA, 0x100, 0x100);
	set_load(2, PF_R | PF_W, 0x3000, DATA_VA, 0x80, 0x2800);
	memset(image() + 0x1000, 0x90, 0x200);
}

/* elf_check on the first size bytes of the image, copied to a heap block
 * of exactly that size. */
static int check_bytes(const void *bytes, size_t size, elf_image_t *out, const char **why)
{
	void *copy = malloc(size ? size : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, bytes, size);
	rc = elf_check(copy, size, LO, HI, out, why);
	free(copy);
	return rc;
}

static void expect_reject_size(size_t size)
{
	elf_image_t out;
	const char *why = NULL;
	int rc = check_bytes(image(), size, &out, &why);

	assert_int_equal(rc, SL_EINVAL);
	assert_non_null(why);
	assert_true(why[0] != '\0');
}

static void expect_reject(void)
{
	expect_reject_size(FILE_SIZE);
}

static void expect_accept(elf_image_t *out)
{
	const char *why = NULL;
	int rc = check_bytes(image(), FILE_SIZE, out, &why);

	if (rc != 0)
		fail_msg("rejected: %s", why ? why : "(no reason)");
}

static void expect_segment(const elf_segment_t *s, uint64_t vaddr, uint64_t memsz,
			   uint64_t offset, uint64_t filesz, uint32_t flags)
{
	assert_int_equal(s->vaddr, vaddr);
	assert_int_equal(s->memsz, memsz);
	assert_int_equal(s->offset, offset);
	assert_int_equal(s->filesz, filesz);
	assert_int_equal(s->flags, flags);
}

/* ---- accepted images ----------------------------------------------------- */

/* A valid image is accepted with its segments, flags and entry. */
static void test_valid_image(void **state)
{
	(void)state;
	elf_image_t out;

	build_valid();
	expect_accept(&out);
	assert_int_equal(out.entry, ENTRY);
	assert_int_equal(out.count, 3);
	expect_segment(&out.segments[0], TEXT_VA, 0x200, 0x1000, 0x200, ELF_SEG_R | ELF_SEG_X);
	expect_segment(&out.segments[1], RO_VA, 0x100, 0x2000, 0x100, ELF_SEG_R);
	expect_segment(&out.segments[2], DATA_VA, 0x2800, 0x3000, 0x80, ELF_SEG_R | ELF_SEG_W);
}

/* Only the R/W/X bits of p_flags are reported. */
static void test_flags_masked(void **state)
{
	(void)state;
	elf_image_t out;

	build_valid();
	ph(0)->p_flags |= PF_MASKOS | PF_MASKPROC;
	expect_accept(&out);
	assert_int_equal(out.segments[0].flags, ELF_SEG_R | ELF_SEG_X);
}

/* Non-PT_LOAD headers and PT_LOAD with memsz 0 are ignored, however
 * nonsensical their other fields. */
static void test_ignored_headers(void **state)
{
	(void)state;
	elf_image_t out;

	build_valid();
	set_phdr(3, PT_NOTE, PF_R, ~0ull, 0x123, ~0ull, ~0ull);
	set_phdr(4, PT_GNU_STACK, PF_R | PF_W | PF_X, 0, 0, 0, 0);
	set_phdr(5, PT_DYNAMIC, PF_R, FILE_SIZE * 2, 1, 8, 8);
	set_phdr(6, PT_NULL, 0, ~0ull, ~0ull, 0, ~0ull);
	set_load(7, PF_R | PF_X, ~0ull - 4, 0x7, 0, 0);
	set_load(8, PF_R, 0x1000, TEXT_VA, 0, 0);      /* same page as text */
	expect_accept(&out);
	assert_int_equal(out.count, 3);
	expect_segment(&out.segments[2], DATA_VA, 0x2800, 0x3000, 0x80, ELF_SEG_R | ELF_SEG_W);
}

/* The boundaries are inclusive where they should be: a segment at
 * user_min, one ending exactly at user_max, data ending exactly at the
 * end of the file, program headers ending exactly at the end of the file,
 * adjacent pages, entry at the first and the last byte of text. */
static void test_boundaries_accepted(void **state)
{
	(void)state;
	elf_image_t out;

	build_valid();
	set_load(0, PF_R | PF_X, 0x1000, LO, 0x200, 0x2000);   /* [LO, RO_VA) */
	eh()->e_entry = LO;
	set_load(2, PF_R | PF_W, FILE_SIZE - 0x80, HI - 0x3000, 0x80, 0x3000);
	expect_accept(&out);
	assert_int_equal(out.segments[2].vaddr + out.segments[2].memsz, HI);

	eh()->e_entry = LO + 0x1fff;
	expect_accept(&out);

	build_valid();                  /* headers end exactly at end of file */
	eh()->e_phoff = FILE_SIZE - 3 * sizeof(Elf64_Phdr);
	memcpy(image() + eh()->e_phoff, ph(0), 3 * sizeof(Elf64_Phdr));
	memset(ph(0), 0, 3 * sizeof(Elf64_Phdr));
	expect_accept(&out);
	assert_int_equal(out.count, 3);
	expect_segment(&out.segments[2], DATA_VA, 0x2800, 0x3000, 0x80, ELF_SEG_R | ELF_SEG_W);
}

/* Exactly ELF_MAX_SEGMENTS loadable segments are accepted. */
static void build_many(unsigned loads)
{
	build_header();
	for (unsigned k = 0; k < loads; k++)
		set_load(k, k ? PF_R : PF_R | PF_X, 0x1000, LO + k * PAGE, 0x10, 0x10);
	eh()->e_entry = LO;
}

static void test_max_segments_accepted(void **state)
{
	(void)state;
	elf_image_t out;

	build_many(ELF_MAX_SEGMENTS);
	set_phdr(ELF_MAX_SEGMENTS, PT_NOTE, PF_R, 0, 0, 0, 0);
	expect_accept(&out);
	assert_int_equal(out.count, ELF_MAX_SEGMENTS);
}

/* ---- rejected images ----------------------------------------------------- */

/* A file shorter than an ELF header is rejected without being read. */
static void test_reject_short_file(void **state)
{
	(void)state;
	build_valid();
	expect_reject_size(0);
	expect_reject_size(1);
	expect_reject_size(SELFMAG);
	expect_reject_size(sizeof(Elf64_Ehdr) - 1);
}

/* Each of the four magic bytes matters. */
static void test_reject_bad_magic(void **state)
{
	(void)state;
	for (int i = 0; i < SELFMAG; i++) {
		build_valid();
		image()[i] ^= 0x20;
		expect_reject();
	}
}

/* Only ELFCLASS64 is accepted. */
static void test_reject_class(void **state)
{
	(void)state;
	const uint8_t bad[] = { ELFCLASSNONE, ELFCLASS32, 3, 0xff };

	for (size_t i = 0; i < sizeof bad; i++) {
		build_valid();
		eh()->e_ident[EI_CLASS] = bad[i];
		expect_reject();
	}
}

/* Only little-endian is accepted. */
static void test_reject_big_endian(void **state)
{
	(void)state;
	build_valid();
	eh()->e_ident[EI_DATA] = ELFDATA2MSB;
	expect_reject();
	eh()->e_ident[EI_DATA] = ELFDATANONE;
	expect_reject();
}

/* Only ET_EXEC is accepted. */
static void test_reject_type(void **state)
{
	(void)state;
	const uint16_t bad[] = { ET_DYN, ET_REL, ET_CORE, ET_NONE };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		build_valid();
		eh()->e_type = bad[i];
		expect_reject();
	}
}

/* Only EM_X86_64 is accepted. */
static void test_reject_machine(void **state)
{
	(void)state;
	const uint16_t bad[] = { EM_386, EM_AARCH64, EM_NONE, EM_X86_64 << 8 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		build_valid();
		eh()->e_machine = bad[i];
		expect_reject();
	}
}

/* e_phentsize must be sizeof(Elf64_Phdr). */
static void test_reject_phentsize(void **state)
{
	(void)state;
	const uint16_t bad[] = { 0, sizeof(Elf32_Phdr), sizeof(Elf64_Phdr) - 1,
				 sizeof(Elf64_Phdr) + 8, 0xffff };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		build_valid();
		eh()->e_phentsize = bad[i];
		expect_reject();
	}
}

/* e_phnum 0 is rejected. */
static void test_reject_phnum_zero(void **state)
{
	(void)state;
	build_valid();
	eh()->e_phnum = 0;
	expect_reject();
}

/* Program headers that run past the end of the file are rejected,
 * including offsets whose sum with the table size overflows. */
static void test_reject_phdrs_past_end(void **state)
{
	(void)state;
	const uint64_t bad_off[] = {
		FILE_SIZE - 3 * sizeof(Elf64_Phdr) + 1, FILE_SIZE, FILE_SIZE + 1,
		SIZE_MAX, SIZE_MAX - 8, SIZE_MAX - 3 * sizeof(Elf64_Phdr) + 1,
		(uint64_t)1 << 63,
	};

	for (size_t i = 0; i < sizeof bad_off / sizeof bad_off[0]; i++) {
		build_valid();
		eh()->e_phoff = bad_off[i];
		expect_reject();
	}
	build_valid();
	eh()->e_phnum = 0xffff;
	expect_reject();
	build_valid();                  /* file cut inside the third header */
	expect_reject_size(sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr) - 1);
}

/* A segment whose offset + filesz runs past the file is rejected,
 * including when the sum overflows. */
static void test_reject_segment_past_file(void **state)
{
	(void)state;
	const struct { uint64_t offset, filesz, memsz; } bad[] = {
		{ FILE_SIZE - 0x80 + 1, 0x80, 0x2800 },
		{ FILE_SIZE, 0x80, 0x2800 },
		{ FILE_SIZE + 1, 0, 0x2800 },
		{ ~0ull - 0x40, 0x80, 0x2800 },         /* wraps to 0x3f */
		{ ~0ull, 1, 0x2800 },
		{ 0x3000, ~0ull - 0x2fff, ~0ull - 0x2fff }, /* wraps to 0 */
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		build_valid();
		set_load(2, PF_R | PF_W, bad[i].offset, DATA_VA, bad[i].filesz, bad[i].memsz);
		expect_reject();
	}
}

/* filesz > memsz is rejected. */
static void test_reject_filesz_over_memsz(void **state)
{
	(void)state;
	build_valid();
	set_load(1, PF_R, 0x2000, RO_VA, 0x101, 0x100);
	expect_reject();
}

/* A vaddr that is not page-aligned is rejected. */
static void test_reject_unaligned_vaddr(void **state)
{
	(void)state;
	const uint64_t bad[] = { RO_VA + 1, RO_VA + 0x10, RO_VA + PAGE / 2, RO_VA + PAGE - 1 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		build_valid();
		ph(1)->p_vaddr = bad[i];
		expect_reject();
	}
}

/* A vaddr below user_min is rejected. */
static void test_reject_below_user_min(void **state)
{
	(void)state;
	build_valid();
	ph(0)->p_vaddr = LO - PAGE;
	eh()->e_entry = LO - PAGE + 0x10;
	expect_reject();
	build_valid();
	ph(1)->p_vaddr = 0;
	expect_reject();
}

/* vaddr + memsz above user_max is rejected, including when it wraps
 * around 2^64. */
static void test_reject_above_user_max(void **state)
{
	(void)state;
	const struct { uint64_t vaddr, memsz; } bad[] = {
		{ HI - 0x2000, 0x2800 },                /* ends past HI */
		{ HI, 0x80 },                           /* starts at HI */
		{ HI + PAGE, 0x80 },
		{ 0xfffffffffffff000ull, 0x2000 },      /* wraps */
		{ HI - PAGE, ~0ull },                   /* wraps */
		{ DATA_VA, ~0ull - DATA_VA + 2 },       /* wraps to 1 */
		{ DATA_VA, HI },                        /* memsz > range */
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		build_valid();
		set_load(2, PF_R | PF_W, 0x3000, bad[i].vaddr, 0x80, bad[i].memsz);
		expect_reject();
	}
}

/* Two segments that share a page are rejected, whichever comes first. */
static void test_reject_shared_page(void **state)
{
	(void)state;
	build_valid();
	ph(0)->p_memsz = 0x1001;                /* text's tail in rodata's page */
	expect_reject();

	build_valid();
	ph(2)->p_vaddr = TEXT_VA;               /* same page */
	expect_reject();

	build_valid();                          /* later header, lower address */
	set_load(2, PF_R | PF_W, 0x3000, LO, 0x80, 0x1001);
	expect_reject();

	build_valid();                          /* one segment inside another */
	ph(2)->p_vaddr = LO;
	ph(2)->p_memsz = 0x10000;
	expect_reject();
}

/* More than ELF_MAX_SEGMENTS loadable segments are rejected. */
static void test_reject_too_many_segments(void **state)
{
	(void)state;
	build_many(ELF_MAX_SEGMENTS + 1);
	expect_reject();
	build_many(MAX_PH);
	expect_reject();
}

/* An image with no PT_LOAD (or only empty ones) is rejected. */
static void test_reject_no_load(void **state)
{
	(void)state;
	build_valid();
	for (unsigned i = 0; i < 3; i++)
		ph(i)->p_type = PT_NOTE;
	expect_reject();
	build_valid();
	for (unsigned i = 0; i < 3; i++)
		ph(i)->p_memsz = ph(i)->p_filesz = 0;
	expect_reject();
}

/* An entry point outside every segment is rejected. */
static void test_reject_entry_outside(void **state)
{
	(void)state;
	const uint64_t bad[] = { 0, TEXT_VA - 1, TEXT_VA + 0x200, TEXT_VA + 0xfff,
				 DATA_VA + 0x2800, HI, ~0ull };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		build_valid();
		eh()->e_entry = bad[i];
		expect_reject();
	}
}

/* An entry point inside a segment that is not executable is rejected. */
static void test_reject_entry_not_executable(void **state)
{
	(void)state;
	const uint64_t bad[] = { RO_VA, RO_VA + 0xff, DATA_VA, DATA_VA + 0x2000 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		build_valid();
		eh()->e_entry = bad[i];
		expect_reject();
	}
	build_valid();
	ph(0)->p_flags = PF_R | PF_W;           /* text not executable */
	expect_reject();
}

/* ---- fuzz ---------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)((rnd64() >> 11) % n);
}

/* What an accepted image must satisfy, whatever the input was. */
static void expect_sane(const elf_image_t *out, size_t size)
{
	bool entry_ok = false;

	assert_true(out->count >= 1 && out->count <= ELF_MAX_SEGMENTS);
	for (unsigned i = 0; i < out->count; i++) {
		const elf_segment_t *s = &out->segments[i];

		assert_int_equal(s->vaddr % PAGE, 0);
		assert_true(s->vaddr >= LO && s->vaddr < HI);
		assert_true(s->memsz > 0 && s->memsz <= HI - s->vaddr);
		assert_true(s->filesz <= s->memsz);
		assert_true(s->offset <= size && s->filesz <= size - s->offset);
		assert_int_equal(s->flags & ~7u, 0);
		if ((s->flags & ELF_SEG_X) && out->entry >= s->vaddr &&
		    out->entry - s->vaddr < s->memsz)
			entry_ok = true;
		for (unsigned j = 0; j < i; j++) {
			const elf_segment_t *t = &out->segments[j];
			uint64_t s_end = (s->vaddr + s->memsz + PAGE - 1) / PAGE * PAGE;
			uint64_t t_end = (t->vaddr + t->memsz + PAGE - 1) / PAGE * PAGE;

			assert_true(s_end <= t->vaddr || t_end <= s->vaddr);
		}
	}
	assert_true(entry_ok);
}

/* Corrupting random bytes of the header and program headers never makes
 * elf_check crash or read out of bounds, and whatever it accepts is sane. */
static void test_fuzz_headers(void **state)
{
	(void)state;
	static const uint64_t interesting[] = {
		0, 1, PAGE, PAGE - 1, FILE_SIZE, FILE_SIZE - 1, LO, LO - PAGE, HI, HI - PAGE,
		ENTRY, RO_VA, DATA_VA, 0x7fffffffffffffffull, ~0ull, ~0ull - PAGE + 1,
	};
	uint8_t base[FILE_SIZE];
	const size_t span = sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr);
	int accepted = 0, rejected = 0;

	build_valid();
	set_phdr(3, PT_NOTE, PF_R, 0x1000, TEXT_VA, 0x10, 0x10);
	memcpy(base, image(), FILE_SIZE);
	rng_state = 0xe1fe1fe1f5eedull;

	for (int iter = 0; iter < 5000; iter++) {
		size_t size = FILE_SIZE;
		elf_image_t out;
		const char *why = NULL;
		int rc, edits = 1 + (int)rnd(4);

		memcpy(image(), base, FILE_SIZE);
		for (int e = 0; e < edits; e++) {
			size_t at = rnd((uint32_t)span);

			switch (rnd(4)) {
			case 0:         /* flip one bit */
				image()[at] ^= (uint8_t)(1u << rnd(8));
				break;
			case 1:         /* random byte */
				image()[at] = (uint8_t)rnd(256);
				break;
			case 2:         /* interesting 64-bit value, 8-aligned */
				at &= ~(size_t)7;
				memcpy(image() + at, &interesting[rnd(sizeof interesting / 8)], 8);
				break;
			default:        /* small 16-bit value */
				at &= ~(size_t)1;
				image()[at] = (uint8_t)rnd(12);
				image()[at + 1] = 0;
				break;
			}
		}
		if (rnd(8) == 0)
			size = rnd(FILE_SIZE + 1);
		rc = check_bytes(image(), size, &out, &why);
		if (rc == 0) {
			accepted++;
			expect_sane(&out, size);
		} else {
			rejected++;
			assert_int_equal(rc, SL_EINVAL);
			assert_non_null(why);
			assert_true(why[0] != '\0');
		}
	}
	assert_true(accepted > 200);
	assert_true(rejected > 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_image),
		cmocka_unit_test(test_flags_masked),
		cmocka_unit_test(test_ignored_headers),
		cmocka_unit_test(test_boundaries_accepted),
		cmocka_unit_test(test_max_segments_accepted),
		cmocka_unit_test(test_reject_short_file),
		cmocka_unit_test(test_reject_bad_magic),
		cmocka_unit_test(test_reject_class),
		cmocka_unit_test(test_reject_big_endian),
		cmocka_unit_test(test_reject_type),
		cmocka_unit_test(test_reject_machine),
		cmocka_unit_test(test_reject_phentsize),
		cmocka_unit_test(test_reject_phnum_zero),
		cmocka_unit_test(test_reject_phdrs_past_end),
		cmocka_unit_test(test_reject_segment_past_file),
		cmocka_unit_test(test_reject_filesz_over_memsz),
		cmocka_unit_test(test_reject_unaligned_vaddr),
		cmocka_unit_test(test_reject_below_user_min),
		cmocka_unit_test(test_reject_above_user_max),
		cmocka_unit_test(test_reject_shared_page),
		cmocka_unit_test(test_reject_too_many_segments),
		cmocka_unit_test(test_reject_no_load),
		cmocka_unit_test(test_reject_entry_outside),
		cmocka_unit_test(test_reject_entry_not_executable),
		cmocka_unit_test(test_fuzz_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
