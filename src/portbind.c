/* portbind: bind the sockets the ownership table grants, drop every
 * privilege, and execute the command in place with the sockets on fd 3...
 *
 * Installed setuid root, portbind lets a local user do nothing they could not
 * do without it, except bind the (protocol, address, port) sockets that the
 * ownership table grants to them -- and the command it starts never holds
 * more privilege than the identity it runs as.
 *
 * main() is the protocol, read top to bottom: sanitize fds, parse argv, find
 * the command as the caller, load the table, authorize every request, bind,
 * drop, verify, leave a root caller's session behind, place the fds, build
 * the environment, log, exec. Every failure exits where it happens;
 * sockets bound so far close with the process. */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "portbind.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

extern char **environ;

static void usage(FILE *out)
{
	fputs("usage: portbind [OPTIONS] SPEC[,SPEC...] [USER[:GROUP]] -- COMMAND [ARG...]\n"
	      "       portbind --check [FILE] | --list | --help | --version\n"
	      "Bind the sockets the ownership table grants, drop all privilege, exec COMMAND\n"
	      "with the sockets on fd 3... (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES).\n"
	      "SPEC is [ADDRESS:]PORT[/tcp|/udp][=NAME]; ADDRESS is a.b.c.d or [IPv6].\n"
	      "  --inetd            one SPEC, put on fd 0, no LISTEN_* variables\n"
	      "  --backlog N        listen backlog of TCP sockets (default 4096)\n"
	      "  --reuseport        set SO_REUSEPORT\n"
	      "  --allow-new-privs  leave no_new_privs off\n"
	      "  --restrict-net=MODE  after the drop, confine COMMAND's network (Landlock,\n"
	      "                     seccomp): handed (no new IPv4/IPv6/packet socket, no\n"
	      "                     TCP bind or connect), connect=PORT[,PORT|LO-HI...] (no\n"
	      "                     TCP bind; TCP connect to these ports only) or bind (no\n"
	      "                     TCP bind); UDP stays open under connect= and bind; the\n"
	      "                     table's restrict_net may impose a stricter mode\n"
	      "  --self-bind        bind nothing: COMMAND binds the SPECs itself, which\n"
	      "                     portbind-guard must enforce (see portbind-guard(8))\n"
	      "  --dry-run          decide and explain; bind and run nothing\n"
	      "  --check [FILE]     validate the table (or FILE, as a draft)\n"
	      "  --list             list the ports you may bind\n"
	      "  --config FILE      use FILE as the table (root only)\n"
	      "  -v, --verbose      explain the decision on stderr\n"
	      "  -h, --help         this text;  --version  the version\n"
	      "Exit: 64 usage, 67 unknown user/group, 69 bind failed or (--self-bind) no\n"
	      "current portbind-guard, 71 system or privilege failure or a kernel\n"
	      "without the Landlock ABI --restrict-net needs, 75 table changed meanwhile,\n"
	      "77 denied, 78 bad table, 126/127 command not executable/not found.\n"
	      "Table: " SYSCONFDIR "/portbind.conf and " SYSCONFDIR "/portbind.d/*.conf;\n"
	      "see portbind(1) and portbind.conf(5).\n",
	      out);
}

/* --check FILE: a draft, possibly the caller's own file, so it is read with
 * no privilege at all and only its content is judged. */
static _Noreturn void check_draft(const char *file, const struct ident *caller)
{
	struct table t;

	if (geteuid() == 0)
		priv_drop(caller, true);
	table_init(&t, stderr);
	t.judge_only = true;
	load_table(&t, file, NULL, false);
	if (t.errors)
		die(EXIT_TABLE, "%s: %u error(s)", t.paths[0], t.errors);
	printf("portbind: table OK: %zu section(s) in %zu file(s)\n", t.sections, t.nfiles);
	exit(0);
}

/* The installed table (or root's --config FILE), whole, or exit 78. Table
 * errors are details of root's file: root sees them, others a count. */
static void read_table(struct table *t, const struct cli *c, const struct ident *caller)
{
	table_init(t, caller->uid == 0 ? stderr : NULL);
	/* A launch resolves the names and programs only of the sections that
	 * could grant its SPECs; comparing with the kernel's copy needs all. */
	if (c->mode == MODE_RUN && !c->self_bind && !c->dry_run && !c->verbose) {
		t->only = c->specs;
		t->nonly = c->nspecs;
	}
	t->judge_only = c->mode == MODE_CHECK;
	load_table(t, c->config ? c->config : SYSCONFDIR "/portbind.conf",
		   c->config ? NULL : SYSCONFDIR "/portbind.d", true);
	if (t->errors)
		die(EXIT_TABLE, "ownership table rejected: %u error(s)%s", t->errors,
		    caller->uid == 0 ? "" : " (root can see them with portbind --check)");
}

