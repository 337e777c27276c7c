/*
 * config/sections.c - the top level of the file and its small sections, with their defaults.
 * Owns: the meaning, defaults and ranges of workers, listen, limits, trusted_proxies,
 *     report_only, response, access_log, event_log, admin, drain_timeout_ms and
 *     tls_ticket_rotation_s (docs/config.md); the order in which sections are read.
 * Does not: read upstreams or routes (routes.c), listen entries in mapping form and tls:
 *     (tls_conf.c) or response_headers (headers.c), or open the logs and listeners it
 *     names.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "config/config_int.h"
#include "http/http.h"
#include "core/banned.h"

#define LISTENERS_MAX		64
#define PROXIES_MAX		1024
#define TOKEN_MIN_BYTES		16

static int
get_listen(struct pc_conf_loader *ld, struct pc_conf_impl *ci, const struct pc_conf_node *v)
{
	struct pc_conf			*c = &ci->pub;
	const struct pc_conf_node	*e;
	unsigned			 i;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SEQ, "", "listen")) != 0)
		return rc;
	if (v->n == 0 || v->n > LISTENERS_MAX)
		return pc_conf__fail(ld, v, "listen: expected 1 to %d addresses, found %u",
		    LISTENERS_MAX, v->n);
	c->listeners = calloc(v->n, sizeof(*c->listeners));
	if (c->listeners == NULL)
		return pc_conf__oom(ld, v);
	for (e = v->first; e != NULL; e = e->next) {
		struct pc_conf_listener *l = &c->listeners[c->nlisteners];

		if ((rc = pc_conf__get_listener(ld, ci, e, c->nlisteners)) != 0)
			return rc;
		for (i = 0; i < c->nlisteners; i++)
			if (strcmp(c->listeners[i].addr.text, l->addr.text) == 0)
				return pc_conf__fail(ld, e, "listen: %s is already listed at "
				    "line %d", l->addr.text, c->listeners[i].line);
		c->nlisteners++;
	}
	return 0;
}

/* A section of plain numbers (limits:, http2:): one table row per key, so defaults,
 * ranges and messages cannot drift apart. */
struct num_key {
	const char	*name;
	uint64_t	 min, max, def;
	size_t		 off;
	bool		 wide;	/* uint64_t field, else uint32_t */
};

static const struct num_key limit_keys[] = {
#define LIM(n, lo, hi, d) { #n, lo, hi, d, offsetof(struct pc_conf_limits, n), false }
	LIM(request_line_max_bytes, 256, 65536, 8192),
	LIM(header_max_bytes, 1024, 1048576, 32768),
	LIM(header_max_count, 1, PC_HTTP_HDR_MAX, 100),
	{ "body_max_bytes", 0, (uint64_t)1 << 40, 1048576,
	    offsetof(struct pc_conf_limits, body_max_bytes), true },
	LIM(header_timeout_ms, 1, PC_CONF_TIMEOUT_MAX_MS, 10000),
	LIM(body_timeout_ms, 1, PC_CONF_TIMEOUT_MAX_MS, 30000),
	LIM(idle_timeout_ms, 1, PC_CONF_TIMEOUT_MAX_MS, 60000),
	LIM(max_connections, 1, 1000000, 20000),
	LIM(max_requests_per_connection, 1, 1000000000, 10000),
#undef LIM
};

/* The verified-token cache, per worker (pipeline/authn.c). */
static const struct num_key token_cache_keys[] = {
	{ "ttl_s", 0, 3600, 300, offsetof(struct pc_conf, auth_cache_ttl_s), false },
	{ "entries", 0, 1000000, 10000, offsetof(struct pc_conf, auth_cache_entries), false },
};

/* HTTP/2, per connection. The flood limits count per 10 s window (proxy/h2.c). */
static const struct num_key http2_keys[] = {
#define H2(n, lo, hi, d) { #n, lo, hi, d, offsetof(struct pc_conf_http2, n), false }
	H2(max_concurrent_streams, 1, 1000, 128),
	H2(initial_window_bytes, 1024, 16777215, 65535),
	H2(max_resets, 1, 100000, 100),
	H2(max_control_frames, 1, 1000000, 1000),
#undef H2
};

