/* priv.c: privilege on entry, the drop, and its verification.
 * The drop is done with libcap-ng and the set*id calls; the verification
 * reads the state back with other calls (getres*id, raw capget, prctl), as
 * OpenSSH's permanently_set_uid() does, and exits 71 if anything is off. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cap-ng.h>

#include "portbind.h"

/* Entry: real ids are the caller's, euid 0 from the setuid bit. The caller
 * controls the bounding set, securebits, no_new_privs and ptrace; any of
 * them can leave us half-privileged, so check what we will need, now. */
void priv_check_entry(void)
{
	static const unsigned need[] = { CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_CHOWN,
					 CAP_NET_BIND_SERVICE };
	uid_t r, e, s;

	if (getresuid(&r, &e, &s) != 0 || e != 0 || s != 0)
		die(EXIT_SYSTEM, "not running as root: portbind must be installed setuid root, "
				 "on a filesystem without nosuid, and not run under "
				 "no_new_privs or a tracer");
	if (capng_get_caps_process() != 0)
		die(EXIT_SYSTEM, "cannot read our capabilities");
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (capng_have_capability(CAPNG_EFFECTIVE, need[i]) != 1)
			die(EXIT_SYSTEM, "missing capability %s (reduced bounding set?)",
			    capng_capability_to_name(need[i]));
}

/* First thing in main(): no core dump and no ptrace attach by the caller
 * while we hold root, whatever fs.suid_dumpable says. */
void priv_nodump(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		die(EXIT_SYSTEM, "prctl PR_SET_DUMPABLE: %s", strerror(errno));
}

/* Use the caller's file permissions (for finding the command), or back. */
void priv_fsid(uid_t uid, gid_t gid)
{
	setfsgid(gid);
	setfsuid(uid);
	/* setfs*id report no errors; an invalid id returns the current one. */
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid)
		die(EXIT_SYSTEM, "setfsuid/setfsgid %u/%u failed", (unsigned)uid, (unsigned)gid);
}

/* The kernel sorts the groups it stores: compare as sets of equal size. */
static bool same_groups(const gid_t *want, size_t n)
{
	gid_t *have = calloc(n + 1, sizeof(gid_t));
	int m = have ? getgroups((int)n + 1, have) : -1;
	bool same = m >= 0 && (size_t)m == n;

	for (size_t i = 0; i < n && same; i++) {
		bool found = false;
		for (size_t j = 0; j < n && !found; j++)
			found = have[j] == want[i];
		same = found;
	}
	free(have);
	return same;
}

static void verify(const struct ident *id, bool no_new_privs)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) != 0 || r != id->uid || e != id->uid || s != id->uid ||
	    getresgid(&rg, &eg, &sg) != 0 || rg != id->gid || eg != id->gid || sg != id->gid)
		die(EXIT_SYSTEM, "privilege drop failed: ids not as set");
	if (!same_groups(id->supp, id->nsupp))
		die(EXIT_SYSTEM, "privilege drop failed: supplementary groups not as set");
	/* Getting root back must be impossible now. */
	if (id->uid != 0 && (setuid(0) != -1 || setreuid((uid_t)-1, 0) != -1))
		die(EXIT_SYSTEM, "privilege drop failed: uid 0 could be regained");
	if (id->gid != 0 && (setgid(0) != -1 || setregid((gid_t)-1, 0) != -1))
		die(EXIT_SYSTEM, "privilege drop failed: gid 0 could be regained");
	/* All ones first: a capget() that wrote nothing reads as "everything". */
	memset(data, 0xff, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		die(EXIT_SYSTEM, "capget: %s", strerror(errno));
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			die(EXIT_SYSTEM, "privilege drop failed: capabilities remain");
	for (unsigned long cap = 0; cap < 64; cap++) {
		int b = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (b < 0 && errno == EINVAL)
			break; /* past the kernel's last capability */
		if (b != 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) != 0)
			die(EXIT_SYSTEM, "privilege drop failed: bounding or ambient set not empty");
	}
	/* Without --allow-new-privs it must be on; with it, a caller's own
	 * no_new_privs stays on, which only takes away. */
	if (no_new_privs && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		die(EXIT_SYSTEM, "privilege drop failed: no_new_privs not set");
}

/* Entry: euid 0 with the capabilities checked by priv_check_entry().
 * Exit: every id is the target's, every capability set is empty, and
 * no_new_privs is on unless the administrator's command line said no. */
void priv_drop(const struct ident *id, bool no_new_privs)
{
	/* The bounding set needs CAP_SETPCAP, which setresuid() takes away:
	 * empty it (and the ambient set) first. */
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0 || capng_apply(CAPNG_SELECT_AMBIENT) != 0)
		die(EXIT_SYSTEM, "cannot clear the bounding and ambient capability sets");
	if (setgroups(id->nsupp, id->supp) != 0)
		die(EXIT_SYSTEM, "setgroups: %s", strerror(errno));
	if (setresgid(id->gid, id->gid, id->gid) != 0)
		die(EXIT_SYSTEM, "setresgid %u: %s", (unsigned)id->gid, strerror(errno));
	if (setresuid(id->uid, id->uid, id->uid) != 0)
		die(EXIT_SYSTEM, "setresuid %u: %s", (unsigned)id->uid, strerror(errno));
	/* setresuid() emptied permitted and effective; the inheritable set is
	 * the caller's own and survives it. */
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		die(EXIT_SYSTEM, "cannot clear the capability sets");
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
	/* As session leader (script, sudo's use_pty) TIOCNOTTY also sends
	 * SIGHUP to the foreground process group, which is us. */
	if (sigaction(SIGHUP, &ign, &old) != 0 || ioctl(fd, TIOCNOTTY) != 0 ||
	    sigaction(SIGHUP, &old, NULL) != 0)
		die(EXIT_SYSTEM, "TIOCNOTTY: %s", strerror(errno));
	close(fd);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 || errno != ENXIO)
		die(EXIT_SYSTEM, "could not give up the controlling terminal");
}
