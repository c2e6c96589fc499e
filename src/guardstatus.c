/* guardstatus.c: portbind-guard status: where the guard is attached, the
 * namespace it enforces, whether its policy is the table on disk, the
 * counters of every owned port and the last refusals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "guardtool.h"
#include "portbind.h"

/* ---- status ---- */

static int by_time(const void *a, const void *b)
{
	const struct guard_event *x = a, *y = b;

	return x->boot_ns < y->boot_ns ? -1 : x->boot_ns > y->boot_ns;
}

static void print_refusals(const struct opts *o)
{
	struct guard_event ev[GUARD_RECENT];
	struct timespec boot, real;
	int fd = open_pin(o, "recent");
	size_t n = 0;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	for (__u32 i = 0; i < GUARD_RECENT; i++)
		if (bpf_map_lookup_elem(fd, &i, &ev[n]) == 0 && ev[n].boot_ns)
			n++;
	close(fd);
	qsort(ev, n, sizeof(*ev), by_time);
	printf("last refusals: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		time_t when = real.tv_sec - (time_t)((__u64)boot.tv_sec - ev[i].boot_ns / 1000000000u);
		struct addr a = { .family = (int)ev[i].family };
		char stamp[32], comm[80], addr[64];
		struct tm tm;
		memcpy(a.bytes, ev[i].addr, 16);
		ev[i].comm[15] = '\0';
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
		printf("  %s uid %u pid %u comm %s %s %s port %u\n", stamp, ev[i].uid, ev[i].pid,
		       clean(ev[i].comm, comm, sizeof(comm)), proto_str((int)ev[i].proto),
		       a.family ? addr_str(&a, addr, sizeof(addr)) : "[::] dual-stack", ev[i].port);
	}
}

/* Grants and refusals of every port the enforced policy owns, in order:
 * those of the policies reloads replaced ("counts") and this one's. */
static void print_counts(const struct opts *o, int ports)
{
	struct guard_slot slot;
	struct guard_count cnt;
	int counts = open_pin(o, "counts");

	printf("port        grants  refusals\n");
	for (__u32 i = 1; i < GUARD_SLOTS; i++) {
		char p[16];
		if (bpf_map_lookup_elem(ports, &i, &slot) != 0)
			die(EXIT_SYSTEM, "ports map: %s", strerror(errno));
		if (!slot.list)
			continue;
		if (bpf_map_lookup_elem(counts, &i, &cnt) != 0)
			die(EXIT_SYSTEM, "counters map: %s", strerror(errno));
		snprintf(p, sizeof(p), "%u/%s", i % 65536, proto_str((int)(i / 65536 + 1)));
		printf("%-11s %7llu %9llu\n", p,
		       (unsigned long long)(cnt.grants + slot.count.grants),
		       (unsigned long long)(cnt.refusals + slot.count.refusals));
	}
	close(counts);
}

int cmd_status(const struct opts *o, struct table *t)
{
	struct guard_state st;
	union guard_value v;
	struct guard_key k = { .kind = GK_CONF };
	struct guard_conf disk = { 0 };
	struct compiled c;
	int ports, policy, rc = 0;
	bool attached = true;

	read_state(o, &st);
	/* A link whose cgroup was removed stays pinned, attached to nothing. */
	for (int i = 0; i < 2; i++) {
		struct bpf_link_info li;
		__u32 lilen = sizeof(li);
		int fd = bpf_obj_get(pin_path(o, pins[i]));
		memset(&li, 0, sizeof(li));
		attached = attached && fd >= 0 && bpf_obj_get_info_by_fd(fd, &li, &lilen) == 0 &&
			   li.type == BPF_LINK_TYPE_CGROUP && li.cgroup.cgroup_id != 0;
		if (fd >= 0)
			close(fd);
	}
	printf("attached: %s to %s (bind4, bind6)\n", attached ? "yes" : "NO", st.cgroup);
	printf("network namespace: net:[%llu] (cookie %llu)%s\n", (unsigned long long)st.netns_ino,
	       (unsigned long long)st.netns, st.netns == this_netns() ? ", this one" : "");
	ports = current_ports(open_pin(o, "outer"), &k.gen);
	policy = open_pin(o, "policy");
	if (bpf_map_lookup_elem(policy, &k, &v) != 0)
		die(EXIT_SYSTEM, "cannot read the enforced policy: %s", strerror(errno));
	printf("owned ports: %u\n", v.conf.nports);
	portbind_inode(o, &disk, false);
	bool compiled = t->errors == 0;
	if (!compiled || !compile(t, &c, &disk)) {
		printf("table: digest %016llx; the table on disk is invalid (%u error(s))\n",
		       (unsigned long long)v.conf.digest, t->errors);
		rc = EXIT_STALE;
	} else if (c.digest != v.conf.digest) {
		printf("table: digest %016llx; the table on disk differs (%016llx): reload\n",
		       (unsigned long long)v.conf.digest, (unsigned long long)c.digest);
		rc = EXIT_STALE;
	} else {
		printf("table: digest %016llx, matches the table on disk\n",
		       (unsigned long long)v.conf.digest);
	}
	if (compiled)
		compiled_free(&c);
	print_counts(o, ports);
	print_refusals(o);
	return attached ? rc : EXIT_NOTLOADED;
}
