/* guardpolicy.c: portbind-guard's policy as the kernel judge reads it
 * (guard.h): a generation of conf, lists and rules in the policy hash, the
 * ports array pointing to it, the removal of the generations no longer in
 * force, and the counts a replaced ports array held. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "guardtool.h"
#include "portbind.h"

static void put(int policy, __u32 kind, __u32 gen, __u32 idx, const union guard_value *v)
{
	struct guard_key k = { kind, gen, idx };

	if (bpf_map_update_elem(policy, &k, v, BPF_ANY) != 0)
		die(EXIT_SYSTEM, "policy map: %s", strerror(errno));
}

/* Generation gen of the policy, complete: its conf, rules and port lists
 * in the policy hash, then a new ports array pointing to them, whose fd is
 * returned for the outer map's slot. Ports with the same rules as the port
 * before them share its list. */
int build_policy(const struct compiled *c, struct guard_conf conf, int policy, __u32 gen)
{
	union guard_value v;
	struct guard_slot slot = { .gen = gen };
	__u32 lists = 0, zero = 0;
	const struct guard_port *prev = NULL;
	int ports;

	conf.digest = c->digest;
	conf.nports = c->nports;
	conf.nrules = c->nrules;
	ports = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pb_ports", 4, sizeof(slot), GUARD_SLOTS, NULL);
	if (ports < 0)
		die(EXIT_KERNEL, "cannot create the ports map: %s", strerror(errno));
	memset(&v, 0, sizeof(v));
	v.conf = conf;
	put(policy, GK_CONF, gen, 0, &v);
	for (__u32 i = 0; i < c->nrules; i++) {
		memset(&v, 0, sizeof(v));
		v.rule = c->rules[i];
		put(policy, GK_RULE, gen, i, &v);
	}
	if (bpf_map_update_elem(ports, &zero, &slot, BPF_ANY) != 0)
		die(EXIT_SYSTEM, "ports map: %s", strerror(errno));
	for (__u32 i = 1; i < GUARD_SLOTS; i++) {
		if (!c->ports[i].nrules)
			continue;
		if (!prev || memcmp(prev, &c->ports[i], sizeof(*prev)) != 0) {
			memset(&v, 0, sizeof(v));
			v.list.pb_dev = conf.pb_dev;
			v.list.pb_ino = conf.pb_ino;
			v.list.p = c->ports[i];
			put(policy, GK_LIST, gen, ++lists, &v);
		}
		prev = &c->ports[i];
		slot.list = lists;
		if (bpf_map_update_elem(ports, &i, &slot, BPF_ANY) != 0)
			die(EXIT_SYSTEM, "ports map: %s", strerror(errno));
	}
	return ports;
}

/* Remove every generation from the policy hash but keep: what a reload
 * that failed left, and the one before the generation in force. */
void drop_generations(int policy, __u32 keep)
{
	struct guard_key k, *prev = NULL, *gone = NULL;
	size_t n = 0, cap = 0;

	while (bpf_map_get_next_key(policy, prev, &k) == 0) {
		if (k.gen != keep) {
			if (n == cap) {
				struct guard_key *more = realloc(gone, (cap = cap ? 2 * cap : 1024) *
									 sizeof(*gone));
				if (!more)
					die(EXIT_SYSTEM, "out of memory");
				gone = more;
			}
			gone[n++] = k;
		}
		prev = &k;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(policy, &gone[i]) != 0 && errno != ENOENT)
			die(EXIT_SYSTEM, "policy map: %s", strerror(errno));
	free(gone);
}

/* The counts of a ports array a reload has replaced, added to the
 * "counts" map that keeps them. A bind that read the old array just before
 * the swap may still count in it: wait for those (they take microseconds)
 * first. A failure here loses counts, never the new policy. */
void archive_counts(const struct opts *o, int old)
{
	const struct timespec settle = { 0, 50000000L }; /* 50 ms */
	struct guard_slot slot;
	struct guard_count sum;
	int counts = open_pin(o, "counts");

	nanosleep(&settle, NULL);
	for (__u32 i = 1; i < GUARD_SLOTS; i++) {
		if (bpf_map_lookup_elem(old, &i, &slot) != 0 || !slot.list ||
		    (!slot.count.grants && !slot.count.refusals) ||
		    bpf_map_lookup_elem(counts, &i, &sum) != 0)
			continue;
		sum.grants += slot.count.grants;
		sum.refusals += slot.count.refusals;
		if (bpf_map_update_elem(counts, &i, &sum, BPF_ANY) != 0)
			fprintf(stderr, "portbind-guard: counts of port %u/%s: %s\n", i % 65536,
				proto_str((int)(i / 65536 + 1)), strerror(errno));
	}
	close(counts);
}

/* The ports array in force (its fd) and its generation. */
int current_ports(int outer, __u32 *gen)
{
	struct guard_slot head;
	__u32 zero = 0, id;
	int fd;

	if (bpf_map_lookup_elem(outer, &zero, &id) != 0 || (fd = bpf_map_get_fd_by_id(id)) < 0 ||
	    bpf_map_lookup_elem(fd, &zero, &head) != 0)
		die(EXIT_SYSTEM, "cannot read the enforced policy: %s", strerror(errno));
	*gen = head.gen;
	return fd;
}
