// SPDX-License-Identifier: GPL-2.0
/* guard.bpf.c: the kernel judge of portbind-guard, attached to cgroup/bind4
 * and cgroup/bind6. Everything that can be computed in user space (names,
 * groups, ranges, wildcards, program inodes) was computed there: this only
 * looks up (protocol, port) and compares numbers, exactly as policy_decide()
 * in policy.c decides.
 *
 * The kernel structures below are CO-RE: only the fields used are declared,
 * and libbpf relocates their offsets against the running kernel's BTF. */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "guard.h"

#ifndef SEC /* for tools that read this file without libbpf's headers */
#define SEC(name) __attribute__((section(name), used))
#endif

#define AF_INET 2
#define AF_INET6 10
#define EADDRINUSE 98
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define PROTO_TCP 1
#define PROTO_UDP 2

typedef struct {
	__u32 val;
} kuid_t;
typedef struct {
	__u32 val;
} kgid_t;
struct group_info {
	int ngroups;
	kgid_t gid[];
} __attribute__((preserve_access_index));
struct cred {
	kuid_t uid, euid;
	kgid_t gid;
	struct group_info *group_info;
} __attribute__((preserve_access_index));
struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));
struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));
struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));
struct mm_struct {
	struct file *exe_file;
} __attribute__((preserve_access_index));
struct task_struct {
	const struct cred *cred;
	struct mm_struct *mm;
} __attribute__((preserve_access_index));
struct sock_common {
	unsigned char skc_ipv6only : 1;
} __attribute__((preserve_access_index));
struct sock {
	struct sock_common __sk_common; // NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): the kernel's name
} __attribute__((preserve_access_index));

char LICENSE[] SEC("license") = "GPL";

/* The policy (guard.h): the ports array in force, in the outer map's one
 * slot, which a reload swaps, so one bind() sees the old ports or the new,
 * never a mix and never none; and the hash of what they point to, which
 * holds the generation in force and the one before. */
struct ports {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GUARD_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct guard_slot));
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ports);
} outer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_POLICY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct guard_key);
	__type(value, union guard_value);
} policy SEC(".maps");

/* Grants and refusals per (proto - 1) * 65536 + port of the policies a
 * reload replaced: written by portbind-guard alone, kept across reloads. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GUARD_SLOTS);
	__type(key, __u32);
	__type(value, struct guard_count);
} counts SEC(".maps");

/* The network namespace enforced, set before load: a reload is refused
 * from any other, so it is the guard's for its whole life. */
const volatile __u64 guard_netns = 0;

/* The last GUARD_RECENT refusals, newest overwriting oldest. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GUARD_RECENT);
	__type(key, __u32);
	__type(value, struct guard_event);
} recent SEC(".maps");

static __u32 recent_next;

/* The three answers a bind hook gives, in one place:
 *   NOT_JUDGED  1: the kernel's normal rules (port not owned, other
 *                  namespace, not TCP or UDP, port 0);
 *   GRANT       3: allowed, and the kernel skips its CAP_NET_BIND_SERVICE
 *                  check, so the owner needs no capability even below
 *                  ip_unprivileged_port_start;
 *   REFUSE      0 with retval -EADDRINUSE: bind() fails with EADDRINUSE,
 *                  root's too. glibc's bindresvport() moves on to the next
 *                  port only for EADDRINUSE. */
enum verdict { NOT_JUDGED, GRANT, REFUSE };

struct bind {
	__u32 proto, port, family; /* family 0: dual-stack [::] */
	__u8 addr[16];
};

