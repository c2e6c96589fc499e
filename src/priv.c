/* priv.c: privilege on entry, the drop, and its verification.
 * The drop is done with prctl, the set*id calls and capset; the verification
 * tries to get root back, as OpenSSH's permanently_set_uid() does, reads
 * the state back as the kernel reports it, and exits 71 if anything is off. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "portbind.h"

/* First thing in main(): no core dump and no ptrace attach by the caller
 * while we hold root, whatever fs.suid_dumpable says. */
void priv_nodump(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		die(EXIT_SYSTEM, "prctl PR_SET_DUMPABLE: %s", strerror(errno));
}

/* Our capability sets as the kernel holds them, read into a buffer filled
 * with ones first: a capget() that wrote nothing reads as "everything". */
static void caps_read(struct __user_cap_data_struct *data)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(data, 0xff, sizeof(*data) * _LINUX_CAPABILITY_U32S_3);
	if (syscall(SYS_capget, &hdr, data) != 0)
		die(EXIT_SYSTEM, "capget: %s", strerror(errno));
}

/* Entry: real ids are the caller's, euid 0 from the setuid bit. The caller
 * controls the bounding set, securebits, no_new_privs and ptrace; any of
 * them can leave us half-privileged, so check what we will need, now. */
void priv_check_entry(void)
{
	static const struct {
		unsigned cap;
		const char *name;
	} need[] = {
		{ CAP_SETUID, "setuid" }, { CAP_SETGID, "setgid" }, { CAP_SETPCAP, "setpcap" },
		{ CAP_CHOWN, "chown" }, { CAP_NET_BIND_SERVICE, "net_bind_service" },
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uid_t r, e, s;

	if (getresuid(&r, &e, &s) != 0 || e != 0 || s != 0)
		die(EXIT_SYSTEM, "not running as root: portbind must be installed setuid root, "
				 "on a filesystem without nosuid, and not run under "
				 "no_new_privs or a tracer");
	caps_read(data);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(data[need[i].cap / 32].effective & (1u << (need[i].cap % 32))))
			die(EXIT_SYSTEM, "missing capability %s (reduced bounding set?)",
			    need[i].name);
}

/* Is the effective set empty (on: all of the permitted set)? */
static bool caps_are(const struct __user_cap_data_struct *data, bool on)
{
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != (on ? data[i].permitted : 0))
			return false;
	return true;
}

/* The effective set: empty, or all of the permitted set again. The euid
 * change just made has done it already, unless the caller's securebits
 * say SECBIT_NO_SETUID_FIXUP: read, and set only if it is not so. */
static void caps_effective(bool on)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	caps_read(data);
	if (caps_are(data, on))
		return;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		data[i].effective = on ? data[i].permitted : 0;
	if (syscall(SYS_capset, &hdr, data) != 0)
		die(EXIT_SYSTEM, "capset: %s", strerror(errno));
	caps_read(data);
	if (!caps_are(data, on))
		die(EXIT_SYSTEM, "the effective capability set did not change");
}

/* For paths the caller names (the command): become the caller in effect,
 * so that every path resolves exactly as it would for the caller alone.
 * Changing only fsuid would leave CAP_SYS_PTRACE and the rest effective,
 * and /proc/PID/{cwd,root,exe} of root's processes would resolve: an
 * existence oracle for files the caller cannot reach. A root caller is
 * root already.
 * Entry: euid 0 with the capabilities priv_check_entry() checked.
 * Exit: effective uid and gid the caller's, no capability effective; the
 * saved uid 0 and the permitted set stay, for priv_resume(). */
void priv_as_caller(const struct ident *caller)
{
	if (caller->uid == 0)
		return;
	if (setresgid((gid_t)-1, caller->gid, (gid_t)-1) != 0 ||
	    setresuid((uid_t)-1, caller->uid, (uid_t)-1) != 0)
		die(EXIT_SYSTEM, "cannot take the caller's identity: %s", strerror(errno));
	caps_effective(false);
	/* An euid change resets the dumpable flag to fs.suid_dumpable. */
	priv_nodump();
	if (geteuid() != caller->uid || getegid() != caller->gid)
		die(EXIT_SYSTEM, "cannot take the caller's identity: ids not as set");
}

/* Entry: as priv_as_caller() left us. Exit: euid 0 and the permitted
 * capabilities effective again, as on entry. */
void priv_resume(const struct ident *caller)
{
	if (caller->uid == 0)
		return;
	if (setresuid((uid_t)-1, 0, (uid_t)-1) != 0)
		die(EXIT_SYSTEM, "setresuid back to root: %s", strerror(errno));
	caps_effective(true);
	priv_nodump();
	if (geteuid() != 0)
		die(EXIT_SYSTEM, "setresuid back to root: euid not 0");
}

/* /proc/self/status, whole: one read shows every capability set, the
 * ids, the groups and no_new_privs as the kernel reports them. */
