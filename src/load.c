/* load.c: read the table files safely, then resolve the names in them.
 * Runs as root (euid 0) in the privileged path, so every file is opened
 * without following symlinks and without blocking (a FIFO would hang us),
 * and judged on the open descriptor (fstat), never on a path again. The
 * directories above a table file or a pinned program are judged the same
 * way, from "/" down, and the file is opened from the last one checked. */
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

/* openat(), where running out of fds or memory is the system's failure
 * (exit 71, as anywhere else), not an error in the table. */
static int open_in(int at, const char *name, int flags, const char *what)
{
	int fd = openat(at, name, flags);

	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOMEM))
		die(EXIT_SYSTEM, "%s: %s", what, strerror(errno));
	return fd;
}

/* The open file fd is of type `type` (S_IFREG or S_IFDIR), and, if
 * `roots`, owned by root and writable by root alone; otherwise one error
 * "WHAT: why" (just "why" when WHAT is empty) is counted. */
static bool judge(struct table *t, const char *what, int fd, mode_t type, bool roots,
		  struct stat *st)
{
	const char *why = NULL;

	if (fstat(fd, st) != 0)
		why = strerror(errno);
	else if (S_ISLNK(st->st_mode))
		why = "is a symbolic link (give the real path)";
	else if ((st->st_mode & S_IFMT) != type)
		why = type == S_IFDIR ? "not a directory" : "not a regular file";
	else if (roots && st->st_uid != 0)
		why = "not owned by root";
	else if (roots && (st->st_mode & (S_IWGRP | S_IWOTH)))
		why = "writable by group or others";
	if (why)
		table_error(t, "%s%s%s", what, *what ? ": " : "", why);
	return !why;
}

/* One directory of a chain: NAME opened relative to AT without following
 * a symbolic link (O_PATH opens the link itself, and judge() refuses it),
 * and judged root's alone. DIR, the path so far, names it in the error. */