/* c: the judged port's counters in its slot. */
static int answer(enum verdict v, const struct bind *b, __u32 uid, struct guard_count *c)
{
	if (v == NOT_JUDGED)
		return 1;
	if (v == GRANT) {
		if (c)
			__sync_fetch_and_add(&c->grants, 1);
		return 3;
	}
	if (c)
		__sync_fetch_and_add(&c->refusals, 1);
	__u32 slot = __sync_fetch_and_add(&recent_next, 1) % GUARD_RECENT;
	struct guard_event *e = bpf_map_lookup_elem(&recent, &slot);
	if (e) {
		e->boot_ns = bpf_ktime_get_boot_ns();
		e->uid = uid;
		e->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
		e->family = b->family;
		e->proto = b->proto;
		e->port = b->port;
		__builtin_memcpy(e->addr, b->addr, 16);
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	bpf_set_retval(-EADDRINUSE);
	return 0;
}

static int in_ranges(const struct guard_range *r, __u32 n, __u32 v)
{
	for (__u32 i = 0; i < GUARD_RANGES && i < n; i++)
		if (r[i].lo <= v && v <= r[i].hi)
			return 1;
	return 0;
}

static int addr_ok(const struct guard_rule *r, const struct bind *b)
{
	if (r->flags & GR_ANYADDR)
		return 1;
	if (b->family == 0)
		return (r->flags & GR_DUAL) != 0;
	for (__u32 i = 0; i < GUARD_ADDRS && i < r->naddrs; i++) {
		const struct guard_addr *a = &r->addrs[i];
		__u32 len = b->family == AF_INET ? 4 : 16, same = a->family == b->family;
		for (__u32 k = 0; k < 16 && same; k++)
			if (k < len && a->bytes[k] != b->addr[k])
				same = 0;
		if (same)
			return 1;
	}
	return 0;
}

/* The supplementary groups, read from the task's cred through BTF: every
 * one of them (up to NGROUPS_MAX, 65536) through bpf_loop, so no group is
 * left unchecked. */
struct groups_walk {
	const struct group_info *gi;
	struct guard_range gids[GUARD_RANGES];
	__u32 ngids;
	int found;
};

static long one_group(__u32 i, void *data)
{
	struct groups_walk *w = data;
	kgid_t g;

	if (bpf_probe_read_kernel(&g, sizeof(g), (const char *)&w->gi->gid[0] + i * sizeof(g)) != 0)
		return 1;
	if (in_ranges(w->gids, w->ngids, g.val)) {
		w->found = 1;
		return 1;
	}
	return 0;
}

struct who {
	__u32 uid, gid, ngroups;
	const struct group_info *gi;
};

static int names(const struct guard_rule *r, const struct who *w)
{
	struct groups_walk walk = { .gi = w->gi };

	if ((r->flags & GR_EVERYONE) || in_ranges(r->uids, r->nuids, w->uid) ||
	    in_ranges(r->gids, r->ngids, w->gid))
		return 1;
	if (r->ngids == 0 || w->ngroups == 0)
		return 0;
	__builtin_memcpy(walk.gids, r->gids, sizeof(walk.gids));
	walk.ngids = r->ngids;
	bpf_loop(w->ngroups, one_group, &walk, 0);
	return walk.found;
}

static enum verdict decide(struct bpf_sock_addr *ctx, const struct bind *b, __u32 *uid,
			   struct guard_count **count)
{
	__u32 zero = 0, at = (b->proto - 1) * 65536 + b->port;
	void *ports;
	struct guard_slot *slot;
	const struct guard_list *list;

	if (bpf_get_netns_cookie(ctx) != guard_netns)
		return NOT_JUDGED;
	/* No policy yet (load fills it before attaching), or a port that is
	 * not owned. */
	ports = bpf_map_lookup_elem(&outer, &zero);
	if (!ports || !(slot = bpf_map_lookup_elem(ports, &at)) || !slot->list)
		return NOT_JUDGED;
	*count = &slot->count;
	struct guard_key key = { .kind = GK_LIST, .gen = slot->gen, .idx = slot->list };
	list = bpf_map_lookup_elem(&policy, &key);
	if (!list)
		return REFUSE; /* owned, and its rules are gone: never grant */

	/* Identity: the real uid, real gid and supplementary groups, in the
	 * initial user namespace: who started the process. For portbind, a
	 * setuid launcher, that is its caller, which is exactly the identity
	 * portbind grants for when the caller is not root.
	 *
	 * The task is a trusted BTF pointer: the fields below are plain loads
	 * that the verifier checks against the kernel's BTF, not a
	 * bpf_probe_read_kernel() call each, which cost the guard about 90 ns
	 * a bind (make bench). */
	struct task_struct *task = bpf_get_current_task_btf();
	const struct cred *cred = task->cred;
	const struct group_info *gi = cred->group_info;
	struct who w = {
		.uid = cred->uid.val,
		.gid = cred->gid.val,
		.ngroups = (__u32)gi->ngroups,
		.gi = gi,
	};
	__u32 euid = cred->euid.val;
	*uid = w.uid;

	/* Program: device and inode of the executable (mm->exe_file), as
	 * stat(2) of the pinned path gave them at load. No mm (a kernel
	 * thread): no program, so a pinned rule never matches. */
	struct mm_struct *mm = task->mm;
	struct file *exe_file = mm ? mm->exe_file : NULL;
	struct inode *exe = exe_file ? exe_file->f_inode : NULL;
	__u64 ino = exe ? exe->i_ino : 0;
	__u64 dev = exe ? exe->i_sb->s_dev : 0;

	/* portbind's own binds: the installed portbind with euid 0 (before it
	 * drops privilege) binds for its caller, after policy_decide() on the
	 * same table. Run by a user, it is judged on that user's identity
	 * like anyone, but the program pin was already checked by portbind
	 * against the command it has opened and will execute. Run by root
	 * (real uid 0 too), it binds for the user root named: root is trusted
	 * here as everywhere (root can detach the guard). Nobody else has
	 * this executable with euid 0: a copy is another inode and loses the
	 * setuid bit, and a setuid program cannot be ptraced by its caller. */
	int portbind = list->pb_ino && ino == list->pb_ino && dev == list->pb_dev && euid == 0;
	if (portbind && w.uid == 0)
		return GRANT;

	for (__u32 i = 0; i < GUARD_PORT_RULES && i < list->p.nrules; i++) {
		struct guard_key rk = { .kind = GK_RULE, .gen = key.gen, .idx = list->p.rules[i] };
		const struct guard_rule *r = bpf_map_lookup_elem(&policy, &rk);
		if (!r || !addr_ok(r, b))
			continue;
		if ((r->flags & GR_PINNED) && !portbind && (r->dev != dev || r->ino != ino))
			continue;
		if (names(r, &w))
			return GRANT;
	}
	return REFUSE;
}

static int judge(struct bpf_sock_addr *ctx, struct bind *b)
{
	struct guard_count *count = NULL;
	__u32 uid = 0;

	b->port = bpf_ntohs((__u16)ctx->user_port);
	if (b->port == 0)
		return 1; /* bind(0): kept off owned ports by ip_local_reserved_ports */
	if (ctx->protocol == IPPROTO_TCP)
		b->proto = PROTO_TCP;
	else if (ctx->protocol == IPPROTO_UDP)
		b->proto = PROTO_UDP;
	else
		return 1;
	enum verdict v = decide(ctx, b, &uid, &count);

	return answer(v, b, uid, count);
}

SEC("cgroup/bind4")
int bind4(struct bpf_sock_addr *ctx)
{
	struct bind b = { .family = AF_INET };

	__builtin_memcpy(b.addr, &ctx->user_ip4, 4);
	return judge(ctx, &b);
}

/* ::ffff:a.b.c.d is the IPv4 bind it is; [::] with IPV6_V6ONLY off is also
 * a bind of 0.0.0.0, judged as policy_decide() judges a SPEC without
 * ADDRESS. A socket whose flag cannot be read is judged dual-stack. */
SEC("cgroup/bind6")
int bind6(struct bpf_sock_addr *ctx)
{
	struct bind b = { .family = AF_INET6 };
	__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff)) {
		b.family = AF_INET;
		__builtin_memcpy(b.addr, &a[3], 4);
		return judge(ctx, &b);
	}
	__builtin_memcpy(b.addr, a, 16);
	if ((a[0] | a[1] | a[2] | a[3]) == 0) {
		struct sock *sk = NULL;
		int v6only = 0;
		if (ctx->protocol == IPPROTO_TCP)
			sk = (struct sock *)bpf_skc_to_tcp6_sock(ctx->sk);
		else if (ctx->protocol == IPPROTO_UDP)
			sk = (struct sock *)bpf_skc_to_udp6_sock(ctx->sk);
		if (sk)
			v6only = (int)BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_ipv6only);
		if (!v6only)
			b.family = 0;
	}
	return judge(ctx, &b);
}
