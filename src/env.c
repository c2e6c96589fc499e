/* env.c: the command's environment. Pure apart from malloc.
 * The caller's environment passes through, minus every LISTEN_* variable of
 * the socket-activation protocol and any entry without '='; then ours are
 * added. For a caller other than root the C library's secure mode has
 * already removed most loader variables (LD_PRELOAD, TMPDIR, ...) before
 * main(); glibc keeps GLIBC_TUNABLES partly, so we remove it and every LD_*
 * ourselves, and do not depend on the C library's list. */
#include <stdlib.h>
#include <string.h>

#include "portbind.h"

static bool is_loader_var(const char *e)
{
	return strncmp(e, "LD_", 3) == 0 || strncmp(e, "GLIBC_TUNABLES=", 15) == 0;
}

static bool is_listen_var(const char *e)
{
	static const char *const names[] = { "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=",
					     "LISTEN_PIDFDID=" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(e, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

static char *joined(const char *key, const char *value)
{
	char *s = malloc(strlen(key) + strlen(value) + 1);

	if (s)
		strcat(strcpy(s, key), value);
	return s;
}

/* Returns a NULL-terminated array, or NULL when out of memory. */
char **env_build(char **in, bool secure, bool inetd, const struct grant *g, size_t n, long pid)
{
	size_t count = 0, k = 0, namelen = 1;
	char **out, num[24], *names;

	while (in && in[count])
		count++;
	out = calloc(count + 4, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < count; i++)
		if (strchr(in[i], '=') && !is_listen_var(in[i]) && !(secure && is_loader_var(in[i])))
			out[k++] = in[i];
	if (inetd)
		return out;
	for (size_t i = 0; i < n; i++)
		namelen += strlen(g[i].name) + 1;
	names = calloc(namelen, 1);
	if (!names) {
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		strcat(strcat(names, i ? ":" : ""), g[i].name);
	snprintf(num, sizeof(num), "%zu", n);
	out[k++] = joined("LISTEN_FDS=", num);
	snprintf(num, sizeof(num), "%ld", pid);
	out[k++] = joined("LISTEN_PID=", num);
	out[k++] = joined("LISTEN_FDNAMES=", names);
	free(names);
	if (!out[k - 1] || !out[k - 2] || !out[k - 3]) {
		for (size_t i = k - 3; i < k; i++)
			free(out[i]);
		free(out);
		return NULL;
	}
	return out;
}
