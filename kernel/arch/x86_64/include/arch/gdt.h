/*
 * Segment selectors. The order (kernel code, kernel data, user data, user
 * code) is the one SYSCALL/SYSRET require.
 */
#ifndef ARCH_GDT_H
#define ARCH_GDT_H

#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_DATA   (0x18 | 3)
#define SEL_USER_CODE   (0x20 | 3)
#define SEL_TSS         0x28

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2

#endif
