/*
 * Error codes shared by the kernel and user space. Every call that can fail
 * returns 0 (or a non-negative result) on success and one of these negative
 * codes on failure. The enum ends in a count sentinel so tables indexed by
 * error (names, messages) can be checked for completeness at compile time.
 */
#ifndef ABI_ERRORS_H
#define ABI_ERRORS_H

typedef enum sl_error {
	SL_OK = 0,
	SL_EINVAL = -1,         /* an argument is out of range or malformed */
	SL_ENOMEM = -2,         /* out of memory (kernel or quota) */
	SL_EEXIST = -3,         /* the thing to create is already there */
	SL_ENOENT = -4,         /* the thing named is not there */
	SL_EFAULT = -5,         /* a user pointer does not point at user memory */
	SL_ENOSYS = -6,         /* no such system call */
	SL_ETIMEDOUT = -7,      /* the time limit passed first */
	SL_EKILLED = -8,        /* the calling thread is being killed */
	SL_EAGAIN = -9,         /* not now: a table or slot is full or busy */
	SL_ESRCH = -10,         /* no such thread or silo */
	SL_EWOULDBLOCK = -11,   /* a non-blocking call found nobody to pair with */
	SL_ECAP = -12,          /* the slot is empty or holds the wrong type of capability */
	SL_EPERM = -13,         /* the capability lacks a right the call needs */
	SL_EDEAD = -14,         /* the peer is gone (a caller died, a reply was dropped) */
	SL_EQUOTA = -15,        /* the calling silo's own quota for this resource is used up */
	SL_ERROR_COUNT = 16,    /* number of codes, SL_OK included */
} sl_error_t;

#endif