static char *read_status(void)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	if (!buf || fd < 0)
		die(EXIT_SYSTEM, "privilege drop not verifiable: /proc/self/status: %s",
		    strerror(errno));
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		char *more;
		if ((len += (size_t)n) < cap - 1)
			continue;
		if (!(more = realloc(buf, cap *= 2)))
			die(EXIT_SYSTEM, "out of memory");
		buf = more;
	}
	if (n < 0 || close(fd) != 0)
		die(EXIT_SYSTEM, "privilege drop not verifiable: /proc/self/status: %s",
		    strerror(errno));
	buf[len] = '\0';
	return buf;
}

/* The value of "KEY:\t..." in status, or exit 71: a field we cannot read
 * is a drop we cannot verify. */
static const char *field(const char *status, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = status; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ':')
			return p + n + 1 + strspn(p + n + 1, " \t");
	die(EXIT_SYSTEM, "privilege drop not verifiable: no %s in /proc/self/status", key);
}

/* The next id of a /proc/self/status line at *v, in decimal, followed by
 * a tab, a space or the line's end, which *v is moved to (past the tabs
 * and spaces); false if there is none. */
static bool next_id(const char **v, uint32_t *id)
{
	size_t len = strspn(*v, "0123456789");
	char c = (*v)[len];

	if (!len || (c != '\t' && c != ' ' && c != '\n') || !parse_num(*v, len, 0, MAX_ID, id))
		return false;
	*v += len + strspn(*v + len, "\t ");
	return true;
}

/* "A\tB\tC\tD": all four equal to want (real, effective, saved, fs). */
static bool all_ids(const char *v, uint32_t want)
{
	uint32_t id;

	for (int i = 0; i < 4; i++)
		if (!next_id(&v, &id) || id != want)
			return false;
	return true;
}

static int gid_cmp(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return (x > y) - (x < y);
}

/* "G G ...": the supplementary groups as /proc shows them, the same as
 * want[0..n) once both are sorted (the kernel keeps them sorted, but by
 * its own ids, which a user namespace may map in another order). */
static bool same_groups(const char *v, const gid_t *want, size_t n)
{
	gid_t *sorted = calloc(2 * n + 1, sizeof(gid_t)), *have;
	size_t m = 0;
	bool same = true;
	uint32_t g;

	if (!sorted)
		die(EXIT_SYSTEM, "out of memory");
	have = sorted + n;
	memcpy(sorted, want, n * sizeof(gid_t));
	while (same && *v != '\n' && *v != '\0') {
		same = m < n && next_id(&v, &g);
		if (same)
			have[m++] = (gid_t)g;
	}
	qsort(sorted, n, sizeof(gid_t), gid_cmp);
	qsort(have, m, sizeof(gid_t), gid_cmp);
	same = same && m == n && memcmp(sorted, have, n * sizeof(gid_t)) == 0;
	free(sorted);
	return same;
}

/* The drop as the kernel reports it, in one read of /proc/self/status:
 * all four uids and gids (real, effective, saved, fs), the supplementary
 * groups, the five capability sets and no_new_privs; and getting root
 * back must be impossible. */
static void verify(const struct ident *id, bool no_new_privs)
{
	static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char *status;

	if (id->uid != 0 && (setuid(0) != -1 || setreuid((uid_t)-1, 0) != -1))
		die(EXIT_SYSTEM, "privilege drop failed: uid 0 could be regained");
	if (id->gid != 0 && (setgid(0) != -1 || setregid((gid_t)-1, 0) != -1))
		die(EXIT_SYSTEM, "privilege drop failed: gid 0 could be regained");
	status = read_status();
	if (!all_ids(field(status, "Uid"), id->uid) || !all_ids(field(status, "Gid"), id->gid))
		die(EXIT_SYSTEM, "privilege drop failed: ids not as set");
	if (!same_groups(field(status, "Groups"), id->supp, id->nsupp))
		die(EXIT_SYSTEM, "privilege drop failed: supplementary groups not as set");
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (strspn(field(status, sets[i]), "0") != 16)
			die(EXIT_SYSTEM, "privilege drop failed: %s not empty", sets[i]);
	/* Without --allow-new-privs it must be on; with it, a caller's own
	 * no_new_privs stays on, which only takes away. */
	if (no_new_privs && strncmp(field(status, "NoNewPrivs"), "1\n", 2) != 0)
		die(EXIT_SYSTEM, "privilege drop failed: no_new_privs not set");
	free(status);
}

/* Entry: euid 0 with the capabilities checked by priv_check_entry().
 * Exit: every id is the target's, every capability set is empty, and
 * no_new_privs is on unless the administrator's command line said no. */
