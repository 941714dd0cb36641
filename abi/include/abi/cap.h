/*
 * Capabilities as user space sees them: slots, types, rights, badges, and
 * the slots every silo starts with.
 *
 * A silo's capability space is a table of slots; a handle is a slot index.
 * Slot 0 is always the null capability. A capability names a kernel object,
 * its type, the rights it carries and a badge (a word the holder cannot
 * read back through the object, but which a receiver learns).
 */
#ifndef ABI_CAP_H
#define ABI_CAP_H

typedef unsigned int sl_slot_t;

enum sl_cap_type {
	SL_CAP_NULL = 0,
	SL_CAP_ENDPOINT = 1,
	SL_CAP_NOTIFICATION = 2,
	SL_CAP_REPLY = 3,
	SL_CAP_SILO_EVENTS = 4,
	SL_CAP_TYPE_COUNT = 5,
};

/* Rights only ever shrink: copy and mint can drop them, nothing adds them. */
enum sl_rights {
	SL_RIGHT_SEND = 1 << 0,         /* send, call; signal a notification */
	SL_RIGHT_RECV = 1 << 1,         /* recv; wait on or poll a notification */
	SL_RIGHT_GRANT = 1 << 2,        /* capabilities may travel in messages through it */
	SL_RIGHT_COPY = 1 << 3,         /* may be copied or minted */
	SL_RIGHTS_ALL = 0xf,
};

/* Slots fixed at boot (abi/bootinfo.h describes the rest of the start-up state). */
enum {
	SL_SLOT_NULL = 0,
	/* In the server: its endpoint, all rights. In every other silo: a send
	 * capability to that endpoint (send + grant) badged with the silo's id. */
	SL_SLOT_SERVER = 1,
	SL_SLOT_SILO_EVENTS = 2,        /* the server only */
	SL_SLOT_FIRST_FREE = 8,         /* slots below this are reserved */
};

#define SL_CSPACE_DEFAULT 4096          /* slots, unless the module says cspace=N */
#define SL_CSPACE_MAX 65536         /* slots; see <abi/ipc.h> for the slots a message can name */
#define SL_KMEM_DEFAULT (2 * 1024 * 1024)       /* bytes of kernel objects, unless kmem=N */

/* SL_SYS_CAP_IDENTIFY fills this. */
typedef struct sl_cap_info {
	unsigned int type;              /* enum sl_cap_type */
	unsigned int rights;            /* enum sl_rights */
	unsigned long long badge;
} sl_cap_info_t;

#endif
