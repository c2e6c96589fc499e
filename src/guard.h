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
#define GUARD_MAX_PORTS 131072 /* 65535 ports, tcp and udp */
#define GUARD_SLOTS ((__u64)2 * 65536) /* (proto - 1) * 65536 + port */
#define GUARD_PIN_DIR "/sys/fs/bpf/portbind" /* the default pin directory */

/* Key of the policy map: one of three kinds of entry.
 *   GK_CONF  (idx 0)          what this policy is and where it applies
 *   GK_PORT  (proto, port)    an owned port: the rules that may grant it;
 *                             no entry means the port is not owned
 *   GK_RULE  (idx)            one grant: who, from where, which program */
enum { GK_CONF = 1, GK_PORT = 2, GK_RULE = 3 };
struct guard_key {
	__u8 kind;
	__u8 proto; /* PROTO_TCP or PROTO_UDP, as in portbind.h */
	__u16 port; /* host order */
	__u32 idx;
};

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

/* netns, pb_dev, pb_ino: the policy's guard_conf again, so that a bind
 * costs one lookup fewer (set when the map is built; not in the digest). */
struct guard_port {
	__u64 netns, pb_dev, pb_ino;
	__u32 nrules;
	__u32 rules[GUARD_PORT_RULES]; /* GK_RULE indexes */
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
	struct guard_port port;
	struct guard_rule rule;
};

/* Per (proto - 1) * 65536 + port, an array: kept across reloads. */
struct guard_count {
	__u64 grants, refusals;
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
