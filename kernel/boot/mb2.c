/*
 * Multiboot2 information parser. The block is a u32 total size, a u32
 * reserved word, then 8-byte-aligned tags {u32 type, u32 size, ...} ending
 * with a type-0 tag.
 */
#include <kernel/mb2.h>

enum {
	TAG_END = 0,
	TAG_CMDLINE = 1,
	TAG_LOADER = 2,
	TAG_MODULE = 3,
	TAG_MMAP = 6,
};

typedef struct {
	uint32_t type;
	uint32_t size;
} tag_t;

static uint32_t read_u32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof v);
	return v;
}

/* A string tag must be NUL-terminated inside its own bytes. */
static const char *tag_string(const uint8_t *tag, uint32_t size, uint32_t offset)
{
	if (size <= offset)
		return NULL;
	for (uint32_t i = offset; i < size; i++)
		if (tag[i] == '\0')
			return (const char *)tag + offset;
	return NULL;
}

static int parse_mmap(const uint8_t *tag, uint32_t size, mb2_info_t *out)
{
	if (size < 16)
		return -1;
	uint32_t esize = read_u32(tag + 8);
	if (esize < sizeof(mb2_mmap_entry_t) || esize % 8)
		return -1;
	out->mmap = tag + 16;
	out->mmap_entry_size = esize;
	out->mmap_count = (size - 16) / esize;
	return 0;
}

static int parse_module(const uint8_t *tag, uint32_t size, mb2_info_t *out)
{
	const char *cmd = tag_string(tag, size, 16);

	if (!cmd)
		return -1;
	uint32_t start = read_u32(tag + 8), end = read_u32(tag + 12);

	if (end < start)
		return -1;
	if (out->module_count == MB2_MAX_MODULES) {
		out->modules_dropped++;
		return 0;
	}
	out->modules[out->module_count++] = (mb2_module_t){ start, end, cmd };
	return 0;
}

static int parse_tag(const uint8_t *tag, uint32_t type, uint32_t size, mb2_info_t *out)
{
	switch (type) {
	case TAG_CMDLINE:
		out->cmdline = tag_string(tag, size, 8);
		return out->cmdline ? 0 : -1;
	case TAG_LOADER:
		out->loader = tag_string(tag, size, 8);
		return out->loader ? 0 : -1;
	case TAG_MODULE:
		return parse_module(tag, size, out);
	case TAG_MMAP:
		return parse_mmap(tag, size, out);
	default:
		return 0;       /* tags we do not use */
	}
}

int mb2_parse(const void *info, mb2_info_t *out)
{
	const uint8_t *base = info;
	uint32_t total = read_u32(base);

	*out = (mb2_info_t){ .total_size = total, .cmdline = "", .loader = "" };
	if (total < 16 || total % 8)
		return -1;
	for (uint32_t off = 8; off + 8 <= total;) {
		const uint8_t *tag = base + off;
		uint32_t type = read_u32(tag), size = read_u32(tag + 4);

		if (size < 8 || size > total - off)
			return -1;
		if (type == TAG_END)
			return size == 8 ? 0 : -1;
		if (parse_tag(tag, type, size, out) < 0)
			return -1;
		off += (size + 7) & ~7u;
	}
	return -1;              /* ran out of bytes before the end tag */
}

mb2_mmap_entry_t mb2_mmap_entry(const mb2_info_t *mb, uint32_t i)
{
	mb2_mmap_entry_t e;

	__builtin_memcpy(&e, mb->mmap + (size_t)i * mb->mmap_entry_size, sizeof e);
	return e;
}

const char *mb2_mem_type_name(uint32_t type)
{
	switch (type) {
	case MB2_MEM_AVAILABLE: return "available";
	case MB2_MEM_RESERVED: return "reserved";
	case MB2_MEM_ACPI_RECLAIMABLE: return "ACPI reclaimable";
	case MB2_MEM_NVS: return "ACPI NVS";
	case MB2_MEM_BAD: return "bad";
	default: return "unknown";
	}
}
