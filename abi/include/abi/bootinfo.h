/*
 * What a silo finds at start-up besides argc/argv.
 *
 * Every silo has a read-only boot-info page at SL_BOOTINFO_ADDR. The server
 * (the first module) also has a read-only table of every silo at
 * SL_SILO_TABLE_ADDR: `count` entries, on as many pages as they need (at
 * most SL_SILO_TABLE_PAGES). The kernel boots at most SL_SILO_TABLE_MAX
 * silos (a boot with more modules fails), so every silo is in the table;
 * entries past `count` are not mapped.
 */
#ifndef ABI_BOOTINFO_H
#define ABI_BOOTINFO_H

#define SL_BOOTINFO_ADDR 0x0000000000200000ull
#define SL_SILO_TABLE_ADDR 0x0000000000201000ull
#define SL_NAME_MAX 32
#define SL_ARGS_MAX 256
#define SL_SILO_TABLE_MAX 1024
#define SL_SILO_TABLE_PAGES ((8 + SL_SILO_TABLE_MAX * 248 + 4095) / 4096)     /* 63 */

typedef struct sl_bootinfo {
	unsigned int silo_id;
	unsigned int is_server;         /* 1 in the first module */
	unsigned int cspace_slots;
	unsigned int kmem_quota;        /* bytes */
	char name[SL_NAME_MAX];
	char args[SL_ARGS_MAX];
	unsigned int mem_quota;         /* pages of anonymous memory (mem=N) */
} sl_bootinfo_t;

typedef struct sl_silo_entry {
	unsigned int id;
	unsigned int reserved;
	char name[SL_NAME_MAX];
	char args[208];                 /* the first 207 bytes of the arguments */
} sl_silo_entry_t;

/* The first `count` entries are mapped: read only those. */
typedef struct sl_silo_table {
	unsigned int count;
	unsigned int reserved;
	sl_silo_entry_t silos[SL_SILO_TABLE_MAX];
} sl_silo_table_t;

_Static_assert(sizeof(sl_silo_entry_t) == 248, "SL_SILO_TABLE_PAGES assumes 248-byte entries");
_Static_assert(SL_SILO_TABLE_ADDR + SL_SILO_TABLE_PAGES * 4096ull <= 0x400000ull,
	       "the silo table must end below the silo images");

#endif
