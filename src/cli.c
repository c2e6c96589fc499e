/* cli.c: argv to struct cli. Pure apart from strdup: no syscalls, no
 * globals, no getopt (which permutes argv and reads POSIXLY_CORRECT). */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "portbind.h"

static int fail(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* [ADDRESS:]PORT[/PROTO][=NAME], ADDRESS dotted IPv4 or [IPv6]. */
int spec_parse(struct spec *sp, const char *s, size_t len, char *err, size_t errsize)
{
	const char *eq = memchr(s, '=', len), *slash, *port;
	size_t n = eq ? (size_t)(eq - s) : len;
	char raw[64], shown[128];

	memset(sp, 0, sizeof(*sp));
	snprintf(raw, sizeof(raw), "%.*s", (int)(len < 60 ? len : 60), s);
	clean(raw, shown, sizeof(shown));
	if (eq) {
		size_t nl = len - n - 1;
		if (!fdname_ok(eq + 1, nl))
			return fail(err, errsize, "bad SPEC '%s': NAME must be 1-%d printable "
				    "characters without ':' or ','", shown, MAX_FDNAME);
		memcpy(sp->name, eq + 1, nl);
	}
	sp->proto = PROTO_TCP;
	slash = memchr(s, '/', n);
	if (slash) {
		size_t pl = n - (size_t)(slash - s) - 1;
		if (pl == 3 && memcmp(slash + 1, "tcp", 3) == 0)
			sp->proto = PROTO_TCP;
		else if (pl == 3 && memcmp(slash + 1, "udp", 3) == 0)
			sp->proto = PROTO_UDP;
		else
			return fail(err, errsize, "bad SPEC '%s': protocol must be tcp or udp", shown);
		n = (size_t)(slash - s);
	}
	port = s;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close + 1 >= s + n || close[1] != ':' ||
		    !parse_addr(s + 1, (size_t)(close - s) - 1, AF_INET6, &sp->addr))
			return fail(err, errsize, "bad SPEC '%s': want [IPv6]:PORT with a literal, "
				    "non-v4-mapped IPv6 address", shown);
		port = close + 2;
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon) {
			if (memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
				return fail(err, errsize, "bad SPEC '%s': IPv6 addresses go in brackets", shown);
			if (!parse_addr(s, (size_t)(colon - s), AF_INET, &sp->addr))
				return fail(err, errsize, "bad SPEC '%s': bad IPv4 address", shown);
			port = colon + 1;
		}
	}
	uint32_t p;
	if (!parse_num(port, n - (size_t)(port - s), 1, 65535, &p))
		return fail(err, errsize, "bad SPEC '%s': PORT must be a decimal number 1-65535", shown);
	sp->port = (uint16_t)p;
	return 0;
}

static bool same_socket(const struct spec *a, const struct spec *b)
{
	return a->proto == b->proto && a->port == b->port && a->addr.family == b->addr.family &&
	       memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes)) == 0;
}

static int parse_specs(struct cli *c, const char *list, char *err, size_t errsize)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int rc;

		if (len == 0)
			return fail(err, errsize, "empty SPEC in the SPEC list");
		if (c->nspecs == MAX_SPECS)
			return fail(err, errsize, "too many SPECs (at most %d)", MAX_SPECS);
		rc = spec_parse(&c->specs[c->nspecs], p, len, err, errsize);
		if (rc)
			return rc;
		for (size_t i = 0; i < c->nspecs; i++)
			if (same_socket(&c->specs[i], &c->specs[c->nspecs]))
				return fail(err, errsize, "duplicate SPEC %zu", c->nspecs + 1);
		c->nspecs++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int parse_user(struct cli *c, const char *arg, char *err, size_t errsize)
{
	char *colon;

	c->user = strdup(arg);
	if (!c->user) {
		fail(err, errsize, "out of memory");
		return EXIT_SYSTEM;
	}
	colon = strchr(c->user, ':');
	if (colon) {
		*colon = '\0';
		c->group = colon + 1;
		if (*c->group == '\0' || strchr(c->group, ':'))
			return fail(err, errsize, "bad USER:GROUP");
	}
	if (*c->user == '\0')
		return fail(err, errsize, "bad USER:GROUP");
	return 0;
}

enum opt {
	O_INETD, O_REUSEPORT, O_ALLOW_NEW_PRIVS, O_DRY_RUN, O_VERBOSE, O_BACKLOG, O_CONFIG,
	O_SELF_BIND, O_RESTRICT_NET, O_CHECK, O_LIST, O_HELP, O_VERSION, O_COUNT
};

/* value: 'n' none, 'r' required, 'o' optional (--check [FILE]) */
static const struct {
	const char *name;
	char value;
} opts[O_COUNT] = {
	[O_INETD] = { "--inetd", 'n' },       [O_REUSEPORT] = { "--reuseport", 'n' },
	[O_ALLOW_NEW_PRIVS] = { "--allow-new-privs", 'n' },
	[O_DRY_RUN] = { "--dry-run", 'n' },   [O_VERBOSE] = { "--verbose", 'n' },
	[O_BACKLOG] = { "--backlog", 'r' },   [O_CONFIG] = { "--config", 'r' },
	[O_SELF_BIND] = { "--self-bind", 'n' }, [O_RESTRICT_NET] = { "--restrict-net", 'r' },
	[O_CHECK] = { "--check", 'o' },       [O_LIST] = { "--list", 'n' },
	[O_HELP] = { "--help", 'n' },         [O_VERSION] = { "--version", 'n' },
};

static int find_opt(const char *a, size_t len)
{
	if (strcmp(a, "-v") == 0)
		return O_VERBOSE;
	if (strcmp(a, "-h") == 0)
		return O_HELP;
	for (int k = 0; k < O_COUNT; k++)
		if (strlen(opts[k].name) == len && strncmp(a, opts[k].name, len) == 0)
			return k;
	return -1;
}

/* Options come before SPEC; each may be given once. Returns 0, EXIT_USAGE
 * or EXIT_SYSTEM (out of memory), with the reason in err. */
int cli_parse(struct cli *c, int argc, char **argv, char *err, size_t errsize)
{
	bool seen[O_COUNT] = { false };
	char shown[48];
	int i, rc;

	memset(c, 0, sizeof(*c));
	c->mode = MODE_RUN;
	c->backlog = SOMAXCONN;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '='), *val = NULL;
		int k;

		if (a[0] != '-' || strcmp(a, "--") == 0)
			break;
		if (strncmp(a, "--", 2) == 0 && eq)
			val = eq + 1;
		k = find_opt(a, val ? (size_t)(eq - a) : strlen(a));
		if (k < 0)
			return fail(err, errsize, "unknown option '%s'", clean(a, shown, sizeof(shown)));
		if (seen[k])
			return fail(err, errsize, "option %s given twice", opts[k].name);
		seen[k] = true;
		if (val && opts[k].value == 'n')
			return fail(err, errsize, "option %s takes no value", opts[k].name);
		if (!val && opts[k].value == 'r') {
			if (i + 1 >= argc)
				return fail(err, errsize, "option %s needs a value", opts[k].name);
			val = argv[++i];
		}
		if (!val && opts[k].value == 'o' && i + 1 < argc && argv[i + 1][0] != '-')
			val = argv[++i];
		if (val && *val == '\0')
			return fail(err, errsize, "option %s: empty value", opts[k].name);
		switch (k) {
		case O_INETD: c->inetd = true; break;
		case O_REUSEPORT: c->reuseport = true; break;
		case O_ALLOW_NEW_PRIVS: c->allow_new_privs = true; break;
		case O_DRY_RUN: c->dry_run = true; break;
		case O_VERBOSE: c->verbose = true; break;
		case O_SELF_BIND: c->self_bind = true; break;
		case O_BACKLOG: {
			uint32_t b;
			if (!parse_num(val, strlen(val), 1, 65535, &b))
				return fail(err, errsize, "--backlog must be a decimal number 1-65535");
			c->backlog = (int)b;
			break;
		}
		case O_CONFIG: c->config = val; break;
		case O_RESTRICT_NET:
			rc = restrict_parse(val, strlen(val), &c->restrict_net);
			if (rc < 0) {
				fail(err, errsize, "out of memory");
				return EXIT_SYSTEM;
			}
			if (rc > 0)
				return fail(err, errsize, "--restrict-net: want handed, bind or "
					    "connect=PORT[,PORT|LO-HI...] (1-65535, not overlapping)");
			break;
		case O_CHECK: c->mode = MODE_CHECK; c->check_file = val; break;
		case O_LIST: c->mode = MODE_LIST; break;
		case O_HELP: c->mode = MODE_HELP; break;
		case O_VERSION: c->mode = MODE_VERSION; break;
		}
	}
	if (seen[O_CHECK] + seen[O_LIST] + seen[O_HELP] + seen[O_VERSION] > 1)
		return fail(err, errsize, "--check, --list, --help and --version exclude each other");
	if (c->mode != MODE_RUN) {
		if (seen[O_INETD] || seen[O_REUSEPORT] || seen[O_ALLOW_NEW_PRIVS] ||
		    seen[O_DRY_RUN] || seen[O_BACKLOG] || seen[O_SELF_BIND] || seen[O_RESTRICT_NET])
			return fail(err, errsize, "run options given with --check, --list, --help or --version");
		if (i < argc)
			return fail(err, errsize, "unexpected argument '%s'",
				    clean(argv[i], shown, sizeof(shown)));
		if (c->check_file && c->config)
			return fail(err, errsize, "--check FILE and --config exclude each other");
		return 0;
	}
	if (i >= argc || strcmp(argv[i], "--") == 0)
		return fail(err, errsize, "missing SPEC");
	rc = parse_specs(c, argv[i++], err, errsize);
	if (rc)
		return rc;
	if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0)
		return fail(err, errsize, "options go before SPEC");
	if (i < argc && strcmp(argv[i], "--") != 0) {
		rc = parse_user(c, argv[i++], err, errsize);
		if (rc)
			return rc;
	}
	if (i >= argc || strcmp(argv[i], "--") != 0)
		return fail(err, errsize, "missing '--' before COMMAND");
	if (++i >= argc || argv[i][0] == '\0')
		return fail(err, errsize, "missing COMMAND after '--'");
	c->command = &argv[i];
	if (c->inetd && c->nspecs != 1)
		return fail(err, errsize, "--inetd takes exactly one SPEC");
	if (c->self_bind && (seen[O_INETD] || seen[O_BACKLOG] || seen[O_REUSEPORT]))
		return fail(err, errsize, "--self-bind binds nothing: no --inetd, --backlog or --reuseport");
	/* Landlock and seccomp filters need no_new_privs from an unprivileged process. */
	if (seen[O_RESTRICT_NET] && c->allow_new_privs)
		return fail(err, errsize, "--restrict-net needs no_new_privs: not with --allow-new-privs");
	if (c->self_bind && c->restrict_net.level == RESTRICT_HANDED)
		return fail(err, errsize, "--restrict-net=handed hands over sockets: not with --self-bind");
	return 0;
}
