/* report.c: what portbind tells people: --list, --dry-run and -v on
 * stdout/stderr, and the grant and denial records in syslog. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include "portbind.h"

/* Bytes of arguments in one log record at most, escaped: the command line
 * of any usual daemon, but no caller can send megabytes to syslog. */
#define LOG_ARGS_MAX 4096
/* The kernel names a file in one page at most (d_path()), 64 KiB at most. */
#define PROC_PATH_MAX 65536

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

/* Whom the section grants to, as the administrator wrote it. */
static void put_who(FILE *out, const struct section *s)
{
	if (s->everyone)
		fputs(" user=*", out);
	put_names(out, " user=", s->users, s->nusers);
	put_names(out, " group=", s->groups, s->ngroups);
	put_ranges(out, " uid=", &s->uids, s->uids.n - s->nusers);
	put_ranges(out, " gid=", &s->gids, s->gids.n - s->ngroups);
}

static void put_groups(FILE *out, const struct ident *id)
{
	fputs(" groups", out);
	for (size_t i = 0; i < id->nsupp; i++)
		fprintf(out, "%s%u", i ? "," : " ", (unsigned)id->supp[i]);
}

static void put_section(FILE *out, const struct section *s, bool who, enum kernel k)
{
	char a[64];

	fprintf(out, "%-16s %-8s", s->label,
		s->protos == (PROTO_TCP | PROTO_UDP) ? "tcp,udp" : proto_str((int)s->protos));
	put_ranges(out, " port=", &s->ports, s->ports.n);
	fputs(" address=", out);
	for (size_t i = 0; i < s->naddrs; i++)
		fprintf(out, "%s%s", i ? "," : "", addr_str(&s->addrs[i], a, sizeof(a)));
	fprintf(out, "%s program=%s", s->naddrs ? "" : "any", s->program ? s->program : "any");
	if (who)
		put_who(out, s);
	restrict_put(out, " restrict_net=", &s->restrict_net);
	fprintf(out, " kernel=%s (%s:%u)\n", k == KERNEL_ENFORCED ? "yes" : "no", s->file, s->line);
}

/* Root sees every section; anyone else the sections that grant to them.
 * kernel=yes: portbind-guard enforces the grant for every bind() too. */
void report_list(const struct table *t, const struct ident *caller, unsigned unpriv_start,
		 enum kernel k)
{
	for (size_t i = 0; i < t->n; i++)
		if (caller->uid == 0 || policy_names(&t->s[i], caller))
			put_section(stdout, &t->s[i], caller->uid == 0, k);
	printf("%-16s %-8s %u-65535 unless listed above (anyone)\n", "(free)", "tcp,udp",
	       unpriv_start);
	printf("kernel: %s\n", kernel_str(k));
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

/* Why section s does not grant sp to target and prog, in the order
 * policy_decide() asks; NULL if it grants. */
static const char *why_not(const struct section *s, const struct spec *sp,
			   const struct ident *target, const struct program *prog)
{
	if (!(s->protos & (unsigned)sp->proto))
		return "protocol";
	if (!policy_allows_addr(s, &sp->addr))
		return "address";
	if (!policy_names(s, target))
		return "user or group";
	if (s->program && (s->prog_dev != prog->dev || s->prog_ino != prog->ino))
		return "program";
	return NULL;
}

/* Every section that lists the SPEC's port, and what it asks that the
 * request is not: the whole decision, not only its outcome. A caller other
 * than root sees the sections that name the target (as --list shows them)
 * and only a count of the others: the table may be root's to read alone. */
static void put_sections(FILE *out, const struct table *t, const struct spec *sp,
			 const struct ident *target, const struct program *prog, const char *path,
			 bool all)
{
	char a[64], p[256];
	size_t hidden = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct section *s = &t->s[i];
		const char *why;
		if (!ranges_has(&s->ports, sp->port))
			continue;
		if (!all && !policy_names(s, target)) {
			hidden++;
			continue;
		}
		why = why_not(s, sp, target, prog);
		fprintf(out, "  [%s] (%s:%u): %s%s", s->label, s->file, s->line,
			why ? "not granted: " : "grants", why ? why : "");
		if (!why || strcmp(why, "protocol") == 0) {
			fprintf(out, why ? ": lists %s only\n" : "\n",
				proto_str((int)s->protos));
		} else if (strcmp(why, "address") == 0) {
			fputs(": lists", out);
			for (size_t k = 0; k < s->naddrs; k++)
				fprintf(out, " %s", addr_str(&s->addrs[k], a, sizeof(a)));
			fprintf(out, "; not %s\n", sp->addr.family ? addr_str(&sp->addr, a, sizeof(a))
				: "[::] dual-stack (needs no address, or both 0.0.0.0 and ::)");
		} else if (strcmp(why, "user or group") == 0) {
			fputs(": grants", out);
			put_who(out, s);
			fprintf(out, "; not uid %u gid %u", (unsigned)target->uid,
				(unsigned)target->gid);
			put_groups(out, target);
			fputs(target->nsupp ? "\n" : " (none)\n", out);
		} else {
			fprintf(out, ": wants %s (dev %u:%u ino %llu); the command is %s (dev %u:%u ino %llu)\n",
				s->program, major(s->prog_dev), minor(s->prog_dev),
				(unsigned long long)s->prog_ino, clean(path, p, sizeof(p)),
				major(prog->dev), minor(prog->dev), (unsigned long long)prog->ino);
		}
	}
	if (hidden)
		fprintf(out, "  and %zu section(s) that do not name %u: not granted\n", hidden,
			(unsigned)target->uid);
}

/* "restrict-net: MODE", the strictest of the caller's and the granting
 * sections', and whether this kernel can apply it; nothing if none. */
static void put_restrict(FILE *out, const struct cli *c, const struct grant *g)
{
	struct restrict_net r;
	int abi, need;

	if (!restrict_effective(c, g, &r))
		die(EXIT_SYSTEM, "out of memory");
	if (r.level == RESTRICT_NONE)
		return;
	abi = confine_abi();
	need = confine_needs(r.level);
	restrict_put(out, "restrict-net: ", &r);
	fprintf(out, " (needs Landlock ABI %d, this kernel has %d%s)\n", need, abi,
		abi < need ? ": a launch would exit 71" : "");
	restrict_free(&r);
}

void report_decision(FILE *out, const struct cli *c, const struct table *t,
		     const struct grant *g, const struct ident *caller, const struct ident *target,
		     const struct program *prog, const char *path, enum kernel k)
{
	char s[96], r[256], who[96], p[256];

	for (size_t i = 0; i < c->nspecs; i++) {
		fprintf(out, "%s name=%s: %s%s\n", spec_str(&c->specs[i], s, sizeof(s)), g[i].name,
			reason(&g[i], r, sizeof(r)),
			g[i].why != GRANT_SECTION ? "" : k == KERNEL_ENFORCED ? "; kernel: yes"
										 : "; kernel: no");
		put_sections(out, t, &c->specs[i], target, prog, path, caller->uid == 0);
	}
	fprintf(out, "kernel: %s%s\n", kernel_str(k),
		c->self_bind && k != KERNEL_ENFORCED ? "; --self-bind needs it enforced" : "");
	put_restrict(out, c, g);
	fprintf(out, "command %s as %s gid %u", clean(path, p, sizeof(p)),
		ident_str(target, who, sizeof(who)), (unsigned)target->gid);
	put_groups(out, target);
	fputc('\n', out);
}

/* The program as the log names it: the kernel's own path of the file
 * cmd_open() found (readlink of /proc/self/fd/N, so no "/./", "..", symlink
 * or PATH detour of the caller's survives), and its device and inode. The
 * path goes to root's log only, never back to the caller. The kernel
 * cannot name a path longer than a page (ENAMETOOLONG): exit 71 then,
 * never a name the caller wrote. */
