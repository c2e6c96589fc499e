/* ident.c: who is calling, and who the command will run as. Decisions use
 * the kernel's credentials only: never USER, LOGNAME, HOME or SUDO_*. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portbind.h"

static char *name_of(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	char *name;

	if (!pw)
		return NULL;
	name = strdup(pw->pw_name);
	if (!name)
		die(EXIT_SYSTEM, "out of memory");
	return name;
}

/* Real ids and the supplementary groups we were started with. */
void ident_caller(struct ident *id)
{
	int n = getgroups(0, NULL), m;

	memset(id, 0, sizeof(*id));
	id->uid = getuid();
	id->gid = getgid();
	if (n < 0)
		die(EXIT_SYSTEM, "getgroups: %s", strerror(errno));
	id->supp = calloc((size_t)n + 1, sizeof(gid_t));
	if (!id->supp)
		die(EXIT_SYSTEM, "out of memory");
	m = getgroups(n, id->supp);
	if (m != n)
		die(EXIT_SYSTEM, "getgroups: %s", m < 0 ? strerror(errno) : "changed");
	id->nsupp = (size_t)n;
	id->name = name_of(id->uid);
}

/* "#N": true, with N in *v (a bad number is a usage error); a name: false. */
static bool numeric(const char *s, const char *what, const char *shown, uint32_t *v)
{
	if (s[0] != '#')
		return false;
	if (!parse_num(s + 1, strlen(s + 1), 0, MAX_ID, v))
		die(EXIT_USAGE, "bad %s id '%s': want #N, N decimal", what, shown);
	return true;
}

/* USER is a name or #UID, GROUP a name or #GID. Unknown names are exit 67,
 * never a guess. */
static uid_t lookup_user(const char *user, struct passwd **pw)
{
	char shown[96];
	uint32_t v;

	clean(user, shown, sizeof(shown));
	if (numeric(user, "user", shown, &v)) {
		*pw = getpwuid((uid_t)v);
		return (uid_t)v;
	}
	if (!(*pw = getpwnam(user)))
		die(EXIT_NOUSER, "unknown user '%s'", shown);
	return (*pw)->pw_uid;
}

static gid_t lookup_group(const char *group)
{
	struct group *gr;
	char shown[96];
	uint32_t v;

	clean(group, shown, sizeof(shown));
	if (numeric(group, "group", shown, &v))
		return (gid_t)v;
	if (!(gr = getgrnam(group)))
		die(EXIT_NOUSER, "unknown group '%s'", shown);
	return gr->gr_gid;
}

/* The user's groups from the group database, as initgroups(3) would set
 * them: the primary gid and every group listing the user. */
static void db_groups(struct ident *id, const char *user)
{
	int n = 32;

	for (;;) {
		gid_t *v = realloc(id->supp, (size_t)n * sizeof(gid_t));
		int got = n;
		if (!v)
			die(EXIT_SYSTEM, "out of memory");
		id->supp = v;
		if (getgrouplist(user, id->gid, v, &got) >= 0) {
			id->nsupp = (size_t)got;
			return;
		}
		if (got <= n || got > 65536)
			die(EXIT_SYSTEM, "getgrouplist %s failed", user);
		n = got;
	}
}

/* A caller other than root runs as itself, exactly: same uid, same gid, the
 * same supplementary groups (not shed, not extended). Root must name a user;
 * the command never runs as uid 0, and root's own groups never reach it. */
void ident_target(struct ident *id, const struct ident *caller, const char *user,
		  const char *group)
{
	struct passwd *pw;

	if (caller->uid != 0) {
		/* An alias (same uid, other primary group) is another identity. */
		if (user && (lookup_user(user, &pw) != caller->uid ||
			     (!group && pw && pw->pw_gid != caller->gid)))
			die(EXIT_DENIED, "only root may run a command as another user");
		if (group && lookup_group(group) != caller->gid)
			die(EXIT_DENIED, "only root may run a command as another group");
		*id = *caller;
		return;
	}
	if (!user)
		die(EXIT_USAGE, "root must name the USER to run the command as");
	memset(id, 0, sizeof(*id));
	id->uid = lookup_user(user, &pw);
	if (id->uid == 0)
		die(EXIT_DENIED, "refusing to run a command as uid 0");
	if (group)
		id->gid = lookup_group(group);
	else if (pw)
		id->gid = pw->pw_gid;
	else
		die(EXIT_NOUSER, "user id %s has no passwd entry: name a GROUP too", user);
	id->name = pw ? strdup(pw->pw_name) : NULL;
	if (pw && !id->name)
		die(EXIT_SYSTEM, "out of memory");
	if (id->name) {
		db_groups(id, id->name);
		return;
	}
	id->supp = malloc(sizeof(gid_t)); /* no database entry: the gid alone */
	if (!id->supp)
		die(EXIT_SYSTEM, "out of memory");
	id->supp[0] = id->gid;
	id->nsupp = 1;
}

/* "name(uid)" or "#uid" for messages and logs. */
const char *ident_str(const struct ident *id, char *buf, size_t size)
{
	if (id->name) {
		char name[64];
		snprintf(buf, size, "%s(%u)", clean(id->name, name, sizeof(name)), (unsigned)id->uid);
	} else {
		snprintf(buf, size, "#%u", (unsigned)id->uid);
	}
	return buf;
}
