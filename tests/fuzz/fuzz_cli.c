/* argv and SPEC parsing: the input is argv[1..], split at NUL bytes. A
 * command line that parses must be one portbind can act on. */
#include <stdlib.h>
#include <string.h>

#include "../../src/portbind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[130], err[256] = "";
	static struct cli c;
	int argc = 1;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "portbind";
	for (char *p = copy; p <= copy + size && argc < 129; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	int rc = cli_parse(&c, argc, argv, err, sizeof(err));
	if (rc != 0 && ((rc != EXIT_USAGE && rc != EXIT_SYSTEM) || err[0] == '\0'))
		abort(); /* a refusal is a usage (or out-of-memory) error that says why */
	if (rc == 0 && c.mode == MODE_RUN) {
		if (c.nspecs == 0 || c.nspecs > MAX_SPECS || !c.command || !c.command[0][0] ||
		    (c.inetd && c.nspecs != 1) || c.backlog < 1 || c.backlog > 65535)
			abort();
		for (size_t i = 0; i < c.nspecs; i++) {
			const struct spec *sp = &c.specs[i];
			if (sp->port == 0 || (sp->name[0] && !fdname_ok(sp->name, strlen(sp->name))))
				abort();
			for (size_t j = 0; j < i; j++)
				if (c.specs[j].port == sp->port && c.specs[j].proto == sp->proto &&
				    memcmp(&c.specs[j].addr, &sp->addr, sizeof(sp->addr)) == 0)
					abort();
		}
	}
	free(c.user);
	restrict_free(&c.restrict_net);
	free(copy);
	return 0;
}
