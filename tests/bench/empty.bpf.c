// SPDX-License-Identifier: GPL-2.0
/* empty.bpf.c: a cgroup/bind4 program that lets every bind() through, for
 * make bench: what any bind hook costs, the floor under portbind-guard's. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup/bind4")
int empty4(struct bpf_sock_addr *ctx)
{
	return 1;
}
