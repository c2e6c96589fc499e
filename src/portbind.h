/* portbind: types and functions shared by the source files.
 * Which file does what:
 *   portbind.c  main(): the privileged protocol, top to bottom
 *   cli.c       argv and SPEC parsing (pure)
 *   parse.c     numbers, ranges and addresses (pure)
 *   table.c     the ownership table: bytes to sections (pure)
 *   sections.c  the table in memory: sections, labels, file names, errors
 *   keys.c      each key's value, token by token (pure)
 *   strmap.c    a string map, for labels and names (pure)
 *   chain.c     opening a file and judging the directories above it, as root
 *   load.c      reading the table files, resolving names
 *   policy.c    the decision (pure: no syscalls, no globals)
 *   ident.c     caller and target identities
 *   sock.c      creating and binding the sockets
 *   priv.c      checking privilege on entry, dropping it, verifying the drop
 *   fds.c       fds 0-2 on entry, placing the sockets before exec
 *   env.c       the command's environment (pure)
 *   exec.c      finding the command as the caller, executing it
 *   report.c    --list, --dry-run, -v and the syslog lines
 *   log.c       error exits, syslog lines and records, escaping
 *   restrict.c  --restrict-net and restrict_net: modes, parsing, merging (pure)
 *   confine.c   applying it after the drop: Landlock and seccomp
 */
#ifndef PORTBIND_H
#define PORTBIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define PORTBIND_VERSION "0.1.0"

/* Exit codes (sysexits.h values, documented in portbind(1)). */
enum {
	EXIT_USAGE = 64,
	EXIT_NOUSER = 67,
	EXIT_BIND = 69,
	EXIT_SYSTEM = 71,
	EXIT_DENIED = 77,
	EXIT_TEMPFAIL = 75,
	EXIT_TABLE = 78,
	EXIT_NOEXEC = 126,
	EXIT_NOTFOUND = 127,
};

#define MAX_SPECS 64
#define MAX_FDNAME 255
#define MAX_LABEL 48
#define MAX_TABLE_LINE 198
#define MAX_TABLE_FILE 1048576 /* 1 MiB */
#define MAX_ID 4294967294u /* (uid_t)-1 means "unchanged" to the kernel: never an id */

enum { PROTO_TCP = 1, PROTO_UDP = 2 };

/* family 0 is the dual-stack wildcard of a SPEC without ADDRESS. */
struct addr {
	int family;
	unsigned char bytes[16];
};

struct spec {
	struct addr addr;
	uint16_t port;
	int proto;
	char name[MAX_FDNAME + 1]; /* empty: not given */
};

struct range {
	uint32_t lo, hi;
};

struct ranges {
	struct range *v;
	size_t n;
};

/* --restrict-net and restrict_net, weakest first: the order is the law
 * by which the strictest of the caller's and the table's wins. */
enum restrict_level { RESTRICT_NONE, RESTRICT_BIND, RESTRICT_CONNECT, RESTRICT_HANDED };

struct restrict_net {
	enum restrict_level level;
	struct ranges ports; /* RESTRICT_CONNECT: the TCP ports it may connect to */
};

enum mode { MODE_RUN, MODE_CHECK, MODE_LIST, MODE_HELP, MODE_VERSION };

struct cli {
	enum mode mode;
	bool inetd, reuseport, allow_new_privs, dry_run, verbose, self_bind;
	int backlog;
	const char *check_file; /* --check FILE */
	const char *config;     /* --config FILE */
	struct spec specs[MAX_SPECS];
	size_t nspecs;
	char *user, *group; /* NULL: not given */
	char **command;     /* argv of COMMAND */
	struct restrict_net restrict_net; /* --restrict-net */
};

enum key { K_PORT, K_PROTOCOL, K_USER, K_GROUP, K_UID, K_GID, K_ADDRESS, K_PROGRAM, K_RESTRICT_NET,
	   K_COUNT };

struct section {
	char label[MAX_LABEL + 1];
	const char *file;
	unsigned line;
	unsigned keys; /* bit per key seen, for duplicates */
	unsigned key_line[K_COUNT];
	struct ranges ports, uids, gids;
	unsigned protos;
	bool everyone;
	char **users, **groups; /* names, resolved into uids / gids by load.c */
	size_t nusers, ngroups;
	struct addr *addrs;
	size_t naddrs;
	char *program;
	dev_t prog_dev;
	ino_t prog_ino;
	struct restrict_net restrict_net; /* the least every grant of it imposes */
};

/* A table file or directory as it was when read: any change to it (an
 * edit, a rename over it, an entry added or removed) changes one of these. */
struct stamp {
	char *path;
	dev_t dev; /* 0 and ino 0: did not exist */
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct strmap {
	struct strmap_slot {
		char *key; /* NULL: empty */
		uint32_t hash, val;
	} *v;
	size_t cap, n;
};

struct table_text { /* a table file's bytes, mapped whole */
	const char *file; /* its name, as messages show it */
	char *buf;        /* "" for an empty file, which is not mapped */
	size_t len;
};

/* The labels of a table being read (sections.c). */
struct labels {
	struct label_slot {
		uint32_t hash, k; /* k: 1 + the label's index in at; 0: empty */
	} *v;
	size_t cap;
	struct label_at {
		uint32_t off, line, text; /* where it is: texts[text].buf + off */
	} *at;
	size_t n, max;
	const struct table_text *texts;
};

struct table {
	struct section *s;
	size_t n, cap;
	/* A launch's requests: if set, the table keeps only the sections
	 * that list the protocol and port of one, and resolves only those
	 * that could grant one (load.c). */
	const struct spec *only;
	size_t nonly;
	/* --check: each section is resolved (resolve, set by load.c) as it
	 * ends, and forgotten, so that a table of any size is judged in the
	 * memory of one section. */
	bool judge_only;
	void (*resolve)(struct table *t, struct section *s);
	struct strmap names[2]; /* user and group names resolved, with their ids */
	size_t sections;        /* read and judged, kept or not */
	size_t nfiles;
	unsigned errors;
	FILE *errout; /* where file:line errors go; NULL: silent */
	char **paths; /* file names the sections point to */
	size_t npaths;
	struct stamp *stamps; /* every file and directory read */
	size_t nstamps;
	/* parser state */
	const char *file;
	unsigned line;
};

/* A user identity: the caller's, or the one the command will run as. */
struct ident {
	uid_t uid;
	gid_t gid;
	gid_t *supp; /* supplementary groups, exactly as setgroups() gets them */
	size_t nsupp;
	char *name; /* user name, or NULL if the uid has none */
};

enum verdict { GRANT_SECTION, GRANT_FREE, DENY_OWNED, DENY_PRIVILEGED };

/* The decision for one SPEC. */
struct grant {
	enum verdict why;
	const struct section *by; /* GRANT_SECTION only */
	const char *name;         /* its LISTEN_FDNAMES entry */
};

/* The command as the log names it: the kernel's path of the file found,
 * whatever detours the caller's path took, and its device and inode. */
struct program {
	char *path;
	dev_t dev;
	ino_t ino;
};

/* parse.c */
bool parse_num(const char *s, size_t len, uint32_t min, uint32_t max, uint32_t *out);
bool parse_range(const char *s, size_t len, uint32_t min, uint32_t max, struct range *out);
bool parse_addr(const char *s, size_t len, int family, struct addr *out);
bool fdname_ok(const char *s, size_t len);
const char *addr_str(const struct addr *a, char *buf, size_t size);
const char *proto_str(int proto);
const char *spec_str(const struct spec *sp, char *buf, size_t size);

/* cli.c */
int cli_parse(struct cli *c, int argc, char **argv, char *err, size_t errsize);
int spec_parse(struct spec *sp, const char *s, size_t len, char *err, size_t errsize);

/* strmap.c */
bool strmap_get(const struct strmap *m, const char *key, uint32_t *val);
int strmap_add(struct strmap *m, const char *key, uint32_t val, uint32_t *old);
uint32_t strmap_hash(const char *key, size_t len);
void strmap_free(struct strmap *m);

/* sections.c */
void table_init(struct table *t, FILE *errout);
void table_error(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool table_reserve(struct table *t, size_t n);
struct section *section_new(struct table *t);
void section_free(struct section *s);
bool labels_init(struct labels *l, const struct table_text *texts, size_t ntexts);
int labels_add(struct labels *l, size_t text, const char *s, size_t len, const char **file,
	       unsigned *line);
void labels_free(struct labels *l);
bool table_keep(struct table *t, char *path);
void table_free(struct table *t);

/* table.c */
void table_parse_texts(struct table *t, const struct table_text *v, size_t n);

/* keys.c */
extern const char *const key_names[K_COUNT]; /* the key names, by enum key */
bool add_token(struct table *t, struct section *sec, enum key k, const char *s, size_t len);
bool ranges_has(const struct ranges *r, uint32_t v);
bool ranges_add(struct ranges *r, struct range x);

/* chain.c */
struct stat;
int chain_open(int at, const char *name, int flags, const char *what);
bool chain_judge(struct table *t, const char *what, int fd, mode_t type, bool roots,
		 struct stat *st);
int chain_parent(struct table *t, const char *owner, const char *path, const char **name);

/* load.c */
void load_table(struct table *t, const char *conf, const char *dir, bool check_owner);

/* stamp.c */
void load_stamp(struct table *t, const char *path, const struct stat *st);
bool load_unchanged(const struct table *t);

/* policy.c */
const struct section *policy_decide(const struct table *t, const struct spec *sp,
				    const struct ident *target, dev_t dev, ino_t ino,
				    unsigned unpriv_start, enum verdict *why);
bool policy_names(const struct section *s, const struct ident *id);
bool policy_allows_addr(const struct section *s, const struct addr *a);
bool policy_lists(const struct section *s, const struct spec *sp);

/* ident.c */
void ident_caller(struct ident *id);
void ident_target(struct ident *id, const struct ident *caller, const char *user,
		  const char *group);
const char *ident_str(const struct ident *id, char *buf, size_t size);

/* sock.c */
int sock_bind(const struct spec *sp, uid_t owner, int backlog, bool reuseport);
unsigned unpriv_port_start(void);

/* priv.c */
void priv_nodump(void);
void priv_check_entry(void);
void priv_drop(const struct ident *target, bool no_new_privs);
void priv_detach_tty(void);
void priv_leave_caller(const struct ident *target);
void priv_as_caller(const struct ident *caller);
void priv_resume(const struct ident *caller);

/* fds.c */
struct fd_ops {
	int (*dup_above)(void *ctx, int fd, int min);           /* F_DUPFD_CLOEXEC */
	int (*dup_to)(void *ctx, int fd, int to, bool cloexec); /* dup2 or dup3 */
	int (*close_from)(void *ctx, int from);                 /* close_range */
	int (*getfd)(void *ctx, int fd);                        /* F_GETFD */
	void *ctx;
};
void fds_sanitize(void);
int fds_move(const struct fd_ops *ops, const int *socks, size_t n, bool inetd, int *keep);
int fds_place(const int *socks, size_t n, bool inetd, int keep);

/* env.c */
char **env_build(char **in, bool secure, bool inetd, const struct grant *g, size_t n, long pid);

/* exec.c */
int cmd_open(const char *cmd, char **path);
_Noreturn void cmd_exec(int fd, const char *path, bool pinned, char **argv, char **envp);

/* kernel.c: what portbind-guard enforces here */
enum kernel { KERNEL_NONE, KERNEL_ELSEWHERE, KERNEL_STALE, KERNEL_UNFIT, KERNEL_ENFORCED };
enum kernel kernel_enforces(struct table *t);
const char *kernel_str(enum kernel k);

/* report.c */
void report_list(const struct table *t, const struct ident *caller, unsigned unpriv_start,
		 enum kernel k);
void report_decision(FILE *out, const struct cli *c, const struct table *t,
		     const struct grant *g, const struct ident *caller, const struct ident *target,
		     const struct program *prog, const char *path, enum kernel k);
void program_identify(int fd, struct program *p);
void report_log(int prio, const char *what, const struct cli *c, const struct grant *g,
		const struct ident *caller, const struct ident *target, const struct program *prog);

/* restrict.c */
int restrict_parse(const char *s, size_t len, struct restrict_net *out);
void restrict_key(struct table *t, struct section *sec, const char *value);
bool restrict_effective(const struct cli *c, const struct grant *g, struct restrict_net *out);
void restrict_put(FILE *out, const char *prefix, const struct restrict_net *r);
void restrict_free(struct restrict_net *r);

/* confine.c */
int confine_abi(void);
int confine_needs(enum restrict_level level);
void confine_net(const struct cli *c, const struct grant *g);

/* log.c */
extern const char *log_ident; /* program name in messages and syslog */
_Noreturn void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_line(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *clean(const char *s, char *buf, size_t size);
void log_escaped(FILE *f, const char *s, size_t n);
size_t log_fit(const char *s, size_t n, size_t room, size_t *width);
void log_record(int prio, const char *what, const char *text);

#endif
