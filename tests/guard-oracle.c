/*
 * guard-oracle - what portbind's policy_decide() says about a bind, for the
 * differential test of portbind-guard: the kernel's verdict must be this.
 *
 *   guard-oracle CONF < lines
 *   line: UID GID GROUPS EXE PROTO ADDR PORT   (GROUPS: g1,g2 or -)
 *   out:  ok | EADDRINUSE | EACCES, one per line
 *
 * ADDR as binder takes it: "dual" is [::] with IPV6_V6ONLY off, the
 * dual-stack wildcard (family 0); ::ffff:a.b.c.d is the IPv4 bind it is.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "portbind.h"

static void to_addr(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (strcmp(s, "dual") == 0)
		return;
	if (strncmp(s, "::ffff:", 7) == 0)
		s += 7;
	if (!parse_addr(s, strlen(s), 0, a) && strcmp(s, "::") != 0)
		die(EXIT_USAGE, "bad address %s", s);
	if (strcmp(s, "::") == 0)
		a->family = AF_INET6;
}

int main(int argc, char **argv)
{
	char groups[256], exe[4096], proto[8], addr[64];
	unsigned uid, gid, port;
	struct table t;

	if (argc != 2)
		die(EXIT_USAGE, "usage: guard-oracle CONF < lines");
	table_init(&t, stderr);
	load_table(&t, argv[1], NULL, true);
	if (t.errors)
		die(EXIT_TABLE, "%u error(s)", t.errors);
	while (scanf("%u %u %255s %4095s %7s %63s %u", &uid, &gid, groups, exe, proto, addr,
		     &port) == 7) {
		gid_t supp[64];
		struct ident id = { .uid = uid, .gid = gid, .supp = supp };
		struct spec sp = { .port = (uint16_t)port };
		struct stat st;
		enum verdict why;
		for (char *g = strtok(groups, ","); g && strcmp(g, "-") && id.nsupp < 64;
		     g = strtok(NULL, ","))
			supp[id.nsupp++] = (gid_t)strtoul(g, NULL, 10);
		sp.proto = strcmp(proto, "udp") == 0 ? PROTO_UDP : PROTO_TCP;
		to_addr(addr, &sp.addr);
		if (stat(exe, &st) != 0)
			die(EXIT_USAGE, "%s: cannot stat", exe);
		policy_decide(&t, &sp, &id, st.st_dev, st.st_ino, 1024, &why);
		puts(why == DENY_OWNED ? "EADDRINUSE"
		     : why == DENY_PRIVILEGED && uid != 0 ? "EACCES" : "ok");
	}
	table_free(&t);
	return 0;
}
