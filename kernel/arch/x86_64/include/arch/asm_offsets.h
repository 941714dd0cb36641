/*
 * Offsets of the structure fields assembly code reads (fastswitch.S).
 * fastswitch.c checks every one against the C layout, so a field that
 * moves stops the build instead of corrupting a switch.
 */
#ifndef ARCH_ASM_OFFSETS_H
#define ARCH_ASM_OFFSETS_H

#define THREAD_CTX_RSP 0
#define THREAD_KSTACK_TOP 8
#define THREAD_ID 16
#define THREAD_SILO 24
#define THREAD_UFRAME 32
#define THREAD_FPU_STATE 40
#define THREAD_SPACE_ROOT 48
#define THREAD_FAST_BLOCKED 56

#define VM_SPACE_ROOT 0

#endif
