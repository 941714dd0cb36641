/*
 * Message buffers (see <abi/ipc.h>): the part of a message that lives in
 * the sender's memory and is copied into the receiver's. The sender's
 * buffer is checked while decoding, in the sender's own address space;
 * the copy happens when the partner is found, between two address spaces
 * that need not be the current one, so it goes page by page through the
 * page tables and the kernel's direct map. Everything runs under ipc_lock
 * with interrupts off: no page table changes under it.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <kernel/frames.h>
#include <kernel/vm.h>
#include "ipc_internal.h"

/* The kernel address of user va in space, if its page is mapped for the
 * user with all of `rights`; NULL otherwise. */
static void *user_page(vm_space_t space, uint64_t va, unsigned rights)
{
	uint64_t pa;
	unsigned r;

	if (va >= USER_TOP || !vm_translate(space, va, &pa, &r) ||
	    (r & (rights | VM_USER)) != (rights | VM_USER))
		return NULL;
	return phys_to_virt(pa);
}

/* Whether [va, va + bytes) is user memory of space with `rights`. */
static bool user_range(vm_space_t space, uint64_t va, uint64_t bytes, unsigned rights)
{
	if (va + bytes < va || va + bytes > USER_TOP)
		return false;
	for (uint64_t p = va & ~(uint64_t)(FRAME_SIZE - 1); p < va + bytes; p += FRAME_SIZE)
		if (!user_page(space, p, rights))
			return false;
	return true;
}

int msgbuf_check_sender(const thread_t *sender, const trap_frame_t *f)
{
	vm_space_t space;
	uint64_t *count;

	if (!(f->rsi & SL_TAG_BUFFER))
		return SL_OK;
	space = silo_space(sender->silo);
	if (f->rbp & 7 || !(count = user_page(space, f->rbp, 0)))
		return SL_EFAULT;
	if (*count > SL_MSG_BUFFER_WORDS)
		return SL_EINVAL;
	return user_range(space, f->rbp, 8 * (*count + 1), 0) ? SL_OK : SL_EFAULT;
}

/* Copies n bytes (a multiple of 8, both ends 8-aligned) a word at a time,
 * eight to a turn: messages are whole words (eight each), and this is its
 * hot loop. */
static void copy_words(uint64_t *d, const uint64_t *s, uint64_t n)
{
	for (n /= 8; n >= 8; n -= 8, d += 8, s += 8) {
		uint64_t a = s[0], b = s[1], c = s[2], e = s[3], g = s[4], h = s[5], i = s[6],
			 j = s[7];

		d[0] = a;
		d[1] = b;
		d[2] = c;
		d[3] = e;
		d[4] = g;
		d[5] = h;
		d[6] = i;
		d[7] = j;
	}
	while (n--)
		*d++ = *s++;
}

/* Pages a buffer (its count and SL_MSG_BUFFER_WORDS words, 8-aligned) spans at most. */
#define MSGBUF_PAGES ((8 * (SL_MSG_BUFFER_WORDS + 1) + FRAME_SIZE - 8) / FRAME_SIZE + 1)

/* The kernel address of every page of [va, va + bytes) in space, mapped
 * for the user with `rights`, into pages[] from index `from` on (the
 * earlier ones the caller has); false if one is not. bytes is at most a
 * buffer's. Each page is walked once, for the check and the copy. */
static bool user_pages(vm_space_t space, uint64_t va, uint64_t bytes, unsigned rights,
		       uint8_t *pages[MSGBUF_PAGES], unsigned from)
{
	unsigned k = 0;

	if (va + bytes < va || va + bytes > USER_TOP)
		return false;
	for (uint64_t p = va & ~(uint64_t)(FRAME_SIZE - 1); p < va + bytes; p += FRAME_SIZE, k++)
		if (k >= from && !(pages[k] = user_page(space, p, rights)))
			return false;
	return true;
}

/* Copies bytes between two user ranges whose pages user_pages found. */
static void copy_pages(uint8_t *const to[], uint64_t dst, uint8_t *const from[], uint64_t src,
		       uint64_t bytes)
{
	uint64_t so = src & (FRAME_SIZE - 1), dof = dst & (FRAME_SIZE - 1);
	unsigned si = 0, di = 0;

	while (bytes) {
		uint64_t n = bytes;

		if (n > FRAME_SIZE - so)
			n = FRAME_SIZE - so;
		if (n > FRAME_SIZE - dof)
			n = FRAME_SIZE - dof;
		copy_words((uint64_t *)(to[di] + dof), (const uint64_t *)(from[si] + so), n);
		bytes -= n;
		if ((so += n) == FRAME_SIZE) {
			so = 0;
			si++;
		}
		if ((dof += n) == FRAME_SIZE) {
			dof = 0;
			di++;
		}
	}
}

uint64_t msgbuf_deliver(const thread_t *sender, const trap_frame_t *src, const thread_t *dst,
			uint64_t spec)
{
	uint8_t *from_pages[MSGBUF_PAGES], *to_pages[MSGBUF_PAGES];
	vm_space_t from, to;
	uint64_t at = dst->uframe->rbp, *count, bytes;

	if (!(src->rsi & SL_TAG_BUFFER) || at & 7)
		return 0;
	from = silo_space(sender->silo);
	to = silo_space(dst->silo);
	/* The sender's buffer was checked when it sent; it may have been
	 * unmapped since (it waited in a queue): then nothing arrives. */
	if (!(from_pages[0] = user_page(from, src->rbp & ~(uint64_t)(FRAME_SIZE - 1), 0)))
		return 0;
	count = (uint64_t *)(from_pages[0] + (src->rbp & (FRAME_SIZE - 1)));
	if (*count > SL_MSG_BUFFER_WORDS || *count + 1 > SL_SPEC_BUFFER(spec))
		return 0;
	bytes = 8 * (*count + 1);
	if (!user_pages(from, src->rbp, bytes, 0, from_pages, 1) ||
	    !user_pages(to, at, bytes, VM_WRITE, to_pages, 0))
		return 0;
	copy_pages(to_pages, at, from_pages, src->rbp, bytes);
	return SL_TAG_BUFFER;
}

int msgbuf_check_answer(const thread_t *sender, const trap_frame_t *f, const thread_t *caller)
{
	const uint64_t *count;

	if (!(f->rsi & SL_TAG_BUFFER) || !caller)
		return SL_OK;
	count = user_page(silo_space(sender->silo), f->rbp, 0); /* checked by msgbuf_decode */
	if (!count || caller->uframe->rbp & 7 || *count + 1 > SL_SPEC_BUFFER(caller->ipc_spec) ||
	    !user_range(silo_space(caller->silo), caller->uframe->rbp, 8 * (*count + 1), VM_WRITE))
		return SL_EFAULT;
	return SL_OK;
}
