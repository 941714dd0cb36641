/*
 * ELF64 checking. See <kernel/elf.h>.
 */
#include <abi/errors.h>
#include <kernel/elf.h>

#define PAGE 4096ull
#define PT_LOAD 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62

typedef struct {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} ehdr_t;

typedef struct {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
} phdr_t;

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return SL_EINVAL;
}

static int check_header(const ehdr_t *h, size_t size, const char **why)
{
	if (h->ident[0] != 0x7f || h->ident[1] != 'E' || h->ident[2] != 'L' || h->ident[3] != 'F')
		return fail(why, "not an ELF file");
	if (h->ident[4] != 2 || h->ident[5] != 1)
		return fail(why, "not 64-bit little-endian");
	if (h->machine != EM_X86_64)
		return fail(why, "not an x86_64 program");
	if (h->type == ET_DYN)
		return fail(why, "a position-independent executable (link it -static -no-pie at a fixed address)");
	if (h->type != ET_EXEC)
		return fail(why, "not an executable (an object file or core dump?)");
	if (h->phentsize != sizeof(phdr_t) || h->phnum == 0)
		return fail(why, "bad program header size or count");
	if (h->phoff > size || (size - h->phoff) / sizeof(phdr_t) < h->phnum)
		return fail(why, "program headers outside the file");
	return SL_OK;
}

static int check_segment(const phdr_t *p, size_t size, uint64_t lo, uint64_t hi,
			 const char **why)
{
	if (p->filesz > p->memsz)
		return fail(why, "segment file size exceeds its memory size");
	if (p->offset > size || size - p->offset < p->filesz)
		return fail(why, "segment data outside the file");
	if (p->vaddr % PAGE || p->vaddr < lo || p->memsz > hi - lo || p->vaddr > hi - p->memsz)
		return fail(why, "segment not page-aligned or outside the user range");
	return SL_OK;
}

static int check_no_overlap(const elf_image_t *img, const char **why)
{
	for (unsigned i = 0; i < img->count; i++) {
		for (unsigned j = i + 1; j < img->count; j++) {
			const elf_segment_t *a = &img->segments[i], *b = &img->segments[j];
			/* In page numbers, last page included: nothing can wrap, as
			 * check_segment keeps vaddr + memsz within the user range. */
			uint64_t a_last = (a->vaddr + a->memsz - 1) / PAGE;
			uint64_t b_last = (b->vaddr + b->memsz - 1) / PAGE;

			if (a->vaddr / PAGE <= b_last && b->vaddr / PAGE <= a_last)
				return fail(why, "segments share a page");
		}
	}
	return SL_OK;
}

static int check_entry(const elf_image_t *img, const char **why)
{
	for (unsigned i = 0; i < img->count; i++) {
		const elf_segment_t *s = &img->segments[i];

		if ((s->flags & ELF_SEG_X) && img->entry >= s->vaddr &&
		    img->entry - s->vaddr < s->memsz)
			return SL_OK;
	}
	return fail(why, "entry point not in an executable segment");
}

int elf_check(const void *file, size_t size, uint64_t lo, uint64_t hi,
	      elf_image_t *out, const char **why)
{
	const ehdr_t *h = file;
	int err;

	*out = (elf_image_t){ 0 };
	if (size < sizeof(ehdr_t))
		return fail(why, "file shorter than an ELF header");
	if ((err = check_header(h, size, why)) < 0)
		return err;
	for (unsigned i = 0; i < h->phnum; i++) {
		phdr_t p;

		__builtin_memcpy(&p, (const uint8_t *)file + h->phoff + i * sizeof(phdr_t), sizeof p);
		if (p.type != PT_LOAD || p.memsz == 0)
			continue;
		if ((err = check_segment(&p, size, lo, hi, why)) < 0)
			return err;
		if (out->count == ELF_MAX_SEGMENTS)
			return fail(why, "too many loadable segments");
		out->segments[out->count++] = (elf_segment_t){
			p.vaddr, p.memsz, p.offset, p.filesz, p.flags & 7 };
	}
	if (out->count == 0)
		return fail(why, "no loadable segment");
	out->entry = h->entry;
	if ((err = check_no_overlap(out, why)) < 0)
		return err;
	return check_entry(out, why);
}
