/* log.c: error exits, syslog lines, and escaping of caller strings. */
#include <stdarg.h>
#include <stdlib.h>
#include <syslog.h>

#include "portbind.h"

const char *log_ident = "portbind";

/* One line on stderr with a fixed program name (argv[0] is the caller's). */
_Noreturn void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", log_ident);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Open, write and close again: no syslog fd lives on while we move fds, so
 * glibc can never send a log line into a socket that took its number. No
 * syslog daemon is not an error. */
void log_line(int prio, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	openlog(log_ident, LOG_PID, LOG_AUTHPRIV);
	syslog(prio, "%s", buf);
	closelog();
}

/* Caller-controlled text for a message or log line: every byte outside
 * printable ASCII, and the backslash, as \xHH, so no caller can forge a
 * second log line or drive a terminal. Truncated with "..." to fit. */
const char *clean(const char *s, char *buf, size_t size)
{
	size_t k = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = (c < 0x20 || c > 0x7e || c == '\\') ? 4 : 1;
		if (k + need + 4 > size) {
			snprintf(buf + k, size - k, "...");
			return buf;
		}
		if (need == 4)
			k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
		else
			buf[k++] = (char)c;
	}
	buf[k] = '\0';
	return buf;
}