static int open_dir_step(struct table *t, const char *owner, int at, const char *name,
			 const char *dir)
{
	char what[512], shown[256];
	struct stat st;
	int fd;

	snprintf(what, sizeof(what), "%s%sdirectory %s", owner, *owner ? ": " : "",
		 clean(dir, shown, sizeof(shown)));
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		table_error(t, "%s: want a path without . or ..", what);
		return -1;
	}
	fd = open_in(at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, what);
	if (fd < 0)
		table_error(t, "%s: %s", what, strerror(errno));
	else if (!judge(t, what, fd, S_IFDIR, true, &st)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Whoever may write a directory above a file may rename, remove or replace
 * the file, whatever its own owner and mode. So every directory from "/"
 * down to PATH's last component must be root's alone, judged on a
 * descriptor opened relative to the one above it. A sticky directory that
 * others may write (/tmp) is refused too, deliberately: the sticky bit
 * keeps them from renaming or removing root's entries, not from taking a
 * name that is missing (portbind.d is optional; a table file may not exist
 * yet) with an entry of their own, which rejects the table for everyone,
 * or, where fs.protected_hardlinks is 0, with a hard link to any root-owned
 * file, which passes every check.
 * Returns a descriptor of the last directory, to open *name (PATH's last
 * component) from: the file read is the file in the directories checked,
 * with no second lookup of the path. Or counts one error, prefixed with
 * OWNER ("program /x", or "" for a table file), and returns -1. */
static int open_parent(struct table *t, const char *owner, const char *path, const char **name)
{
	const char *last = strrchr(path, '/');
	char *dirs, *p, *slash;
	int fd, next;

	if (path[0] != '/' || !last[1]) {
		table_error(t, "%s%swant an absolute path to a file", owner, *owner ? ": " : "");
		return -1;
	}
	if (!(dirs = strndup(path, (size_t)(last - path) + 1)))
		die(EXIT_SYSTEM, "out of memory");
	fd = open_dir_step(t, owner, AT_FDCWD, "/", "/");
	for (p = dirs + 1; fd >= 0 && (slash = strchr(p, '/')); p = slash + 1) {
		if (slash == p)
			continue; /* "//" */
		*slash = '\0';
		next = open_dir_step(t, owner, fd, p, dirs);
		*slash = '/';
		close(fd);
		fd = next;
	}
	free(dirs);
	*name = last + 1;
	return fd;
}

/* The table's files, read whole, in order: parsed once all are read. */
struct texts {
	struct table_text *v;
	size_t n;
};

static bool text_add(struct texts *x, const char *shown, char *buf, size_t len)
{
	struct table_text *v = realloc(x->v, (x->n + 1) * sizeof(*v));

	if (!v)
		return false;
	x->v = v;
	x->v[x->n++] = (struct table_text){ shown, buf, len };
	return true;
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
	int fd = open_in(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, shown);
	struct stat st;
	char *buf = (char *)"";
	bool ok;

	t->file = shown;
	t->line = 0;
	if (fd < 0) {
		table_error(t, "cannot open: %s", errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return;
	}
	ok = judge(t, "", fd, S_IFREG, check_owner, &st);
	if (ok)
		load_stamp(t, path, &st);
	if (!ok) {
		/* counted */
	} else if (st.st_size > MAX_TABLE_FILE) {
		table_error(t, "larger than %d bytes", MAX_TABLE_FILE);
	} else if (st.st_size > 0 &&
		   (buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
			       0)) == MAP_FAILED) {
		table_error(t, "mmap: %s", strerror(errno));
	} else if (!text_add(x, shown, buf, (size_t)st.st_size)) {
		table_error(t, "out of memory");
		if (st.st_size > 0)
			munmap(buf, (size_t)st.st_size);
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

/* portbind.d/: *.conf in byte order. Dotfiles and other suffixes (editor
 * backups, package manager leftovers) are ignored; a .conf name with odd
 * bytes is an error rather than something we print raw. */
static void load_dir(struct table *t, struct texts *x, int at, const char *name, const char *dir,
		     bool check_owner)
{
	int fd = open_in(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, dir);
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	DIR *d;

	t->file = dir;
	t->line = 0;
	if (fd < 0) {
		if (errno != ENOENT)
			table_error(t, "cannot open directory: %s", strerror(errno));
		else
			load_stamp(t, dir, NULL);
		return;
	}
	if (!judge(t, "", fd, S_IFDIR, check_owner, &st)) {
		close(fd);
		return;
	}
	load_stamp(t, dir, &st);
	if (!(d = fdopendir(fd))) {
		table_error(t, "fdopendir: %s", strerror(errno));
		close(fd);
		return;
	}
	while ((errno = 0, de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (strspn(de->d_name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789_.@+-") != len) {
			t->file = dir;
			table_error(t, "file name with unexpected characters ending in .conf");
			continue;
		}
		char **v = realloc(names, (n + 1) * sizeof(*v));
		if (!v || !(v[n] = strdup(de->d_name))) {
			names = v ? v : names;
			table_error(t, "out of memory");
			break;
		}
		names = v;
		n++;
	}
	if (errno != 0)
		table_error(t, "readdir: %s", strerror(errno));
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
		load_file(t, x, dirfd(d), names[i], shown, shown, check_owner);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
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
	if ((dir = open_parent(t, what, sec->program, &name)) < 0)
		return;
	fd = open_in(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, what);
	if (fd < 0)
		table_error(t, "%s: %s", what, strerror(errno));
	close(dir);
	if (fd < 0)
		return;
	if (!judge(t, what, fd, S_IFREG, true, &st)) {
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

static void resolve(struct table *t, struct section *sec, struct strmap names[2])
{
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
	return check_owner ? open_parent(t, "", path, name) : AT_FDCWD;
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
	struct strmap names[2] = { { 0 }, { 0 } };
	for (size_t i = 0; i < t->n; i++)
		if (wanted(t, &t->s[i]))
			resolve(t, &t->s[i], names);
	strmap_free(&names[0]);
	strmap_free(&names[1]);
	t->file = NULL;
}
