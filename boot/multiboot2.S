/*
 * Multiboot2 header. GRUB finds it in the first 32 KiB of the image and
 * loads the ELF segments at their physical (load) addresses; the entry
 * point is the 32-bit _start in entry.S, which is linked at its physical
 * address so no tag has to override it.
 */
#define MB2_MAGIC        0xe85250d6
#define MB2_ARCH_I386    0

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* Ask for the tags the kernel reads; GRUB refuses to boot without them. */
	.balign 8
mb2_info_request:
	.short 1                /* information request */
	.short 0                /* required */
	.long mb2_info_request_end - mb2_info_request
	.long 1                 /* command line */
	.long 3                 /* modules */
	.long 6                 /* memory map */
mb2_info_request_end:

	.balign 8
	.short 0                /* end tag */
	.short 0
	.long 8
mb2_header_end:
