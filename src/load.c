/* load.c: read the table files safely, then resolve the names in them.
 * Runs as root (euid 0) in the privileged path, so every file is opened
 * without following symlinks and without blocking (a FIFO would hang us),
 * and judged on the open descriptor (fstat), never on a path again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portbind.h"

/* Remember path as st describes it (NULL: it did not exist). */
static void stamp(struct table *t, const char *path, const struct stat *st)
{
	struct stamp *v = realloc(t->stamps, (t->nstamps + 1) * sizeof(*v));
	char *copy = v ? strdup(path) : NULL;

	t->stamps = v ? v : t->stamps;
	if (!copy) {
		table_error(t, "out of memory");
		return;
	}
	v += t->nstamps++;
	memset(v, 0, sizeof(*v));
	v->path = copy;
	if (st) {
		v->dev = st->st_dev;
		v->ino = st->st_ino;
		v->size = st->st_size;
		v->mtim = st->st_mtim;
		v->ctim = st->st_ctim;
	}
}

/* Is every file and directory of the table still as it was read? Any
 * change to a file's content or mode changes its ctime, a rename over it
 * its inode, and an entry added to or removed from portbind.d the
 * directory's mtime. */
bool load_unchanged(const struct table *t)
{
	for (size_t i = 0; i < t->nstamps; i++) {
		const struct stamp *p = &t->stamps[i];
		struct stat st;
		if (lstat(p->path, &st) != 0) {
			if (errno == ENOENT && p->dev == 0 && p->ino == 0)
				continue;
			return false;
		}
		if (st.st_dev != p->dev || st.st_ino != p->ino || st.st_size != p->size ||
		    st.st_mtim.tv_sec != p->mtim.tv_sec || st.st_mtim.tv_nsec != p->mtim.tv_nsec ||
		    st.st_ctim.tv_sec != p->ctim.tv_sec || st.st_ctim.tv_nsec != p->ctim.tv_nsec)
			return false;
	}
	return true;
}

/* Root-owned and writable by root alone, or an error is counted. */
static bool owner_ok(struct table *t, const struct stat *st)
{
	if (st->st_uid != 0) {
		table_error(t, "not owned by root");
		return false;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		table_error(t, "writable by group or others");
		return false;
	}
	return true;
}

static void load_file(struct table *t, int dirfd, const char *name, const char *path,
		      const char *shown, bool check_owner)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	t->file = shown;
	t->line = 0;
	if (fd < 0) {
		table_error(t, "cannot open: %s", errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return;
	}
	rc = fstat(fd, &st);
	if (rc == 0)
		stamp(t, path, &st);
	if (rc != 0) {
		table_error(t, "cannot stat: %s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		table_error(t, "not a regular file");
	} else if (check_owner && !owner_ok(t, &st)) {
		/* counted */
	} else if (st.st_size > MAX_TABLE_FILE) {
		table_error(t, "larger than %d bytes", MAX_TABLE_FILE);
	} else if (!(buf = malloc((size_t)st.st_size + 1))) {
		table_error(t, "out of memory");
	} else {
		size_t cap = (size_t)st.st_size + 1;
		ssize_t n;
		while ((n = read(fd, buf + len, cap - len)) > 0 && (len += (size_t)n) < cap)
			;
		if (n < 0)
			table_error(t, "read: %s", strerror(errno));
		else if (len == cap)
			table_error(t, "file grew while being read");
		else
			table_parse(t, shown, buf, len);
	}
	free(buf);
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
static void load_dir(struct table *t, const char *dir, bool check_owner)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	int rc;

	t->file = dir;
	t->line = 0;
	if (fd < 0) {
		if (errno != ENOENT)
			table_error(t, "cannot open directory: %s", strerror(errno));
		else
			stamp(t, dir, NULL);
		return;
	}
	rc = fstat(fd, &st);
	if (rc == 0)
		stamp(t, dir, &st);
	if (rc != 0 || !S_ISDIR(st.st_mode)) {
		table_error(t, "not a directory");
		close(fd);
		return;
	}
	if ((check_owner && !owner_ok(t, &st)) || !(d = fdopendir(fd))) {
		if (t->errors == 0)
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
		load_file(t, dirfd(d), names[i], shown, shown, check_owner);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

/* The pinned program and every directory above it must be root's alone:
 * otherwise a user could swap the file the table trusts. lstat on each
 * prefix, so a symlink anywhere is refused rather than followed. */
static void check_program(struct table *t, struct section *sec)
{
	char *p = sec->program, *slash = p;
	struct stat st;

	for (;;) {
		slash = strchr(slash + 1, '/');
		if (slash)
			*slash = '\0';
		int rc = lstat(*p ? p : "/", &st);
		const char *what = slash ? "directory" : "file";
		if (rc != 0)
			table_error(t, "program %s: %s", p, strerror(errno));
		else if (S_ISLNK(st.st_mode))
			table_error(t, "program %s: is a symbolic link (give the real path)", p);
		else if (slash ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
			table_error(t, "program %s: not a %s", p, what);
		else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
			table_error(t, "program %s: %s not root's alone (owner or mode)", p, what);
		else if (!slash && !(st.st_mode & 0111))
			table_error(t, "program %s: not executable", p);
		if (!slash)
			break;
		*slash = '/';
		if (rc != 0)
			return;
	}
	sec->prog_dev = st.st_dev;
	sec->prog_ino = st.st_ino;
}

/* getpwnam/getgrnam return NULL both for "no such name" and for a failed
 * lookup; both are errors here, never a guess. */
static void resolve(struct table *t, struct section *sec)
{
	t->file = sec->file;
	t->line = sec->key_line[K_USER];
	for (size_t i = 0; i < sec->nusers; i++) {
		struct passwd *pw = getpwnam(sec->users[i]);
		if (!pw)
			table_error(t, "unknown user '%s'", sec->users[i]);
		else if (!ranges_add(&sec->uids, (struct range){ pw->pw_uid, pw->pw_uid }))
			table_error(t, "out of memory");
	}
	t->line = sec->key_line[K_GROUP];
	for (size_t i = 0; i < sec->ngroups; i++) {
		struct group *gr = getgrnam(sec->groups[i]);
		if (!gr)
			table_error(t, "unknown group '%s'", sec->groups[i]);
		else if (!ranges_add(&sec->gids, (struct range){ gr->gr_gid, gr->gr_gid }))
			table_error(t, "out of memory");
	}
	t->line = sec->key_line[K_PROGRAM];
	if (sec->program)
		check_program(t, sec);
}

/* The whole table: conf, then dir (may be NULL) if it exists. */
void load_table(struct table *t, const char *conf, const char *dir, bool check_owner)
{
	/* A draft's name is the caller's: escaped in every message. */
	size_t size = 4 * strlen(conf) + 8;
	char *shown = malloc(size);

	if (!shown)
		die(EXIT_SYSTEM, "out of memory");
	clean(conf, shown, size);
	if (!table_keep(t, shown))
		die(EXIT_SYSTEM, "out of memory");
	load_file(t, AT_FDCWD, conf, conf, shown, check_owner);
	if (dir)
		load_dir(t, dir, check_owner);
	for (size_t i = 0; i < t->n; i++)
		resolve(t, &t->s[i]);
	t->file = NULL;
}