static void
numbers_default(const struct num_key *t, size_t n, void *base)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *f = (char *)base + t[i].off;

		if (t[i].wide)
			memcpy(f, &t[i].def, sizeof(uint64_t));
		else
			*(uint32_t *)(void *)f = (uint32_t)t[i].def;
	}
}

static int
get_numbers(struct pc_conf_loader *ld, const struct num_key *t, size_t n, const char *section,
    void *base, const struct pc_conf_node *v)
{
	const char			*names[PC_NELEM(limit_keys)];
	const struct pc_conf_node	*vals[PC_NELEM(limit_keys)], *keys[PC_NELEM(limit_keys)];
	char				 where[32], prefix[32];
	uint64_t			 x;
	size_t				 i;
	int				 rc;

	PC_ASSERT(n <= PC_NELEM(limit_keys));
	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "", section)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		names[i] = t[i].name;
	(void)snprintf(where, sizeof(where), "in %s", section);
	(void)snprintf(prefix, sizeof(prefix), "%s.", section);
	if ((rc = pc_conf__map_keys(ld, v, names, n, where, vals, keys)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		char *f = (char *)base + t[i].off;

		if (vals[i] == NULL)
			continue;
		rc = pc_conf__get_u64(ld, vals[i], prefix, names[i], t[i].min, t[i].max, &x);
		if (rc != 0)
			return rc;
		if (t[i].wide)
			memcpy(f, &x, sizeof(x));
		else
			*(uint32_t *)(void *)f = (uint32_t)x;
	}
	return 0;
}

static int
parse_cidr(struct pc_conf_loader *ld, const struct pc_conf_node *n, struct pc_cidr *out)
{
	char		 host[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	struct pc_str	 s = pc_str_make(n->val, n->len), a, p;
	uint64_t	 prefix;
	unsigned	 i, max;
	bool		 hostbits = false;

	memset(out, 0, sizeof(*out));
	p = pc_str_split(s, '/', &a);
	if (a.len == 0 || a.len >= sizeof(host))
		goto bad;
	memcpy(host, a.ptr, a.len);
	host[a.len] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	if (a.len == s.len)
		prefix = max;	/* a bare address is a host route */
	else if (p.len == 0 || p.len > 3 || pc_parse_u64(p, max, &prefix) != 0)
		goto bad;
	out->prefix = (uint8_t)prefix;
	for (i = 0; i < max / 8; i++) {
		uint8_t keep = i * 8 >= prefix ? 0 :
		    i * 8 + 8 <= prefix ? 0xff : (uint8_t)(0xffu << (8 - (prefix - i * 8)));

		if (out->addr[i] & ~keep) {
			hostbits = true;
			out->addr[i] &= keep;
		}
	}
	if (hostbits) {
		if (inet_ntop(out->family, out->addr, net, sizeof(net)) == NULL)
			goto bad;
		return pc_conf__fail(ld, n, "trusted_proxies: '%s' has host bits set (did you "
		    "mean %s/%u?)", pc_conf__showv(n).s, n->subst ? "the network" : net,
		    (unsigned)prefix);
	}
	return 0;
bad:
	return pc_conf__fail(ld, n, "trusted_proxies: invalid CIDR '%s' (expected an address "
	    "with an optional prefix length, such as 10.0.0.0/8 or ::1/128)",
	    pc_conf__showv(n).s);
}

static int
get_proxies(struct pc_conf_loader *ld, struct pc_conf_impl *ci, const struct pc_conf_node *v)
{
	struct pc_conf			*c = &ci->pub;
	const struct pc_conf_node	*e;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SEQ, "", "trusted_proxies")) != 0)
		return rc;
	if (v->n > PROXIES_MAX)
		return pc_conf__fail(ld, v, "trusted_proxies: more than %d entries", PROXIES_MAX);
	if (v->n == 0)
		return 0;
	c->trusted_proxies = calloc(v->n, sizeof(*c->trusted_proxies));
	if (c->trusted_proxies == NULL)
		return pc_conf__oom(ld, v);
	for (e = v->first; e != NULL; e = e->next) {
		struct pc_cidr *p = &c->trusted_proxies[c->ntrusted_proxies];

		if ((rc = pc_conf__want_kind(ld, e, PC_NODE_SCALAR, "", "trusted_proxies")) != 0)
			return rc;
		if ((rc = parse_cidr(ld, e, p)) != 0)
			return rc;
		c->ntrusted_proxies++;
		if (p->prefix == 0 && ci->open_proxy_line == 0) {
			ci->open_proxy_line = e->line;
			(void)snprintf(ci->open_proxy_text, sizeof(ci->open_proxy_text), "%s",
			    p->family == AF_INET ? "0.0.0.0/0" : "::/0");
		}
	}
	return 0;
}

