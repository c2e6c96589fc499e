/* report.c: what portbind tells people: --list, --dry-run and -v on
 * stdout/stderr, and the grant and denial lines in syslog. */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "portbind.h"

/* The first n ranges of r (the later ones are resolved user and group names). */
static void put_ranges(FILE *out, const char *key, const struct ranges *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s%u", i ? "," : key, r->v[i].lo);
		if (r->v[i].hi != r->v[i].lo)
			fprintf(out, "-%u", r->v[i].hi);
	}
}

static void put_names(FILE *out, const char *key, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? "," : key, v[i]);
}

static void put_section(FILE *out, const struct section *s, bool who)
{
	char a[64];

	fprintf(out, "%-16s %-8s", s->label,
		s->protos == (PROTO_TCP | PROTO_UDP) ? "tcp,udp" : proto_str((int)s->protos));
	put_ranges(out, " port=", &s->ports, s->ports.n);
	fputs(" address=", out);
	for (size_t i = 0; i < s->naddrs; i++)
		fprintf(out, "%s%s", i ? "," : "", addr_str(&s->addrs[i], a, sizeof(a)));
	fprintf(out, "%s program=%s", s->naddrs ? "" : "any", s->program ? s->program : "any");
	if (who) {
		if (s->everyone)
			fputs(" user=*", out);
		put_names(out, " user=", s->users, s->nusers);
		put_names(out, " group=", s->groups, s->ngroups);
		put_ranges(out, " uid=", &s->uids, s->uids.n - s->nusers);
		put_ranges(out, " gid=", &s->gids, s->gids.n - s->ngroups);
	}
	fprintf(out, " (%s:%u)\n", s->file, s->line);
}

/* Root sees every section; anyone else the sections that grant to them. */
void report_list(const struct table *t, const struct ident *caller, unsigned unpriv_start)
{
	for (size_t i = 0; i < t->n; i++)
		if (caller->uid == 0 || policy_names(&t->s[i], caller))
			put_section(stdout, &t->s[i], caller->uid == 0);
	printf("%-16s %-8s %u-65535 unless listed above (anyone)\n", "(free)", "tcp,udp",
	       unpriv_start);
}

static const char *reason(const struct grant *g, char *buf, size_t size)
{
	switch (g->why) {
	case GRANT_SECTION:
		snprintf(buf, size, "granted by [%s] (%s:%u)", g->by->label, g->by->file,
			 g->by->line);
		break;
	case GRANT_FREE:
		snprintf(buf, size, "granted: no section lists it and it is unprivileged");
		break;
	case DENY_OWNED:
		snprintf(buf, size, "denied: the table lists this port, but no section grants it "
				    "to this user, address and program");
		break;
	case DENY_PRIVILEGED:
		snprintf(buf, size, "denied: privileged port and no section lists it");
		break;
	}
	return buf;
}

void report_decision(FILE *out, const struct cli *c, const struct grant *g,
		     const struct ident *target, const char *path)
{
	char s[96], r[256], who[96], p[256];

	for (size_t i = 0; i < c->nspecs; i++)
		fprintf(out, "%s name=%s: %s\n", spec_str(&c->specs[i], s, sizeof(s)), g[i].name,
			reason(&g[i], r, sizeof(r)));
	fprintf(out, "command %s as %s gid %u groups", clean(path, p, sizeof(p)),
		ident_str(target, who, sizeof(who)), (unsigned)target->gid);
	for (size_t i = 0; i < target->nsupp; i++)
		fprintf(out, "%s%u", i ? "," : " ", (unsigned)target->supp[i]);
	fputc('\n', out);
}

/* One line per decision: who asked, for whom, which sockets and why, and
 * the command. Every caller string goes through clean(). */
void report_log(int prio, const char *what, const struct cli *c, const struct grant *g,
		const struct ident *caller, const struct ident *target, const char *path)
{
	char socks[1024] = "", s[96], one[160], cw[96], tw[96], cmd[512], arg[128];
	size_t k = 0;

	for (size_t i = 0; i < c->nspecs && k < sizeof(socks); i++) {
		const char *by = g[i].why == GRANT_SECTION ? g[i].by->label
			       : g[i].why == GRANT_FREE    ? "free"
			       : g[i].why == DENY_OWNED    ? "DENIED:owned"
							   : "DENIED:privileged";
		snprintf(one, sizeof(one), "%s%s[%s]", i ? "," : "",
			 spec_str(&c->specs[i], s, sizeof(s)), by);
		k += (size_t)snprintf(socks + k, sizeof(socks) - k, "%s", one);
	}
	clean(path, cmd, sizeof(cmd));
	for (size_t i = 1; c->command[i] && strlen(cmd) + 8 < sizeof(cmd); i++) {
		clean(c->command[i], arg, sizeof(arg));
		strncat(cmd, " ", sizeof(cmd) - strlen(cmd) - 1);
		strncat(cmd, arg, sizeof(cmd) - strlen(cmd) - 1);
	}
	log_line(prio, "%s: caller=%s target=%s sockets=%s command=%s", what,
		 ident_str(caller, cw, sizeof(cw)), target ? ident_str(target, tw, sizeof(tw)) : "-",
		 socks, cmd);
}