/* The decision for every SPEC; nothing is bound unless all are granted. */
static bool authorize(const struct cli *c, const struct table *t, const struct ident *target,
		      const struct program *prog, struct grant *g, bool *pinned)
{
	unsigned unpriv = unpriv_port_start();
	bool ok = true;

	*pinned = false;
	for (size_t i = 0; i < c->nspecs; i++) {
		g[i].by = policy_decide(t, &c->specs[i], target, prog->dev, prog->ino, unpriv,
					&g[i].why);
		ok = ok && (g[i].why == GRANT_SECTION || g[i].why == GRANT_FREE);
		*pinned = *pinned || (g[i].by && g[i].by->program);
		g[i].name = c->specs[i].name[0] ? c->specs[i].name
			    : g[i].by		? g[i].by->label
						: "unknown";
	}
	return ok;
}

int main(int argc, char **argv)
{
	static struct cli c;
	struct table t;
	struct ident caller, target;
	struct program prog;
	struct grant g[MAX_SPECS];
	int socks[MAX_SPECS], cmd_fd;
	char err[256], *path, **envp;
	enum kernel kern = KERNEL_NONE;
	size_t nsocks;
	bool pinned, ok;
	int rc;

	priv_nodump();
	fds_sanitize();
	if (argc < 1 || !argv[0])
		die(EXIT_USAGE, "empty argument list");
	rc = cli_parse(&c, argc, argv, err, sizeof(err));
	if (rc != 0)
		die(rc, "%s%s", err, rc == EXIT_USAGE ? " (see portbind --help)" : "");
	if (c.mode == MODE_HELP) {
		usage(stdout);
		return 0;
	}
	if (c.mode == MODE_VERSION) {
		puts("portbind " PORTBIND_VERSION);
		return 0;
	}
	ident_caller(&caller);
	if (c.mode == MODE_CHECK && c.check_file)
		check_draft(c.check_file, &caller);
	if (c.config && caller.uid != 0)
		die(EXIT_DENIED, "--config is for root only");
	priv_check_entry();
	if (c.mode == MODE_CHECK || c.mode == MODE_LIST) {
		read_table(&t, &c, &caller);
		if (c.mode == MODE_LIST)
			report_list(&t, &caller, unpriv_port_start(), kernel_enforces(&t));
		else
			printf("portbind: table OK: %zu section(s) in %zu file(s)\n", t.sections, t.nfiles);
		return 0;
	}

	/* Everything whose time the caller controls (name lookups, a PATH of
	 * slow symlink chains) happens before the table is read, so a grant
	 * root removes is not honoured from a table read long before. */
	ident_target(&target, &caller, c.user, c.group);
	priv_as_caller(&caller);
	cmd_fd = cmd_open(c.command[0], &path);
	priv_resume(&caller);
	program_identify(cmd_fd, &prog);
	read_table(&t, &c, &caller);
	ok = authorize(&c, &t, &target, &prog, g, &pinned);
	if (c.self_bind || c.dry_run || c.verbose)
		kern = kernel_enforces(&t);
	if (!ok) {
		if (c.dry_run || c.verbose)
			report_decision(c.dry_run ? stdout : stderr, &c, &t, g, &caller, &target,
					&prog, path, kern);
		if (!c.dry_run)
			report_log(LOG_WARNING, "denied", &c, g, &caller, &target, &prog);
		die(EXIT_DENIED, "permission denied%s",
		    c.dry_run ? "" : ": run with --dry-run to see why");
	}
	if (c.dry_run) {
		report_decision(stdout, &c, &t, g, &caller, &target, &prog, path, kern);
		return 0;
	}
	/* --self-bind: the command binds for itself, which only a guard
	 * enforcing this very table allows; without one it could not. */
	if (c.self_bind && kern != KERNEL_ENFORCED)
		die(EXIT_BIND, "--self-bind: the ownership table is %s; nothing was started",
		    kernel_str(kern));

	nsocks = c.self_bind ? 0 : c.nspecs;
	for (size_t i = 0; i < nsocks; i++)
		socks[i] = sock_bind(&c.specs[i], target.uid, c.backlog, c.reuseport);
	/* The caller can still stop us between the read and the binds
	 * (SIGSTOP): the grant stands only on the table as it is now. */
	if (!load_unchanged(&t))
		die(EXIT_TEMPFAIL, "the ownership table changed while portbind ran: "
				   "nothing was granted, run it again");
	if (caller.uid == 0)
		priv_detach_tty();
	priv_drop(&target, !c.allow_new_privs);
	if (caller.uid == 0)
		priv_leave_caller(&target);
	confine_net(&c, g);
	if (c.verbose)
		report_decision(stderr, &c, &t, g, &caller, &target, &prog, path, kern);
	cmd_fd = fds_place(socks, nsocks, c.inetd, pinned ? cmd_fd : -1);
	envp = env_build(environ, caller.uid != 0, c.inetd || c.self_bind, g, nsocks,
			 (long)getpid());
	if (!envp)
		die(EXIT_SYSTEM, "out of memory");
	report_log(LOG_NOTICE, c.self_bind ? "granted to bind itself" : "granted", &c, g, &caller,
		   &target, &prog);
	cmd_exec(cmd_fd, path, pinned, c.command, envp);
}