static int
get_log(struct pc_conf_loader *ld, const struct pc_conf_node *v, const char *key, char **out)
{
	struct pc_str	s;
	int		rc;

	if ((rc = pc_conf__get_str(ld, v, "", key, &s)) != 0)
		return rc;
	if (s.len == 0)
		return pc_conf__fail(ld, v, "%s: expected \"stdout\", \"off\" or a file path", key);
	free(*out);
	*out = pc_conf__dup_str(ld, v, s);
	return *out == NULL ? -PC_ENOMEM : 0;
}

static int
get_response(struct pc_conf_loader *ld, struct pc_conf *c, const struct pc_conf_node *v)
{
	static const char *const keys[] = { "drop_server_header" };
	const struct pc_conf_node	*vals[1], *kn[1];
	int			 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "", "response")) != 0)
		return rc;
	if ((rc = pc_conf__map_keys(ld, v, keys, 1, "in response", vals, kn)) != 0)
		return rc;
	if (vals[0] != NULL)
		return pc_conf__get_bool(ld, vals[0], "response.", keys[0], &c->drop_server_header);
	return 0;
}

static bool
token_char_ok(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return false;
	return true;
}

static int
get_admin(struct pc_conf_loader *ld, struct pc_conf_impl *ci, const struct pc_conf_node *v)
{
	static const char *const keys[] = { "enabled", "listen", "token" };
	const struct pc_conf_node	*vals[3], *kn[3], *t;
	struct pc_conf		*c = &ci->pub;
	int			 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "", "admin")) != 0)
		return rc;
	if ((rc = pc_conf__map_keys(ld, v, keys, 3, "in admin", vals, kn)) != 0)
		return rc;
	if (vals[0] != NULL && (rc = pc_conf__get_bool(ld, vals[0], "admin.", "enabled",
	    &c->admin_enabled)) != 0)
		return rc;
	if (vals[1] != NULL) {
		if ((rc = pc_conf__get_addr(ld, vals[1], "admin.", "listen", &c->admin_addr)) != 0)
			return rc;
		ci->admin_line = vals[1]->line;
	}
	if ((t = vals[2]) == NULL)
		return 0;
	if ((rc = pc_conf__want_kind(ld, t, PC_NODE_SCALAR, "admin.", "token")) != 0)
		return rc;
	/* A literal token ends up in version control, backups and ps output of editors; the
	 * file only names where the secret lives. Text around the reference would be inline
	 * secret material too. */
	if (!t->only_subst)
		return pc_conf__fail(ld, t, "admin.token: secrets must come from ${env:NAME} or "
		    "${file:PATH}, not inline");
	if (t->len < TOKEN_MIN_BYTES)
		return pc_conf__fail(ld, t, "admin.token: the token is shorter than %d bytes",
		    TOKEN_MIN_BYTES);
	if (!token_char_ok(t->val, t->len))
		return pc_conf__fail(ld, t, "admin.token: the token must be printable ASCII "
		    "without spaces");
	c->admin_token = pc_conf__dup_str(ld, t, pc_str_make(t->val, t->len));
	return c->admin_token == NULL ? -PC_ENOMEM : 0;
}

static const char *const top_keys[] = { "workers", "listen", "limits", "trusted_proxies",
	"report_only", "response", "access_log", "event_log", "admin", "drain_timeout_ms",
	"upstreams", "routes", "user", "tls_ticket_rotation_s", "response_headers", "http2",
	"issuers", "token_cache", "failed_auth", "api_keys", "gateway_identity" };
enum { K_WORKERS, K_LISTEN, K_LIMITS, K_PROXIES, K_REPORT_ONLY, K_RESPONSE, K_ACCESS_LOG,
	K_EVENT_LOG, K_ADMIN, K_DRAIN, K_UPSTREAMS, K_ROUTES, K_USER, K_TICKETS,
	K_RESPONSE_HEADERS, K_HTTP2, K_ISSUERS, K_TOKEN_CACHE, K_FAILED_AUTH,
	K_API_KEYS, K_GATEWAY_IDENTITY };

