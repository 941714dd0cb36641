/*
 * 32-bit entry from GRUB to the 64-bit higher-half kernel.
 *
 * GRUB leaves us in protected mode with paging off, EAX = multiboot2 magic
 * and EBX = physical address of the boot information. We build just enough
 * page tables to reach kmain:
 *   - identity map of the first 1 GiB (we are executing there),
 *   - the kernel window: 0xffffffff80000000 -> physical 0, 1 GiB,
 *   - the direct map:    0xffff800000000000 -> physical 0, 4 GiB,
 * all with 2 MiB pages. kmain replaces these tables with its own and drops
 * the identity map. Everything here lives in the low .boot sections, whose
 * link address equals their load address.
 */
#define KERNEL_VMA   0xffffffff80000000
#define CR0_PG       (1 << 31)
#define CR0_WP       (1 << 16)
#define CR4_PAE      (1 << 5)
#define EFER_MSR     0xc0000080
#define EFER_LME     (1 << 8)
#define EFER_NXE     (1 << 11)
#define PTE_P        0x1
#define PTE_W        0x2
#define PTE_PS       0x80
#define DEBUG_EXIT_PORT 0xf4
#define BOOT_STACK_SIZE 16384

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov $boot_stack_top, %esp
	mov %eax, %edi          /* kept for kmain(magic, info) */
	mov %ebx, %esi

	call check_long_mode

	/* Zero the boot page tables: GRUB does not promise a clean .boot.bss. */
	push %edi
	mov $boot_tables_start, %edi
	mov $((boot_tables_end - boot_tables_start) / 4), %ecx
	xor %eax, %eax
	rep stosl
	pop %edi

	/* PML4[0] and PML4[511] -> boot_pdpt_low / boot_pdpt_high; PML4[256] -> direct map. */
	mov $boot_pdpt_low, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pml4
	mov $boot_pdpt_high, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pml4 + 511 * 8
	mov $boot_pdpt_direct, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pml4 + 256 * 8

	/* 4 page directories of 2 MiB pages covering physical 0..4 GiB. */
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax                           /* low 32 bits of ecx * 2 MiB */
	or $(PTE_P | PTE_W | PTE_PS), %eax
	mov %eax, boot_pd(, %ecx, 8)
	mov %ecx, %eax
	shr $11, %eax                           /* high bits of ecx * 2 MiB */
	mov %eax, boot_pd + 4(, %ecx, 8)
	inc %ecx
	cmp $(4 * 512), %ecx
	jne 1b

	/* Direct map: all four PDs. Low identity and kernel window: the first. */
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $12, %eax
	add $boot_pd, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pdpt_direct(, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jne 2b
	mov $boot_pd, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pdpt_low
	mov %eax, boot_pdpt_high + 510 * 8

	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $EFER_MSR, %ecx
	rdmsr
	or $(EFER_LME | EFER_NXE), %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP), %eax
	mov %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode_low

/* Fail with a distinct debug-exit code when the CPU cannot run 64-bit code. */
check_long_mode:
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	test $(1 << 29), %edx
	jz no_long_mode
	ret
no_long_mode:
	mov $0x13, %al
	out %al, $DEBUG_EXIT_PORT
3:	hlt
	jmp 3b

	.code64
long_mode_low:
	xor %eax, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	movabs $higher_half, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 64-bit code, ring 0 */
	.quad 0x00cf92000000ffff        /* data, ring 0 */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .boot.bss, "aw", @nobits
	.balign 4096
boot_tables_start:
boot_pml4:        .skip 4096
boot_pdpt_low:    .skip 4096
boot_pdpt_high:   .skip 4096
boot_pdpt_direct: .skip 4096
boot_pd:          .skip 4 * 4096
boot_tables_end:
	.skip BOOT_STACK_SIZE
boot_stack_top:

/* From here on we run at the kernel's link address. */
	.text
	.code64
higher_half:
	movabs $kernel_stack_top, %rsp
	xor %ebp, %ebp                  /* ends frame-pointer backtraces */
	/* edi = magic, esi = info (physical); zero-extend for kmain. */
	mov %edi, %edi
	mov %esi, %esi
	call kmain
4:	cli
	hlt
	jmp 4b

	/* The page below the boot stack stays unmapped (see paging.c), so an
	 * overflow faults into the double-fault handler instead of silently
	 * overwriting the bss. */
	.bss
	.balign 4096
	.globl kernel_stack_guard, kernel_stack_bottom, kernel_stack_top
kernel_stack_guard:
	.skip 4096
kernel_stack_bottom:
	.skip 16384
kernel_stack_top:
