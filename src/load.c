/* load.c: read the table files safely, then resolve the names in them.
 * Runs as root (euid 0) in the privileged path: every file and directory
 * is opened and judged by chain.c's rules. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portbind.h"

/* The table's files, mapped whole, in order: parsed once all are read. */
struct texts {
	struct table_text *v;
	size_t n;
};

static void text_add(struct texts *x, const char *shown, char *buf, size_t len)
{
	struct table_text *v = realloc(x->v, (x->n + 1) * sizeof(*v));

	if (!v)
		die(EXIT_SYSTEM, "out of memory");
	x->v = v;
	x->v[x->n++] = (struct table_text){ shown, buf, len };
}

/* A table file is mapped rather than read: its pages are the page cache's,
 * shared with every other launch, mapped at once (MAP_POPULATE) instead of
 * being copied into fresh memory one page fault at a time. The mapping is
 * private and read-only, and the parser reads only the len bytes of it.
 * Table files are root's alone (judged above, on this descriptor): a file
 * shortened while it is being read, which only root can do, would end the
 * launch with SIGBUS, before anything was bound. */
static void load_file(struct table *t, struct texts *x, int dirfd, const char *name,
		      const char *path, const char *shown, bool check_owner)
{
	int fd = chain_open(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, shown);
	struct stat st;
	bool ok;

	t->file = shown;
	t->line = 0;
	if (fd < 0) {
		table_error(t, "cannot open: %s", errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return;
	}
	ok = chain_judge(t, "", fd, S_IFREG, check_owner, &st);
	if (ok)
		load_stamp(t, path, &st);
	if (!ok) {
		/* counted */
	} else if (st.st_size > MAX_TABLE_FILE) {
		table_error(t, "larger than %d bytes", MAX_TABLE_FILE);
	} else {
		size_t len = (size_t)st.st_size;
		char *buf = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
				: (char *)"";
		/* Out of memory is the system's failure, as in chain_open(). */
		if (buf == MAP_FAILED && (errno == ENOMEM || errno == EAGAIN))
			die(EXIT_SYSTEM, "out of memory");
		if (buf == MAP_FAILED)
			table_error(t, "mmap: %s", strerror(errno));
		else
			text_add(x, shown, buf, len);
	}
	t->file = shown;
	t->line = 0;
	if (close(fd) != 0)
		table_error(t, "close: %s", strerror(errno));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One name in portbind.d: a copy of it added to *names if it is *.conf,
 * and not a dotfile; other suffixes (editor backups, package manager
 * leftovers) are ignored, and a .conf name with odd bytes is an error
 * rather than something we print raw. */
static void dir_entry(struct table *t, const char *dir, const char *name, char ***names, size_t *n)
{
	size_t len = strlen(name);
	char **v;

	if (name[0] == '.' || len < 6 || strcmp(name + len - 5, ".conf") != 0)
		return;
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_.@+-") != len) {
		t->file = dir;
		table_error(t, "file name with unexpected characters ending in .conf");
		return;
	}
	if (!(v = realloc(*names, (*n + 1) * sizeof(*v))) || !(v[*n] = strdup(name)))
		die(EXIT_SYSTEM, "out of memory");
	*names = v;
	++*n;
}

/* portbind.d/: *.conf in byte order, read from the directory's descriptor
 * with getdents64(2) (no DIR stream: it would judge the descriptor again). */
static void load_dir(struct table *t, struct texts *x, int at, const char *name, const char *dir,
		     bool check_owner)
{
	int fd = chain_open(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, dir);
	union {
		struct dirent64 align;
		char bytes[8192];
	} buf;
	struct stat st;
	char **names = NULL;
	size_t n = 0;
	ssize_t got;

	t->file = dir;
	t->line = 0;
	if (fd < 0) {
		if (errno != ENOENT)
			table_error(t, "cannot open directory: %s", strerror(errno));
		else
			load_stamp(t, dir, NULL);
		return;
	}
	if (!chain_judge(t, "", fd, S_IFDIR, check_owner, &st)) {
		close(fd);
		return;
	}
	load_stamp(t, dir, &st);
	while ((got = getdents64(fd, buf.bytes, sizeof(buf.bytes))) > 0) {
		for (size_t off = 0; off < (size_t)got;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf.bytes + off);
			off += de->d_reclen;
			dir_entry(t, dir, de->d_name, &names, &n);
		}
	}
	if (got < 0)
		table_error(t, "getdents64: %s", strerror(errno));
	if (n > 1) /* names is NULL for an empty directory */
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char *shown = malloc(strlen(dir) + strlen(names[i]) + 2);
		if (!shown) {
			table_error(t, "out of memory");
			break;
		}
		sprintf(shown, "%s/%s", dir, names[i]);
		if (!table_keep(t, shown))
			break;
		load_file(t, x, fd, names[i], shown, shown, check_owner);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	t->file = dir;
	t->line = 0;
	if (close(fd) != 0)
		table_error(t, "close: %s", strerror(errno));
}

/* The pinned program and every directory above it must be root's alone:
 * otherwise a user could swap the file the table trusts. */
static void check_program(struct table *t, struct section *sec)
{
	char what[MAX_TABLE_LINE + 16];
	const char *name;
	struct stat st;
	int dir, fd;

	snprintf(what, sizeof(what), "program %s", sec->program);
	if ((dir = chain_parent(t, what, sec->program, &name)) < 0)
		return;
	fd = chain_open(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, what);
	if (fd < 0)
		table_error(t, "%s: %s", what, strerror(errno));
	close(dir);
	if (fd < 0)
		return;
	if (!chain_judge(t, what, fd, S_IFREG, true, &st)) {
		/* counted */
	} else if (!(st.st_mode & 0111)) {
		table_error(t, "%s: not executable", what);
	} else {
		sec->prog_dev = st.st_dev;
		sec->prog_ino = st.st_ino;
	}
	close(fd);
}

/* The id of a user (group) name, each looked up once however many
 * sections name it. getpwnam/getgrnam return NULL both for "no such name"
 * and for a failed lookup; both are errors here, never a guess. */
static bool name_id(struct table *t, struct strmap *seen, bool user, const char *name,
		    uint32_t *id)
{
	uint32_t v;

	/* v is the id + 1, 0 for none: ids are at most MAX_ID (2^32 - 2). */
	if (!strmap_get(seen, name, &v)) {
		struct passwd *pw = user ? getpwnam(name) : NULL;
		struct group *gr = user ? NULL : getgrnam(name);
		uint32_t found = pw ? (uint32_t)pw->pw_uid : gr ? (uint32_t)gr->gr_gid : 0;
		v = (pw || gr) && found <= MAX_ID ? found + 1 : 0;
		if (strmap_add(seen, name, v, &v) < 0)
			die(EXIT_SYSTEM, "out of memory");
	}
	if (!v)
		table_error(t, "unknown %s '%s'", user ? "user" : "group", name);
	*id = (uint32_t)(v - 1);
	return v != 0;
}

static void resolve(struct table *t, struct section *sec)
{
	struct strmap *names = t->names;
	uint32_t id;

	t->file = sec->file;
	t->line = sec->key_line[K_USER];
	for (size_t i = 0; i < sec->nusers; i++)
		if (name_id(t, &names[0], true, sec->users[i], &id) &&
		    !ranges_add(&sec->uids, (struct range){ id, id }))
			table_error(t, "out of memory");
	t->line = sec->key_line[K_GROUP];
	for (size_t i = 0; i < sec->ngroups; i++)
		if (name_id(t, &names[1], false, sec->groups[i], &id) &&
		    !ranges_add(&sec->gids, (struct range){ id, id }))
			table_error(t, "out of memory");
	t->line = sec->key_line[K_PROGRAM];
	if (sec->program)
		check_program(t, sec);
}

/* Could the section grant one of the requests t->only (all if none are
 * given)? policy_decide() asks the same first, before any name. */
static bool wanted(const struct table *t, const struct section *s)
{
	for (size_t i = 0; t->only && i < t->nonly; i++) {
		if (policy_lists(s, &t->only[i]) && policy_allows_addr(s, &t->only[i].addr))
			return true;
	}
	return !t->only;
}

/* Where to open PATH from: its checked parent directory (-1 after an
 * error), or for a draft, which no ownership rule applies to, the path as
 * given. Sets *name to what to open there. */
static int parent_of(struct table *t, const char *path, bool check_owner, const char **name)
{
	*name = path;
	return check_owner ? chain_parent(t, "", path, name) : AT_FDCWD;
}

/* The whole table: conf, then dir (may be NULL) if it exists. */
void load_table(struct table *t, const char *conf, const char *dir, bool check_owner)
{
	/* A draft's name is the caller's: escaped in every message. */
	size_t size = 4 * strlen(conf) + 8;
	char *shown = malloc(size);
	struct texts x = { NULL, 0 };
	const char *name;
	int at;

	if (!shown)
		die(EXIT_SYSTEM, "out of memory");
	clean(conf, shown, size);
	if (!table_keep(t, shown))
		die(EXIT_SYSTEM, "out of memory");
	t->resolve = resolve;
	t->file = shown;
	t->line = 0;
	if ((at = parent_of(t, conf, check_owner, &name)) != -1)
		load_file(t, &x, at, name, conf, shown, check_owner);
	if (dir) {
		/* portbind.d beside portbind.conf (as installed): in the
		 * directory just checked, not walked to a second time. */
		size_t n = (size_t)(name - conf);
		t->file = dir;
		if (at >= 0 && strncmp(dir, conf, n) == 0 && !strchr(dir + n, '/')) {
			name = dir + n;
		} else {
			if (at >= 0)
				close(at);
			at = parent_of(t, dir, check_owner, &name);
		}
		if (at != -1)
			load_dir(t, &x, at, name, dir, check_owner);
	}
	if (at >= 0)
		close(at);
	table_parse_texts(t, x.v, x.n);
	for (size_t i = 0; i < x.n; i++)
		if (x.v[i].len > 0 && munmap(x.v[i].buf, x.v[i].len) != 0)
			die(EXIT_SYSTEM, "munmap: %s", strerror(errno));
	free(x.v);
	for (size_t i = 0; !t->judge_only && i < t->n; i++)
		if (wanted(t, &t->s[i]))
			resolve(t, &t->s[i]);
	strmap_free(&t->names[0]);
	strmap_free(&t->names[1]);
	t->file = NULL;
}