/* user: a POSIX portable user name that exists here (checked now, not at startup). */
static int
get_user(struct pc_conf_loader *ld, struct pc_conf *c, const struct pc_conf_node *v)
{
	struct passwd	 pw, *res = NULL;
	char		 buf[4096], name[33];
	struct pc_str	 s;
	size_t		 i;
	int		 rc;

	if ((rc = pc_conf__get_str(ld, v, "", "user", &s)) != 0)
		return rc;
	if (s.len == 0 || s.len >= sizeof(name))
		return pc_conf__fail(ld, v, "user: expected a user name of 1 to 32 characters");
	for (i = 0; i < s.len; i++) {
		char ch = s.ptr[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
		    (i > 0 && ((ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))))
			return pc_conf__fail(ld, v, "user: '%s' is not a valid user name",
			    pc_conf__showv(v).s);
	}
	memcpy(name, s.ptr, s.len);
	name[s.len] = '\0';
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return pc_conf__fail(ld, v, "user: no such user '%s'", name);
	if (pw.pw_uid == 0)
		return pc_conf__fail(ld, v, "user: '%s' is root; name an unprivileged user", name);
	c->user = pc_conf__dup_str(ld, v, s);
	return c->user == NULL ? -PC_ENOMEM : 0;
}

static int
get_workers(struct pc_conf_loader *ld, struct pc_conf *c, const struct pc_conf_node *v)
{
	long n;

	if (v != NULL && !(v->kind == PC_NODE_SCALAR && strcmp(v->val, "auto") == 0)) {
		if (v->kind == PC_NODE_SCALAR &&
		    (v->len == 0 || v->val[0] < '0' || v->val[0] > '9'))
			return pc_conf__fail(ld, v, "workers: expected \"auto\" or an integer "
			    "from 1 to 256, found '%s'", pc_conf__showv(v).s);
		return pc_conf__get_u32(ld, v, "", "workers", 1, 256, &c->workers);
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	c->workers = n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
	return 0;
}

int
pc_conf__build(struct pc_conf_loader *ld, struct pc_conf_impl *ci, const struct pc_conf_node *root)
{
	const struct pc_conf_node	*vals[PC_NELEM(top_keys)], *kn[PC_NELEM(top_keys)];
	struct pc_conf			*c = &ci->pub;
	int				 rc;

	rc = pc_conf__map_keys(ld, root, top_keys, PC_NELEM(top_keys), "at the top level",
	    vals, kn);
	if (rc != 0)
		return rc;
	if ((rc = get_workers(ld, c, vals[K_WORKERS])) != 0)
		return rc;
	if (vals[K_LISTEN] == NULL)
		return pc_conf__fail(ld, root, "missing required key 'listen'");
	if ((rc = get_listen(ld, ci, vals[K_LISTEN])) != 0)
		return rc;
	if (vals[K_LIMITS] != NULL && (rc = get_numbers(ld, limit_keys, PC_NELEM(limit_keys),
	    "limits", &c->limits, vals[K_LIMITS])) != 0)
		return rc;
	if (vals[K_HTTP2] != NULL && (rc = get_numbers(ld, http2_keys, PC_NELEM(http2_keys),
	    "http2", &c->http2, vals[K_HTTP2])) != 0)
		return rc;
	if (vals[K_PROXIES] != NULL && (rc = get_proxies(ld, ci, vals[K_PROXIES])) != 0)
		return rc;
	if (vals[K_REPORT_ONLY] != NULL) {
		rc = pc_conf__get_bool(ld, vals[K_REPORT_ONLY], "", "report_only", &c->report_only);
		if (rc != 0)
			return rc;
		ci->report_only_line = vals[K_REPORT_ONLY]->line;
	}
	if (vals[K_RESPONSE] != NULL && (rc = get_response(ld, c, vals[K_RESPONSE])) != 0)
		return rc;
	if (vals[K_ACCESS_LOG] != NULL &&
	    (rc = get_log(ld, vals[K_ACCESS_LOG], "access_log", &c->access_log)) != 0)
		return rc;
	if (vals[K_EVENT_LOG] != NULL &&
	    (rc = get_log(ld, vals[K_EVENT_LOG], "event_log", &c->event_log)) != 0)
		return rc;
	if (vals[K_ADMIN] != NULL) {
		ci->admin_line = kn[K_ADMIN]->line;
		if ((rc = get_admin(ld, ci, vals[K_ADMIN])) != 0)
			return rc;
	}
	if (vals[K_DRAIN] != NULL && (rc = pc_conf__get_u32(ld, vals[K_DRAIN], "",
	    "drain_timeout_ms", 0, PC_CONF_TIMEOUT_MAX_MS, &c->drain_timeout_ms)) != 0)
		return rc;
	if (vals[K_USER] != NULL && (rc = get_user(ld, c, vals[K_USER])) != 0)
		return rc;
	/* 60 s: rotating faster only defeats resumption; a day: a stolen ticket key opens at
	 * most two days of recorded sessions (RFC 8446 8, forward secrecy of tickets). */
	if (vals[K_TICKETS] != NULL && (rc = pc_conf__get_u32(ld, vals[K_TICKETS], "",
	    "tls_ticket_rotation_s", 60, 86400, &c->tls_ticket_rotation_s)) != 0)
		return rc;
	if (vals[K_RESPONSE_HEADERS] != NULL &&
	    (rc = pc_conf__get_response_headers(ld, c, vals[K_RESPONSE_HEADERS])) != 0)
		return rc;
	if (vals[K_TOKEN_CACHE] != NULL && (rc = get_numbers(ld, token_cache_keys,
	    PC_NELEM(token_cache_keys), "token_cache", c, vals[K_TOKEN_CACHE])) != 0)
		return rc;
	if (vals[K_ISSUERS] != NULL && (rc = pc_conf__get_issuers(ld, ci, vals[K_ISSUERS])) != 0)
		return rc;
	/* After issuers: (a store may not reuse an issuer's name), before routes:. */
	if (vals[K_API_KEYS] != NULL && (rc = pc_conf__get_apikeys(ld, c, vals[K_API_KEYS])) != 0)
		return rc;
	/* Before routes: (upstream_token: needs it). */
	if (vals[K_GATEWAY_IDENTITY] != NULL &&
	    (rc = pc_conf__get_gateway_identity(ld, c, vals[K_GATEWAY_IDENTITY])) != 0)
		return rc;
	if (vals[K_UPSTREAMS] != NULL &&
	    (rc = pc_conf__get_upstreams(ld, c, vals[K_UPSTREAMS])) != 0)
		return rc;
	if (vals[K_ROUTES] == NULL)
		return pc_conf__fail(ld, root, "missing required key 'routes'");
	if ((rc = pc_conf__get_routes(ld, c, vals[K_ROUTES])) != 0)
		return rc;
	if ((rc = pc_conf__get_failed_auth(ld, c, vals[K_FAILED_AUTH])) != 0)
		return rc;
	return pc_conf__tls_build(ld, c);
}

int
pc_conf__defaults(struct pc_conf_loader *ld, struct pc_conf_impl *ci)
{
	struct pc_conf *c = &ci->pub;

	c->refs = 1;
	numbers_default(limit_keys, PC_NELEM(limit_keys), &c->limits);
	numbers_default(http2_keys, PC_NELEM(http2_keys), &c->http2);
	numbers_default(token_cache_keys, PC_NELEM(token_cache_keys), c);
	c->drop_server_header = true;
	c->admin_enabled = true;
	c->drain_timeout_ms = 30000;
	c->tls_ticket_rotation_s = 3600;
	if (pc_addr_parse(PC_STR("127.0.0.1:9901"), &c->admin_addr) != 0)
		return pc_conf__fail_at(ld, 1, 1, "internal error: default admin address");
	c->path = pc_conf__dup_str(ld, NULL, pc_str_c(ld->name));
	c->access_log = pc_conf__dup_str(ld, NULL, PC_STR("stdout"));
	c->event_log = pc_conf__dup_str(ld, NULL, PC_STR("off"));
	if (c->path == NULL || c->access_log == NULL || c->event_log == NULL)
		return -PC_ENOMEM;
	return 0;
}
