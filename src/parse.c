/* parse.c: the one place numbers and addresses are parsed. Pure functions
 * over (pointer, length): no allocation, no syscalls, no locale. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "portbind.h"

/* Decimal only: no sign, no space, no leading zero, no wrap-around. strtoul
 * would accept all four ("-1" becomes 4294967295, the "unchanged" id). */
bool parse_num(const char *s, size_t len, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "N" or "LO-HI" with LO <= HI. */
bool parse_range(const char *s, size_t len, uint32_t min, uint32_t max, struct range *out)
{
	const char *dash = memchr(s, '-', len);

	if (!dash) {
		if (!parse_num(s, len, min, max, &out->lo))
			return false;
		out->hi = out->lo;
		return true;
	}
	return parse_num(s, (size_t)(dash - s), min, max, &out->lo) &&
	       parse_num(dash + 1, len - (size_t)(dash - s) - 1, min, max, &out->hi) &&
	       out->lo <= out->hi;
}

/* An IPv4 or IPv6 literal through inet_pton only: never a name, so never DNS
 * or NSS in the decision. family 0 takes either. glibc's inet_pton refuses
 * leading zeros and short forms ("127.1") for IPv4. */
bool parse_addr(const char *s, size_t len, int family, struct addr *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->family = memchr(buf, ':', len) ? AF_INET6 : AF_INET;
	if (family && family != out->family)
		return false;
	if (inet_pton(out->family, buf, out->bytes) != 1)
		return false;
	/* ::ffff:a.b.c.d would let an IPv6 grant stand for an IPv4 address. */
	if (out->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)out->bytes))
		return false;
	return true;
}

/* sd_listen_fds_with_names(3): printable ASCII, no ':', at most 255 bytes.
 * ',' separates SPECs on our command line, so it is refused too. */
bool fdname_ok(const char *s, size_t len)
{
	if (len == 0 || len > MAX_FDNAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == ':' || s[i] == ',')
			return false;
	return true;
}

const char *addr_str(const struct addr *a, char *buf, size_t size)
{
	if (a->family == 0) {
		snprintf(buf, size, "*");
		return buf;
	}
	if (!inet_ntop(a->family, a->bytes, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *proto_str(int proto)
{
	return proto == PROTO_UDP ? "udp" : "tcp";
}

/* "80/tcp", "127.0.0.1:80/udp" or "[::1]:80/tcp", as written in a SPEC. */
const char *spec_str(const struct spec *sp, char *buf, size_t size)
{
	if (sp->addr.family == 0) {
		snprintf(buf, size, "%u/%s", sp->port, proto_str(sp->proto));
	} else {
		char a[INET6_ADDRSTRLEN];
		snprintf(buf, size, sp->addr.family == AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s",
			 addr_str(&sp->addr, a, sizeof(a)), sp->port, proto_str(sp->proto));
	}
	return buf;
}
