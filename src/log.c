/* log.c: error exits, syslog lines and records, and escaping of caller
 * strings. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "portbind.h"

/* One syslog line at most, in bytes; see log_record(). */
#define LOG_LINE_MAX 900

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
 * syslog daemon is not an error. A line too long for buf ends in "...". */
void log_line(int prio, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(buf, sizeof(buf), "a log line could not be formatted");
	else if ((size_t)n >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	openlog(log_ident, LOG_PID, LOG_AUTHPRIV);
	syslog(prio, "%s", buf);
	closelog();
}

/* Bytes written as \xHH: outside printable ASCII, so no caller can start a
 * second line or drive a terminal; the backslash, so every escape is ours;
 * in log records also the space, which separates the fields. */
static bool escaped(unsigned char c, bool space)
{
	return c < 0x20 || c > 0x7e || c == '\\' || (space && c == ' ');
}

/* Caller-controlled text for a message: escaped, and truncated with "..."
 * to fit. */
const char *clean(const char *s, char *buf, size_t size)
{
	size_t k = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = escaped(c, false) ? 4 : 1;
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

/* The n bytes of s as a log field value, never cut: no space, no control
 * byte, and every backslash is the start of a \xHH. */
void log_escaped(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (escaped(c, true))
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* How many leading bytes of s (n bytes) log_escaped() writes within room
 * bytes; *width is what they take. */
size_t log_fit(const char *s, size_t n, size_t room, size_t *width)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		size_t need = escaped((unsigned char)s[i], true) ? 4 : 1;
		if (w + need > room)
			break;
		w += need;
	}
	*width = w;
	return i;
}

/* Where the next line's share of text (len bytes, from pos) ends: *end.
 * Returns where the share after it starts. Lines break at a space (which
 * the reader puts back); an item longer than a line breaks anywhere but
 * inside a \xHH, and *cut is set: the reader joins the two shares directly. */
static size_t log_share(const char *t, size_t len, size_t pos, size_t room, size_t *end,
			bool *cut)
{
	size_t s;

	*cut = false;
	if (len - pos <= room) {
		*end = len;
		return len;
	}
	for (s = pos + room; s > pos; s--)
		if (t[s] == ' ') {
			*end = s;
			return s + 1;
		}
	*cut = true;
	*end = pos + room - 1; /* room for the trailing backslash */
	for (s = *end - 1; s > pos && s + 3 >= *end; s--)
		if (t[s] == '\\') {
			*end = s;
			break;
		}
	return *end;
}

/* Splits text into lines behind head, each at most LOG_LINE_MAX bytes with
 * the part marker; writes them when the number of parts is known (total),
 * and returns that number. */
static size_t log_parts(int prio, const char *head, const char *text, size_t total)
{
	char line[LOG_LINE_MAX + 1];
	size_t len = strlen(text), pos = 0, end, k = 0;
	size_t room = LOG_LINE_MAX - strlen(head) - strlen(" part=9999/9999 ");
	bool cut = false;

	do {
		bool cont = cut;
		size_t next = log_share(text, len, pos, room - cont, &end, &cut);
		if (total) {
			snprintf(line, sizeof(line), "%s part=%zu/%zu %s%.*s%s", head, k + 1, total,
				 cont ? "\\" : "", (int)(end - pos), text + pos, cut ? "\\" : "");
			log_line(prio, "%s", line);
		}
		k++;
		pos = next;
	} while (pos < len);
	return k;
}

/* A record as syslog lines "WHAT: req=ID part=K/N ITEMS", one syslog call
 * each. LOG_LINE_MAX: with priority, time stamp, host name and
 * "portbind[PID]: " the datagram stays within the 1024 bytes of RFC 3164,
 * which receivers and relays keep whole. ID, the pid and the boot-time
 * clock, is unique on this host until it reboots. text never holds a bare
 * backslash: a line cut inside an item ends with one, and the next part
 * begins with one. */
void log_record(int prio, const char *what, const char *text)
{
	char head[96];
	struct timespec ts;
	size_t parts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		die(EXIT_SYSTEM, "clock_gettime: %s", strerror(errno));
	snprintf(head, sizeof(head), "%s: req=%ld@%lld.%09ld", what, (long)getpid(),
		 (long long)ts.tv_sec, ts.tv_nsec);
	parts = log_parts(prio, head, text, 0);
	if (parts > 9999)
		die(EXIT_SYSTEM, "log record of %zu bytes: too long", strlen(text));
	log_parts(prio, head, text, parts);
}
