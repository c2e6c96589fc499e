/* exec.c: find the command as the caller would, and execute it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <syslog.h>
#include <unistd.h>

#include "portbind.h"

/* One candidate, as execve(2) would judge it: a regular file we may
 * execute (the mode bits, a noexec mount). Called as the caller in effect
 * (priv_as_caller), so nothing resolves that the caller could not reach. */
static int try_path(const char *path)
{
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), err;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		err = EACCES;
	} else if (faccessat(fd, "", X_OK, AT_EMPTY_PATH | AT_EACCESS) != 0) {
		err = errno;
		if (err != EACCES)
			die(EXIT_SYSTEM, "access check of the command: %s", strerror(err));
	} else {
		return fd;
	}
	close(fd);
	errno = err;
	return -1;
}

/* COMMAND with a '/' is a path; otherwise PATH is searched as glibc's
 * execvp(3) does (default /usr/local/bin:/usr/bin:/bin): an entry where
 * the file is missing or not executable is passed over, "Permission
 * denied" is the answer when no entry had an executable file but one had
 * a file, and any other error ends the search. Returns an O_PATH fd of the
 * file found and its path in *path, or exits 127 / 126. */
int cmd_open(const char *cmd, char **path)
{
	const char *p = getenv("PATH");
	char shown[256];
	int fd, err = ENOENT;

	clean(cmd, shown, sizeof(shown));
	if (strchr(cmd, '/')) {
		fd = try_path(cmd);
		if (fd < 0)
			die(errno == ENOENT || errno == ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC,
			    "%s: %s", shown, strerror(errno));
		*path = strdup(cmd);
		if (!*path)
			die(EXIT_SYSTEM, "out of memory");
		return fd;
	}
	if (!p)
		p = "/usr/local/bin:/usr/bin:/bin";
	for (;;) {
		size_t len = strcspn(p, ":");
		char *full = malloc(len + strlen(cmd) + 3);
		if (!full)
			die(EXIT_SYSTEM, "out of memory");
		/* An empty PATH entry means the current directory. */
		sprintf(full, "%.*s/%s", len ? (int)len : 1, len ? p : ".", cmd);
		fd = try_path(full);
		if (fd >= 0) {
			*path = full;
			return fd;
		}
		int e = errno;
		free(full);
		if (e == EACCES)
			err = EACCES;
		else if (e != ENOENT && e != ENOTDIR && e != ESTALE && e != ENODEV && e != ETIMEDOUT)
			die(EXIT_NOEXEC, "%s: %s", shown, strerror(e));
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	die(err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, "%s: command not found%s%s", shown,
	    err == ENOENT ? "" : ": ", err == ENOENT ? "" : strerror(err));
}

/* A pinned command runs from the descriptor that was checked, so the file
 * checked is the file executed even if the path is swapped meanwhile. */
_Noreturn void cmd_exec(int fd, const char *path, bool pinned, char **argv, char **envp)
{
	char shown[256];
	int err;

	if (pinned)
		execveat(fd, "", argv, envp, AT_EMPTY_PATH);
	else
		execve(path, argv, envp);
	err = errno;
	clean(path, shown, sizeof(shown));
	log_line(LOG_WARNING, "exec failed after the grant: %s: %s", shown, strerror(err));
	if (err == EAGAIN) /* RLIMIT_NPROC of the target, checked at execve() */
		die(EXIT_SYSTEM, "%s: %s (RLIMIT_NPROC)", shown, strerror(err));
	if (pinned && err == ENOENT)
		die(EXIT_NOEXEC, "%s: cannot execute the pinned program (a script cannot be pinned)",
		    shown);
	/* The kernel refuses to execute a file whose capabilities the
	 * (empty) bounding set cannot grant: say so, not a bare EPERM. */
	if (err == EPERM && (pinned ? fgetxattr(fd, "security.capability", NULL, 0)
				    : getxattr(path, "security.capability", NULL, 0)) >= 0)
		die(EXIT_NOEXEC, "%s: cannot execute: the file has capabilities "
				 "(security.capability), which portbind's empty bounding set "
				 "cannot grant; run a copy without them (setcap -r): the ports "
				 "come from the table", shown);
	die(err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, "%s: %s", shown, strerror(err));
}
