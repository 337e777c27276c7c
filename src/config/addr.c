/*
 * config/addr.c - numeric socket addresses and CIDR membership.
 * Owns: "host:port" / "[v6]:port" -> struct pc_addr, and the pc_cidr_contains() test used
 * for trusted proxies.
 * Does not: resolve names (no DNS at any time: a configuration must mean the same thing on
 * every start), or accept IPv6 zone ids, octal or shortened IPv4 forms.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/banned.h"

#define ADDR_TEXT_MAX	63	/* "[" + 45 (INET6_ADDRSTRLEN - 1) + "]:" + 5, with room */

/*
 * Parses a port: digits only, 1..65535. Port 0 means "any port" to bind(2) and "nothing" to
 * connect(2); neither is something a configuration should say by accident.
 */
static int
parse_port(struct pc_str s, uint16_t *out)
{
	uint64_t v;

	if (s.len > 5 || pc_parse_u64(s, 65535, &v) != 0 || v == 0)
		return -PC_EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int
pc_addr_parse(struct pc_str s, struct pc_addr *out)
{
	char		 host[INET6_ADDRSTRLEN];
	char		 ntop[INET6_ADDRSTRLEN];
	struct pc_str	 h, p;
	const char	*colon;
	uint16_t	 port;

	memset(out, 0, sizeof(*out));
	if (s.ptr == NULL || s.len == 0 || s.len > ADDR_TEXT_MAX || memchr(s.ptr, '\0', s.len) != NULL)
		return -PC_EINVAL;
	if (s.ptr[0] == '[') {
		colon = memchr(s.ptr, ']', s.len);
		if (colon == NULL || (size_t)(colon - s.ptr) + 1 >= s.len || colon[1] != ':')
			return -PC_EINVAL;
		h = pc_str_make(s.ptr + 1, (size_t)(colon - s.ptr) - 1);
		p = pc_str_make(colon + 2, s.len - (size_t)(colon - s.ptr) - 2);
	} else {
		/* The last ':' splits; an unbracketed IPv6 address has more than one. */
		colon = memrchr(s.ptr, ':', s.len);
		if (colon == NULL || memchr(s.ptr, ':', (size_t)(colon - s.ptr)) != NULL)
			return -PC_EINVAL;
		h = pc_str_make(s.ptr, (size_t)(colon - s.ptr));
		p = pc_str_make(colon + 1, s.len - (size_t)(colon - s.ptr) - 1);
	}
	if (h.len == 0 || h.len >= sizeof(host) || parse_port(p, &port) != 0)
		return -PC_EINVAL;
	memcpy(host, h.ptr, h.len);
	host[h.len] = '\0';

	if (s.ptr[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

		/* inet_pton(3) refuses "%zone" suffixes, which is what we want. */
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -PC_EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, ntop, sizeof(ntop)) == NULL)
			return -PC_EINVAL;
		(void)snprintf(out->text, sizeof(out->text), "[%s]:%u", ntop, (unsigned)port);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

		/* inet_pton(AF_INET) takes only four decimal parts without leading zeros, unlike
		 * inet_aton(3), which reads "010.1" as octal 8.0.0.1. */
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -PC_EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->len = sizeof(*sin);
		if (inet_ntop(AF_INET, &sin->sin_addr, ntop, sizeof(ntop)) == NULL)
			return -PC_EINVAL;
		(void)snprintf(out->text, sizeof(out->text), "%s:%u", ntop, (unsigned)port);
	}
	return 0;
}

static bool
prefix_match(const uint8_t *net, const uint8_t *addr, unsigned prefix)
{
	unsigned	full = prefix / 8, rest = prefix % 8;
	uint8_t		mask;

	if (full != 0 && memcmp(net, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xffu << (8 - rest));
	return (net[full] & mask) == (addr[full] & mask);
}

bool
pc_cidr_contains(const struct pc_cidr *c, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *a;

	if (c == NULL || sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		if (c->family != AF_INET || c->prefix > 32)
			return false;
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return prefix_match(c->addr, a, c->prefix);
	}
	if (sa->sa_family != AF_INET6)
		return false;
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (c->family == AF_INET6)
		return c->prefix <= 128 && prefix_match(c->addr, a, c->prefix);
	/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; they are the same peer, so
	 * an IPv4 CIDR must match them or "trusted_proxies: [10.0.0.0/8]" silently fails. */
	if (c->family == AF_INET && c->prefix <= 32 && memcmp(a, v4mapped, 12) == 0)
		return prefix_match(c->addr, a + 12, c->prefix);
	return false;
}
