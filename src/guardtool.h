/* guardtool.h: what the parts of portbind-guard share: guard.c (load,
 * reload, unload, main), guardpolicy.c (the maps of a policy), guardsys.c
 * (the cgroup2 root, the installed portbind, ip_local_reserved_ports) and
 * guardstatus.c (status). Root only, never setuid: nothing of it is
 * linked into portbind. */
#ifndef PORTBIND_GUARDTOOL_H
#define PORTBIND_GUARDTOOL_H

#include <stdbool.h>
#include <stdio.h>

#include "guard.h"

struct table;

/* Exit codes beyond portbind's (documented in portbind-guard(8)). */
enum {
	EXIT_STALE = 2,     /* status: loaded, but the table on disk differs */
	EXIT_NOTLOADED = 3, /* no guard pinned in the pin directory */
	EXIT_KERNEL = 69,   /* no BTF, no cgroup2, no bpffs, verifier or lockdown */
	EXIT_LOADED = 73,   /* load: a guard is already pinned there */
};

#define RESERVED "/proc/sys/net/ipv4/ip_local_reserved_ports"
#define PORT_RANGE "/proc/sys/net/ipv4/ip_local_port_range"

/* Kept in the pin directory (bpffs holds only BPF objects, so a one-entry
 * array map): where the guard is attached, which namespace it enforces, and
 * the administrator's own ip_local_reserved_ports, restored on unload. */
struct guard_state {
	char cgroup[512];
	__u64 netns, netns_ino;
	__u64 loaded; /* CLOCK_REALTIME seconds */
	__u8 reserved[65536 / 8];
};

struct opts {
	const char *cmd, *config, *cgroup, *pin_dir, *portbind;
};

/* guard.c */
extern const char *const pins[7]; /* bind4, bind6: the links; then the maps */
char *pin_path(const struct opts *o, const char *name);
int open_pin(const struct opts *o, const char *name);
void read_state(const struct opts *o, struct guard_state *st);

/* guardpolicy.c */
int build_policy(const struct compiled *c, struct guard_conf conf, int policy, __u32 gen);
void drop_generations(int policy, __u32 keep);
int current_ports(int outer, __u32 *gen);
void archive_counts(const struct opts *o, int old);

/* guardsys.c */
char *cgroup2_root(void);
__u64 this_netns(void);
void portbind_inode(const struct opts *o, struct guard_conf *conf, bool warn);
void read_reserved(__u8 *bits);
bool write_reserved(const __u8 *bits);
void merged_reserved(const struct guard_state *st, const struct compiled *c, __u8 *bits);

/* guardstatus.c */
int cmd_status(const struct opts *o, struct table *t);

#endif
