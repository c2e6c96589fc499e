/* chain.c: open a file the way the privileged path must, as root (euid 0):
 * without following a symbolic link and without blocking (a FIFO would
 * hang us), and judge it on the open descriptor (fstat), never on a path
 * again. The directories above a table file or a pinned program are judged
 * the same way, from "/" down, and the file is opened from the last one
 * checked. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portbind.h"

/* openat(), where running out of fds or memory is the system's failure
 * (exit 71, as anywhere else), not an error in the table. */
int chain_open(int at, const char *name, int flags, const char *what)
{
	int fd = openat(at, name, flags);

	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOMEM))
		die(EXIT_SYSTEM, "%s: %s", what, strerror(errno));
	return fd;
}

/* The open file fd is of type `type` (S_IFREG or S_IFDIR), and, if
 * `roots`, owned by root and writable by root alone; otherwise one error
 * "WHAT: why" (just "why" when WHAT is empty) is counted. */
bool chain_judge(struct table *t, const char *what, int fd, mode_t type, bool roots,
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
 * a symbolic link (O_PATH opens the link itself, and chain_judge() refuses it),
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
	fd = chain_open(at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, what);
	if (fd < 0)
		table_error(t, "%s: %s", what, strerror(errno));
	else if (!chain_judge(t, what, fd, S_IFDIR, true, &st)) {
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
int chain_parent(struct table *t, const char *owner, const char *path, const char **name)
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