void program_identify(int fd, struct program *p)
{
	char link[64];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	p->path = malloc(PROC_PATH_MAX + 1);
	if (!p->path)
		die(EXIT_SYSTEM, "out of memory");
	n = readlink(link, p->path, PROC_PATH_MAX + 1);
	if (n < 0)
		die(EXIT_SYSTEM, "readlink %s: %s", link, strerror(errno));
	if (n > PROC_PATH_MAX)
		die(EXIT_SYSTEM, "readlink %s: longer than %d bytes", link, PROC_PATH_MAX);
	p->path[n] = '\0';
	if (fstat(fd, &st) != 0)
		die(EXIT_SYSTEM, "fstat command: %s", strerror(errno));
	p->dev = st.st_dev;
	p->ino = st.st_ino;
}

static void put_ident(FILE *f, const char *key, const struct ident *id)
{
	fputs(key, f);
	if (!id->name) {
		fprintf(f, "#%u", (unsigned)id->uid);
		return;
	}
	log_escaped(f, id->name, strlen(id->name));
	fprintf(f, "(%u)", (unsigned)id->uid);
}

/* " argK=VALUE" for each argument of the command, argv[0] included, while
 * LOG_ARGS_MAX lasts; the first that does not fit whole is " argK-cut=" with
 * as much of it as fits, and what is left is counted, never dropped
 * silently. */
static void put_args(FILE *f, char **argv)
{
	size_t room = LOG_ARGS_MAX, k, n = 0, w, left, nleft = 1;
	char key[48];

	for (k = 0; argv[k]; k++) {
		size_t kl = (size_t)snprintf(key, sizeof(key), " arg%zu=", k);
		n = strlen(argv[k]);
		if (kl > room || log_fit(argv[k], n, room - kl, &w) < n)
			break;
		fputs(key, f);
		log_escaped(f, argv[k], n);
		room -= kl + w;
	}
	if (!argv[k])
		return;
	left = n;
	if ((size_t)snprintf(key, sizeof(key), " arg%zu-cut=", k) <= room) {
		size_t fit = log_fit(argv[k], n, room - strlen(key), &w);
		fputs(key, f);
		log_escaped(f, argv[k], fit);
		left -= fit;
	}
	for (k++; argv[k]; k++, nleft++)
		left += strlen(argv[k]);
	fprintf(f, " (%zu more bytes in %zu argument%s not logged)", left, nleft,
		nleft == 1 ? "" : "s");
}

/* One record per decision: who asked, for whom, every socket with its
 * decision, the program and its arguments, as log_record() lines. Every
 * caller string is escaped by log_escaped(); only arguments are shortened. */
void report_log(int prio, const char *what, const struct cli *c, const struct grant *g,
		const struct ident *caller, const struct ident *target, const struct program *prog)
{
	char *text = NULL, s[96];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct restrict_net rn;
	bool bad;

	if (!f)
		die(EXIT_SYSTEM, "log record: %s", strerror(errno));
	put_ident(f, "caller=", caller);
	put_ident(f, " target=", target);
	for (size_t i = 0; i < c->nspecs; i++)
		fprintf(f, " socket=%s[%s]", spec_str(&c->specs[i], s, sizeof(s)),
			g[i].why == GRANT_SECTION ? g[i].by->label
			: g[i].why == GRANT_FREE  ? "free"
			: g[i].why == DENY_OWNED  ? "DENIED:owned"
						  : "DENIED:privileged");
	if (!restrict_effective(c, g, &rn))
		die(EXIT_SYSTEM, "out of memory");
	restrict_put(f, " restrict_net=", &rn);
	restrict_free(&rn);
	fputs(" program=", f);
	log_escaped(f, prog->path, strlen(prog->path));
	fprintf(f, " dev=%u:%u ino=%llu", major(prog->dev), minor(prog->dev),
		(unsigned long long)prog->ino);
	put_args(f, c->command);
	bad = ferror(f);
	if (fclose(f) != 0 || bad)
		die(EXIT_SYSTEM, "log record: %s", strerror(errno));
	log_record(prio, what, text);
	free(text);
}
