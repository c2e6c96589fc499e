/* guard.h: the map layouts shared by the kernel judge (guard.bpf.c) and
 * portbind-guard (guard.c). Plain fixed-size types only: both the BPF
 * target and the host compiler must lay them out identically. */
#ifndef PORTBIND_GUARD_H
#define PORTBIND_GUARD_H

#include <linux/types.h>

#define GUARD_RANGES 8      /* uid and gid ranges per rule */
#define GUARD_ADDRS 4       /* addresses per rule */
#define GUARD_PORT_RULES 16 /* rules per (protocol, port) */
#define GUARD_RECENT 64     /* refusals kept for status */
#define GUARD_SLOTS ((__u64)2 * 65536) /* (proto - 1) * 65536 + port */
#define GUARD_PIN_DIR "/sys/fs/bpf/portbind" /* the default pin directory */

/* The policy is in two maps. The ports array (one per policy, in the
 * outer map's one slot, swapped whole on reload) has a guard_slot for each
 * (protocol, port): index (proto - 1) * 65536 + port, a cache miss at
 * most per bind. Slot 0 (TCP port 0, never owned) holds the policy's
 * generation. The policy hash (one, pinned) holds what the slots point to,
 * keyed by generation, so a reload adds a new generation beside the one in
 * force, swaps the array, and removes the generation before:
 *   GK_CONF  (idx 0)    what this policy is and where it applies
 *   GK_LIST  (idx)      the rules that may grant a port (ports share lists)
 *   GK_RULE  (idx)      one grant: who, from where, which program */
enum { GK_CONF = 1, GK_LIST = 2, GK_RULE = 3 };
struct guard_key {
	__u32 kind, gen, idx;
};
#define GUARD_POLICY_MAX (1u << 20) /* entries of the policy hash, all generations */

struct guard_range {
	__u32 lo, hi;
};

/* family 2 (AF_INET) uses bytes[0..3]; 10 (AF_INET6) all 16. */
struct guard_addr {
	__u32 family;
	__u8 bytes[16];
};

/* A section of the table, or a piece of one when it names more ids or
 * addresses than fit: the pieces together grant exactly what it grants.
 * A bind is granted by a rule when the address, the identity and the
 * program all match, as policy_decide() decides. */
enum {
	GR_EVERYONE = 1, /* user = * */
	GR_ANYADDR = 2,  /* no address key: every address */
	GR_DUAL = 4,     /* a dual-stack [::] bind matches: no address key, or both wildcards */
	GR_PINNED = 8,   /* program = : dev and ino must match the executable */
};
struct guard_rule {
	__u32 flags;
	__u32 nuids, ngids, naddrs;
	__u64 dev, ino; /* kernel dev_t (major << 20 | minor) and inode number */
	struct guard_range uids[GUARD_RANGES], gids[GUARD_RANGES];
	struct guard_addr addrs[GUARD_ADDRS];
};

struct guard_port {
	__u32 nrules;
	__u32 rules[GUARD_PORT_RULES]; /* GK_RULE indexes */
};

/* A GK_LIST entry: a port's rules, and portbind's inode (the policy's
 * guard_conf again: one lookup fewer a bind). */
struct guard_list {
	__u64 pb_dev, pb_ino;
	struct guard_port p;
};

/* netns: cookie of the namespace that is enforced; binds elsewhere are not
 * judged. pb_dev, pb_ino: the installed portbind (0: none), whose binds are
 * judged on its caller's identity (see guard.bpf.c). */
struct guard_conf {
	__u64 netns;
	__u64 pb_dev, pb_ino;
	__u64 digest;
	__u32 nports, nrules;
};

union guard_value {
	struct guard_conf conf;
	struct guard_list list;
	struct guard_rule rule;
};

struct guard_count {
	__u64 grants, refusals;
};

/* One (protocol, port) of a policy: list 0, not owned. count: this
 * policy's grants and refusals of it, in the slot the bind has read; a
 * reload adds them to the pinned "counts" array, which keeps them. */
struct guard_slot {
	__u32 gen, list;
	struct guard_count count;
};

/* One refused bind, in a circular array of GUARD_RECENT slots: the newest
 * overwrite the oldest, so status always shows the last ones. */
struct guard_event {
	__u64 boot_ns; /* CLOCK_BOOTTIME */
	__u32 uid, pid;
	__u32 family, proto, port;
	__u8 addr[16];
	char comm[16];
};

#ifndef __bpf__
/* compile.c: the table as the kernel judge reads it. */
#include <stdbool.h>
struct table;
struct compiled {
	struct guard_rule *rules;
	__u32 nrules, nports;
	struct guard_port *ports; /* [GUARD_SLOTS] */
	__u64 digest; /* of conf's portbind, the rules and the ports */
};
bool compile(struct table *t, struct compiled *c, const struct guard_conf *conf);
void compiled_free(struct compiled *c);
__u64 kdev(unsigned long long dev);
__u64 netns_cookie(void);
#endif
#endif
