/*
 * Endpoint messages and their register encoding.
 *
 * A message is a tag and 8 data words, all in registers:
 *
 *   RSI  tag:  bits  0-31 label (free for the protocol)
 *              bits 32-35 length, data words used (0-8)
 *              bits 36-37 number of capabilities (0-2)
 *              bits 40-51 slot of capability 0 (sender) / what arrived (receiver)
 *              bits 52-63 slot of capability 1 (sender)
 *   RDX R10 R8 R9 R12 R13 R14 R15   data words 0-7
 *   RBX  spec: where the receiving side puts things (see SL_SPEC)
 *   RDI  the endpoint (in) / the sender's badge (out)
 *
 * On receipt, the tag keeps label, length and the number of capabilities
 * the sender sent, and says what became of each: SL_TAG_MOVED(i) - it was
 * moved into the slot the receiver named for it; SL_TAG_UNWRAPPED(i) - it
 * was a capability to the receiving endpoint itself, which stays with the
 * sender and whose badge arrives in RBX (i = 0) or RBP (i = 1). Neither -
 * it could not be delivered (no slot named, slot taken, or the sender's
 * slot no longer held it) and stays with the sender: nothing is lost.
 */
#ifndef ABI_IPC_H
#define ABI_IPC_H

#define SL_MSG_WORDS 8
#define SL_MSG_CAPS 2

#define SL_TAG(label, len, ncaps)                                          \
	((unsigned long long)(unsigned int)(label) |                        \
	 (unsigned long long)((len) & 0xf) << 32 |                          \
	 (unsigned long long)((ncaps) & 0x3) << 36)
#define SL_TAG_CAPS(tag, slot0, slot1)                                     \
	((tag) | (unsigned long long)((slot0) & 0xfff) << 40 |              \
	 (unsigned long long)((slot1) & 0xfff) << 52)
#define SL_TAG_LABEL(tag) ((unsigned int)(tag))
#define SL_TAG_LEN(tag) ((unsigned int)((tag) >> 32) & 0xf)
#define SL_TAG_NCAPS(tag) ((unsigned int)((tag) >> 36) & 0x3)
#define SL_TAG_CAP_SLOT(tag, i) ((unsigned int)((tag) >> (40 + 12 * (i))) & 0xfff)
#define SL_TAG_MOVED(i) (1ull << (40 + (i)))
#define SL_TAG_UNWRAPPED(i) (1ull << (42 + (i)))
/* On receipt: the message came from a call and a reply capability was put
 * in the slot the receiver named for it. */
#define SL_TAG_CALL (1ull << 44)
/* After reply_recv: the reply part found its caller dead (SL_EDEAD) and
 * was dropped; set whatever the receive part returned. */
#define SL_TAG_REPLY_DEAD (1ull << 45)
/* After reply2_recv: the same for the second answer. */
#define SL_TAG_REPLY2_DEAD (1ull << 46)

/*
 * SL_SYS_REPLY2_RECV is reply_recv with a second answer: RDI names the
 * endpoint (bits 0-15), the reply capability of a second caller (bits
 * 16-31; 0: none) and the label its answer carries (bits 32-63); that
 * answer has no data words and no capabilities. The second caller runs
 * next; the first (answered with the registers) is woken. A server that
 * completes two calls at once (a message for a waiting receiver, a status
 * for its sender) answers both in one system call, and the sender goes on.
 */
#define SL_REPLY2(ep, reply, label)                                        \
	((unsigned long long)((ep) & 0xffff) |                              \
	 (unsigned long long)((reply) & 0xffff) << 16 |                     \
	 (unsigned long long)(unsigned int)(label) << 32)
#define SL_REPLY2_EP(rdi) ((unsigned int)(rdi) & 0xffff)
#define SL_REPLY2_REPLY(rdi) ((unsigned int)((rdi) >> 16) & 0xffff)
#define SL_REPLY2_LABEL(rdi) ((unsigned int)((rdi) >> 32))

/*
 * Receive spec (RBX): bits  0-11 the reply capability to answer (reply_recv)
 *                     bits 12-23 empty slot for the reply capability of a call
 *                     bits 24-35 empty slot for an incoming capability 0
 *                     bits 36-47 empty slot for an incoming capability 1
 * Slot 0 means "none".
 */
#define SL_SPEC(reply, reply_slot, cap0_slot, cap1_slot)                   \
	((unsigned long long)((reply) & 0xfff) |                            \
	 (unsigned long long)((reply_slot) & 0xfff) << 12 |                 \
	 (unsigned long long)((cap0_slot) & 0xfff) << 24 |                  \
	 (unsigned long long)((cap1_slot) & 0xfff) << 36)
#define SL_SPEC_REPLY(spec) ((unsigned int)(spec) & 0xfff)
#define SL_SPEC_REPLY_SLOT(spec) ((unsigned int)((spec) >> 12) & 0xfff)
#define SL_SPEC_CAP_SLOT(spec, i) ((unsigned int)((spec) >> (24 + 12 * (i))) & 0xfff)

/*
 * Message buffers: a message may carry, beside its registers, up to
 * SL_MSG_BUFFER_WORDS words from the sender's memory. The sender sets
 * SL_TAG_BUFFER and points RBP at its buffer, whose first word is the
 * number of words that follow. The receiver (or a caller, for the reply)
 * names its own buffer with RBP and its size in words, count word
 * included, in spec bits 48-59 (SL_SPEC_BUFFER). The part arrives there,
 * count word first, when it fits; on receipt SL_TAG_BUFFER says it did.
 * If it did not (no buffer named, too small, not writable) the registers
 * still arrive and the tag says so: the sender's buffer is untouched. A
 * reply whose part would not fit the caller's buffer is refused instead
 * (SL_EFAULT, nothing happens), so an answer never loses its part.
 */
#define SL_TAG_BUFFER (1ull << 38)
#define SL_MSG_BUFFER_WORDS 512
#define SL_SPEC_BUFFER(spec) ((unsigned int)((spec) >> 48) & 0xfff)
#define SL_SPEC_WITH_BUFFER(spec, words) ((spec) | (unsigned long long)((words) & 0xfff) << 48)

/* The badge of messages the kernel itself sends (silo events). */
#define SL_BADGE_KERNEL (~0ull)

/* Silo event messages: label SL_EVENT_SILO_EXIT, words:
 * [0] silo id, [1] exit code (valid when [2] is -1), [2] fault vector or -1,
 * [3] faulting rip, [4] faulting address. */
#define SL_EVENT_SILO_EXIT 0x51e0e417u

#endif
