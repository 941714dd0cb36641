/*
 * Floating-point and vector state (x87, SSE and, where the CPU has it,
 * AVX) belongs to each silo thread.
 *
 * Policy: eager switching. Every switch away from a silo thread saves its
 * registers into the save area in its thread_t (XSAVE, or FXSAVE where
 * the CPU has no XSAVE); every switch to a silo thread loads its area,
 * unless the registers still hold exactly that thread's state (the last
 * silo thread loaded, with only kernel threads in between: the kernel is
 * built without FPU/SSE code and never touches them). Lazy switching
 * (CR0.TS and a #NM trap) would save the copy for threads that never use
 * the FPU, but costs a trap for those that do, keeps one silo's values in
 * the registers while another silo runs (the kind of window speculative
 * attacks on lazy FPU switching use), and needs #NM handling in the
 * kernel. Eager is simple and its cost is fixed; docs/architecture.md has
 * the figures.
 *
 * A new thread's area holds the default state, so no value crosses a
 * thread or a silo: FCW 0x37f (all exceptions masked, 64-bit precision,
 * round to nearest), MXCSR 0x1f80 (likewise), x87 stack empty, every data
 * register zero.
 */
#include <arch/arch.h>
#include <arch/cpu.h>
#include <arch/fpu.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR0_AM (1ull << 18)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)

#define CPUID1_EDX_FXSR (1u << 24)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX (1u << 28)
#define CPUID_XSAVE_LEAF 0xd

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)

/* Legacy region offsets (the same for FXSAVE and XSAVE), then the XSAVE
 * header: XSTATE_BV at 512; XCOMP_BV and the rest must stay zero for the
 * standard form. */
#define AREA_FCW 0
#define AREA_MXCSR 24
#define AREA_XSTATE_BV 512
#define FXSAVE_SIZE 512


#define FCW_DEFAULT 0x037f
#define MXCSR_DEFAULT 0x1f80

bool fpu_use_xsave;
static uint32_t area_size = FXSAVE_SIZE;
static __attribute__((aligned(FPU_AREA_ALIGN))) uint8_t default_area[ARCH_FPU_STATE_MAX];
int64_t fpu_loaded_id = -1;

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static void xsetbv(uint32_t reg, uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/*
 * Turns on XSAVE with the components that fit the save area: x87 and
 * SSE, plus AVX where the CPU has it. Returns XCR0, or 0 to use FXSAVE.
 */
static uint64_t xsave_enable(uint32_t ecx1)
{
	uint32_t r[4];
	uint64_t want = XCR0_X87 | XCR0_SSE;

	if (!(ecx1 & CPUID1_ECX_XSAVE))
		return 0;
	cpuid(CPUID_XSAVE_LEAF, 0, r);
	if ((ecx1 & CPUID1_ECX_AVX) && (r[0] & XCR0_AVX))
		want |= XCR0_AVX;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	for (;;) {
		xsetbv(0, want);
		cpuid(CPUID_XSAVE_LEAF, 0, r);  /* EBX: size for what XCR0 enables */
		if (r[1] <= ARCH_FPU_STATE_MAX) {
			area_size = r[1];
			return want;
		}
		if (!(want & XCR0_AVX))
			break;
		want &= ~XCR0_AVX;
	}
	xsetbv(0, XCR0_X87 | XCR0_SSE);
	write_cr4(read_cr4() & ~CR4_OSXSAVE);
	return 0;
}

void arch_fpu_init(void)
{
	uint32_t r[4];
	uint64_t xcr0;

	cpuid(1, 0, r);
	if (!(r[3] & CPUID1_EDX_FXSR))
		panic("fpu: the CPU has no FXSAVE");    /* every x86_64 CPU has it */
	/* x87 without emulation, #MF as an exception rather than IRQ 13, no
	 * #NM traps (eager switching); SSE on, with #XM for its exceptions.
	 * CR0.AM stays clear whatever the loader left: a silo's RFLAGS.AC then
	 * has no effect (docs/abi.md). */
	__asm__ volatile("mov %0, %%cr0" : : "r"((read_cr0() | CR0_MP | CR0_NE) &
						 ~(CR0_EM | CR0_TS | CR0_AM)));
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	xcr0 = xsave_enable(r[2]);
	fpu_use_xsave = xcr0 != 0;

	memset(default_area, 0, sizeof default_area);
	*(uint16_t *)(default_area + AREA_FCW) = FCW_DEFAULT;
	*(uint32_t *)(default_area + AREA_MXCSR) = MXCSR_DEFAULT;
	if (fpu_use_xsave)  /* x87 and SSE as written above; AVX in its init state (zero) */
		*(uint64_t *)(default_area + AREA_XSTATE_BV) = XCR0_X87 | XCR0_SSE;
	fpu_area_load(default_area);
	kprintf("fpu: %s, x87 sse%s, %u-byte state per thread, eager switching\n",
		fpu_use_xsave ? "xsave" : "fxsave", xcr0 & XCR0_AVX ? " avx" : "", area_size);
}

void fpu_thread_init(thread_t *t)
{
	t->fpu_state = (void *)(((uintptr_t)t->fpu_area + FPU_AREA_ALIGN - 1) &
				~(uintptr_t)(FPU_AREA_ALIGN - 1));
	memcpy(t->fpu_state, default_area, area_size);
}
