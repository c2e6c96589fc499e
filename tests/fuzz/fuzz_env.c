/* The command's environment: input byte 0 holds the flags and the socket
 * count, the rest is the caller's environment split at NUL bytes. */
#include <stdlib.h>
#include <string.h>

#include "../../src/portbind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ours(const char *e)
{
	return strncmp(e, "LISTEN_", 7) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "web", "unknown", "dns", "a b", "x" };
	struct grant g[MAX_SPECS];
	char *copy, *in[1024], **out;
	size_t nin = 0, k = 0, n;
	bool inetd, secure;

	if (size < 1 || !(copy = malloc(size)))
		return 0;
	inetd = data[0] & 0x80;
	secure = data[0] & 0x40;
	n = inetd ? 1 : (data[0] & 0x3f) % (MAX_SPECS + 1);
	for (size_t i = 0; i < n; i++)
		g[i].name = names[i % 5];
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	for (char *p = copy; p < copy + size - 1 && nin < 1023; p += strlen(p) + 1)
		in[nin++] = p;
	in[nin] = NULL;
	out = env_build(in, secure, inetd, g, n, 4242);
	if (!out)
		abort();
	/* The caller's entries with '=' and not ours, in order, then ours. */
	for (size_t i = 0; i < nin; i++) {
		if (!strchr(in[i], '=') || (ours(in[i]) && (!strncmp(in[i], "LISTEN_FDS=", 11) ||
		    !strncmp(in[i], "LISTEN_PID=", 11) || !strncmp(in[i], "LISTEN_FDNAMES=", 15) ||
		    !strncmp(in[i], "LISTEN_PIDFDID=", 15))) ||
		    (secure && (!strncmp(in[i], "LD_", 3) || !strncmp(in[i], "GLIBC_TUNABLES=", 15))))
			continue;
		if (out[k++] != in[i])
			abort();
	}
	if (inetd ? out[k] != NULL : (!out[k] || !out[k + 1] || !out[k + 2] || out[k + 3]))
		abort();
	if (!inetd) {
		char want[32];
		snprintf(want, sizeof(want), "LISTEN_FDS=%zu", n);
		if (strcmp(out[k], want) != 0 || strcmp(out[k + 1], "LISTEN_PID=4242") != 0 ||
		    strncmp(out[k + 2], "LISTEN_FDNAMES=", 15) != 0)
			abort();
		free(out[k]);
		free(out[k + 1]);
		free(out[k + 2]);
	}
	free(out);
	free(copy);
	return 0;
}