void priv_drop(const struct ident *id, bool no_new_privs)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];

	/* The bounding set needs CAP_SETPCAP, which setresuid() takes away:
	 * empty it (and the ambient set) first, each capability up to the
	 * first the kernel calls invalid, past its last; verify() reads the
	 * whole set back. */
	for (unsigned long cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL && cap > CAP_NET_BIND_SERVICE)
			break;
		die(EXIT_SYSTEM, "cannot clear the bounding set: %s", strerror(errno));
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
		die(EXIT_SYSTEM, "cannot clear the ambient capability set: %s", strerror(errno));
	if (setgroups(id->nsupp, id->supp) != 0)
		die(EXIT_SYSTEM, "setgroups: %s", strerror(errno));
	if (setresgid(id->gid, id->gid, id->gid) != 0)
		die(EXIT_SYSTEM, "setresgid %u: %s", (unsigned)id->gid, strerror(errno));
	if (setresuid(id->uid, id->uid, id->uid) != 0)
		die(EXIT_SYSTEM, "setresuid %u: %s", (unsigned)id->uid, strerror(errno));
	/* setresuid() emptied permitted and effective; the inheritable set is
	 * the caller's own and survives it. */
	memset(none, 0, sizeof(none));
	if (syscall(SYS_capset, &hdr, none) != 0)
		die(EXIT_SYSTEM, "cannot clear the capability sets: %s", strerror(errno));
	if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die(EXIT_SYSTEM, "prctl PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	verify(id, no_new_privs);
}

/* A command running as another user must not push input into root's
 * terminal with TIOCSTI (CVE-2016-7545 and friends): give up the
 * controlling terminal. The fds stay open; only the TTY link goes. */
void priv_detach_tty(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENXIO)
			return; /* no controlling terminal */
		die(EXIT_SYSTEM, "/dev/tty: %s", strerror(errno));
	}
	/* As session leader, TIOCNOTTY sends SIGHUP and SIGCONT to the
	 * terminal's foreground process group (disassociate_ctty() in the
	 * kernel's tty_jobctrl.c) and takes the terminal from the whole
	 * session. That group is ours when we were started in the
	 * foreground of a terminal of our own (script, sudo's use_pty). */
	if (sigaction(SIGHUP, &ign, &old) != 0 || ioctl(fd, TIOCNOTTY) != 0 ||
	    sigaction(SIGHUP, &old, NULL) != 0)
		die(EXIT_SYSTEM, "TIOCNOTTY: %s", strerror(errno));
	close(fd);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 || errno != ENXIO)
		die(EXIT_SYSTEM, "could not give up the controlling terminal");
}

/* The personality flags the kernel clears on a set-id exec
 * (PER_CLEAR_ON_SETID in linux/personality.h). */
#define PER_CLEAR (READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE | ADDR_COMPAT_LAYOUT | MMAP_PAGE_ZERO)

/* What a root caller's process hands to a command that runs as another
 * user, beyond ids, groups and capabilities. SECURITY.md lists every item,
 * and what is kept on purpose (nice, rlimits, umask, cgroup, ...).
 * Entry and exit: the target's ids, no capability; nothing here is
 * privileged. */
void priv_leave_caller(const struct ident *target)
{
	char desc[256] = "", want[32], *cwd;
	long key;
	int per;

	/* Root's session keyring (a Kerberos KEYRING: cache, fscrypt keys)
	 * belongs to whoever possesses it, whatever their uid: join a new
	 * one of the target's own, as pam_keyinit does for a session. The
	 * user keyrings follow the uid and are the target's already. */
	key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
	if (key < 0 && errno != ENOSYS) /* ENOSYS: no keyrings to inherit */
		die(EXIT_SYSTEM, "cannot start a new session keyring: %s", strerror(errno));
	snprintf(want, sizeof(want), "keyring;%u;", (unsigned)target->uid);
	if (key >= 0 && (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) != key ||
			 syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, desc, sizeof(desc) - 1) <= 0 ||
			 strncmp(desc, want, strlen(want)) != 0))
		die(EXIT_SYSTEM, "the new session keyring is not the target's own");

	/* Root's ADDR_NO_RANDOMIZE or MMAP_PAGE_ZERO must not reach the
	 * target. The kernel clears them when it executes a setuid file,
	 * but root may run a copy without the bit. */
	per = personality(0xffffffff);
	if (per == -1 || personality((unsigned long)(per & ~PER_CLEAR)) == -1 ||
	    (per = personality(0xffffffff)) == -1)
		die(EXIT_SYSTEM, "cannot reset the personality flags: %s", strerror(errno));
	if (per & PER_CLEAR)
		die(EXIT_SYSTEM, "the personality flags did not change");

	/* A working directory inside one the target cannot search would let
	 * it reach what lies below: enter it again by its path, as the
	 * target, or refuse. */
	cwd = getcwd(NULL, 0);
	if (!cwd)
		die(EXIT_SYSTEM, "current directory: %s", strerror(errno));
	if (chdir(cwd) != 0) {
		char shown[256];
		die(EXIT_SYSTEM, "current directory %s: not accessible to uid %u: %s "
		    "(start portbind from a directory the user can reach)",
		    clean(cwd, shown, sizeof(shown)), (unsigned)target->uid, strerror(errno));
	}
	free(cwd);
}
