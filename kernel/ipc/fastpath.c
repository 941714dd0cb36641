/*
 * The IPC fast path: today the direct switch from a caller to the server
 * it wakes (and back), which ipc.slowpath on the kernel command line
 * turns off.
 */
#include <abi/errors.h>
#include <abi/ipc.h>
#include <abi/syscall.h>
#include "ipc_internal.h"

bool ipc_fastpath_on = true;
uint64_t ipc_fastpaths;

uint64_t ipc_fastpath_count(void)
{
	return ipc_fastpaths;
}

void ipc_set_fastpath(bool on)
{
	ipc_fastpath_on = on;
}

