/*
 * config/routes.c - the upstreams: and routes: sections.
 * Owns: upstream names, targets, timeouts and their defaults; route names, methods, hosts,
 *     the upstream a route names, client_cert, deny-by-default, and refusing ambiguous
 *     routes.
 * Does not: parse path templates or order routes (route_tmpl.c), read tls: sections
 *     (tls_conf.c), check header names (headers.c), or resolve names.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "config/config_int.h"
#include "http/http.h"
#include "core/banned.h"

#define UPSTREAMS_MAX		1024
#define ROUTES_MAX		4096
#define ROUTE_PATH_MAX		2048

bool
pc_conf__name_ok(struct pc_str s, size_t max, const char *extra)
{
	size_t i;

	if (s.len == 0 || s.len > max)
		return false;
	for (i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(extra, c) != NULL)))
			return false;
	}
	return true;
}

/* pc_conf__map_keys() for one upstream or route, <m>, which must be a mapping; <ctx> names it
 * ("route #2: "). */
static int
entry_keys(struct pc_conf_loader *ld, const struct pc_conf_node *m, const char *ctx,
    const char *const *keys, size_t nkeys, const char *where, const struct pc_conf_node **vals,
    const struct pc_conf_node **kn)
{
	if (m->kind != PC_NODE_MAP)
		return pc_conf__fail(ld, m, "%sexpected a mapping, found %s", ctx,
		    pc_conf__kind_name(m));
	return pc_conf__map_keys(ld, m, keys, nkeys, where, vals, kn);
}

static const char *const upstream_keys[] = { "targets", "connect_timeout_ms",
	"read_timeout_ms", "total_timeout_ms", "keepalive", "keepalive_timeout_ms", "max_fails",
	"fail_timeout_ms", "tls", "audience" };
#define UK_NUMS		8	/* keys 1..7 are numbers */
#define UK_TLS		8
#define UK_AUDIENCE	9

/* The numeric keys, indexed like upstream_keys: range, default, and the uint32_t field. */
static const struct {
	uint32_t	 min, max, def;
	size_t		 off;
} upstream_nums[UK_NUMS] = {
#define NUM(f, lo, hi, d)	{ lo, hi, d, offsetof(struct pc_conf_upstream, f) }
	[1] = NUM(connect_timeout_ms, 1, PC_CONF_TIMEOUT_MAX_MS, 2000),
	[2] = NUM(read_timeout_ms, 1, PC_CONF_TIMEOUT_MAX_MS, 30000),
	[3] = NUM(total_timeout_ms, 1, PC_CONF_TIMEOUT_MAX_MS, 60000),
	[4] = NUM(keepalive_max, 0, 1024, 32),
	[5] = NUM(keepalive_timeout_ms, 1, PC_CONF_TIMEOUT_MAX_MS, 30000),
	[6] = NUM(max_fails, 0, 1000, 3),
	[7] = NUM(fail_timeout_ms, 1, PC_CONF_TIMEOUT_MAX_MS, 10000),
#undef NUM
};

static uint32_t *
upstream_num(struct pc_conf_upstream *u, size_t i)
{
	return (uint32_t *)(void *)((char *)u + upstream_nums[i].off);
}

static int
get_upstream(struct pc_conf_loader *ld, struct pc_conf_upstream *u, unsigned idx,
    const struct pc_conf_node *k, const struct pc_conf_node *v)
{
	const struct pc_conf_node	*vals[PC_NELEM(upstream_keys)];
	const struct pc_conf_node	*kn[PC_NELEM(upstream_keys)], *e;
	char				 ctx[96], where[96];
	size_t				 i;
	int				 rc;

	(void)snprintf(ctx, sizeof(ctx), "upstream '%s': ", u->name);
	(void)snprintf(where, sizeof(where), "in upstream '%s'", u->name);
	rc = entry_keys(ld, v, ctx, upstream_keys, PC_NELEM(upstream_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if (vals[0] == NULL)
		return pc_conf__fail(ld, k, "%smissing required key 'targets'", ctx);
	if ((rc = pc_conf__want_kind(ld, vals[0], PC_NODE_SEQ, ctx, "targets")) != 0)
		return rc;
	if (vals[0]->n == 0 || vals[0]->n > PC_CONF_TARGETS_MAX)
		return pc_conf__fail(ld, vals[0], "%stargets: expected 1 to %d addresses, "
		    "found %u", ctx, PC_CONF_TARGETS_MAX, vals[0]->n);
	u->targets = calloc(vals[0]->n, sizeof(*u->targets));
	if (u->targets == NULL)
		return pc_conf__oom(ld, vals[0]);
	for (e = vals[0]->first; e != NULL; e = e->next)
		if ((rc = pc_conf__get_addr(ld, e, ctx, "targets",
		    &u->targets[u->ntargets++])) != 0)
			return rc;
	for (i = 1; i < UK_NUMS; i++) {
		if (vals[i] == NULL)
			continue;
		rc = pc_conf__get_u32(ld, vals[i], ctx, upstream_keys[i], upstream_nums[i].min,
		    upstream_nums[i].max, upstream_num(u, i));
		if (rc != 0)
			return rc;
	}
	if ((rc = pc_conf__get_upstream_audience(ld, u, ctx, vals[UK_AUDIENCE])) != 0)
		return rc;
	if (vals[UK_TLS] != NULL)
		return pc_conf__get_upstream_tls(ld, u, idx, kn[UK_TLS], vals[UK_TLS]);
	return 0;
}

int
pc_conf__get_upstreams(struct pc_conf_loader *ld, struct pc_conf *c, const struct pc_conf_node *v)
{
	const struct pc_conf_node	*k, *val;
	unsigned			 i;
	size_t				 j;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "", "upstreams")) != 0)
		return rc;
	if (v->n / 2 > UPSTREAMS_MAX)
		return pc_conf__fail(ld, v, "upstreams: more than %d upstreams", UPSTREAMS_MAX);
	if (v->n == 0)
		return 0;
	c->upstreams = calloc(v->n / 2, sizeof(*c->upstreams));
	if (c->upstreams == NULL)
		return pc_conf__oom(ld, v);
	for (k = v->first; k != NULL; k = val->next) {
		struct pc_conf_upstream *u = &c->upstreams[c->nupstreams];

		val = k->next;
		if (!pc_conf__name_ok(pc_str_make(k->val, k->len), 64, "_.-"))
			return pc_conf__fail(ld, k, "upstreams: invalid upstream name '%s' "
			    "(expected [A-Za-z0-9_.-]{1,64})", pc_conf__show(k->val, k->len).s);
		for (i = 0; i < c->nupstreams; i++)
			if (strcmp(c->upstreams[i].name, k->val) == 0)
				return pc_conf__fail(ld, k, "duplicate upstream '%s' (first at "
				    "line %d)", k->val, c->upstreams[i].line);
		u->name = pc_conf__dup_str(ld, k, pc_str_make(k->val, k->len));
		if (u->name == NULL)
			return -PC_ENOMEM;
		c->nupstreams++;
		u->line = k->line;
		for (j = 1; j < UK_NUMS; j++)
			*upstream_num(u, j) = upstream_nums[j].def;
		u->tls_verify = true;
		/* Plain upstreams all share the empty key; tls_conf.c sets the others. */
		if ((u->pool_key = pc_conf__dup_str(ld, k, PC_STR(""))) == NULL)
			return -PC_ENOMEM;
		if ((rc = get_upstream(ld, u, c->nupstreams - 1, k, val)) != 0)
			return rc;
	}
	return 0;
}

static const struct {
	const char	*name;
	enum pc_method	 m;
} method_names[] = {
	{ "GET", PC_M_GET }, { "HEAD", PC_M_HEAD }, { "POST", PC_M_POST }, { "PUT", PC_M_PUT },
	{ "DELETE", PC_M_DELETE }, { "PATCH", PC_M_PATCH }, { "OPTIONS", PC_M_OPTIONS },
	{ "TRACE", PC_M_TRACE },
};

static int
get_methods(struct pc_conf_loader *ld, struct pc_conf_route *r, const struct pc_conf_node *v,
    const char *ctx)
{
	const struct pc_conf_node	*e;
	size_t				 i;
	uint32_t			 bit;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SEQ, ctx, "methods")) != 0)
		return rc;
	/* An empty list would match nothing: a route nobody can reach is a typo. */
	if (v->n == 0)
		return pc_conf__fail(ld, v, "%smethods: empty list (omit the key to allow any "
		    "method)", ctx);
	for (e = v->first; e != NULL; e = e->next) {
		if ((rc = pc_conf__want_kind(ld, e, PC_NODE_SCALAR, ctx, "methods")) != 0)
			return rc;
		for (i = 0; i < PC_NELEM(method_names); i++)
			if (strcmp(e->val, method_names[i].name) == 0)
				break;
		if (i == PC_NELEM(method_names)) {
			for (i = 0; i < PC_NELEM(method_names); i++)
				if (strcasecmp(e->val, method_names[i].name) == 0)
					return pc_conf__fail(ld, e, "%smethods: '%s' must be "
					    "upper case ('%s')", ctx, pc_conf__showv(e).s,
					    method_names[i].name);
			return pc_conf__fail(ld, e, "%smethods: unknown method '%s' (expected "
			    "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS or TRACE)", ctx,
			    pc_conf__showv(e).s);
		}
		bit = 1u << method_names[i].m;
		if (r->methods & bit)
			return pc_conf__fail(ld, e, "%smethods: %s is listed twice", ctx,
			    method_names[i].name);
		r->methods |= bit;
	}
	return 0;
}

/* A reg-name of DNS labels, or an IPv4 literal, or a bracketed IPv6 literal; lowercased. */
static int
get_host(struct pc_conf_loader *ld, struct pc_conf_route *r, const struct pc_conf_node *v,
    const char *ctx)
{
	struct in6_addr	 a6;
	struct pc_str	 s;
	char		 buf[256];
	size_t		 i, label = 0;
	bool		 alldigits = true;
	int		 rc;

	if ((rc = pc_conf__get_str(ld, v, ctx, "host", &s)) != 0)
		return rc;
	if (s.len == 0 || s.len > 253)
		goto bad;
	for (i = 0; i < s.len; i++)
		buf[i] = (s.ptr[i] >= 'A' && s.ptr[i] <= 'Z') ? (char)(s.ptr[i] | 0x20) : s.ptr[i];
	buf[s.len] = '\0';
	if (buf[0] == '[') {
		if (buf[s.len - 1] != ']' || s.len < 3)
			goto bad;
		buf[s.len - 1] = '\0';
		if (inet_pton(AF_INET6, buf + 1, &a6) != 1)
			goto bad;
		buf[s.len - 1] = ']';
	} else {
		if (memchr(buf, ':', s.len) != NULL)
			return pc_conf__fail(ld, v, "%shost: '%s' must not include a port", ctx,
			    pc_conf__showv(v).s);
		for (i = 0; i <= s.len; i++) {
			char c = buf[i];

			if (c == '.' || c == '\0') {
				/* Labels: 1..63 characters, no hyphen at either end (RFC 1123). */
				if (label == 0 || label > 63 || buf[i - 1] == '-')
					goto bad;
				label = 0;
				continue;
			}
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				goto bad;
			if (c == '-' && label == 0)
				goto bad;
			if (c < '0' || c > '9')
				alldigits = false;
			label++;
		}
		/* All-numeric dotted names are IPv4 literals, and must be valid ones: "1.2.3"
		 * or "010.0.0.1" mean other addresses to other parsers. */
		if (alldigits && inet_pton(AF_INET, buf, &a6) != 1)
			goto bad;
	}
	r->host = pc_conf__dup_str(ld, v, pc_str_make(buf, s.len));
	return r->host == NULL ? -PC_ENOMEM : 0;
bad:
	return pc_conf__fail(ld, v, "%shost: invalid host name '%s' (expected a DNS name or an IP "
	    "address, without port or wildcard)", ctx, pc_conf__showv(v).s);
}

static const char *const route_keys[] = { "name", "path", "methods", "host", "upstream",
	"public", "report_only", "body_max_bytes", "client_cert", "client_cert_header", "auth",
	"scopes", "bound_tokens", "forward_credential", "identity_headers", "login",
	"upstream_token" };

/* client_cert: none | required, and the header that forwards the verified identity. */
static int
get_client_cert(struct pc_conf_loader *ld, struct pc_conf_route *r, const char *ctx,
    const struct pc_conf_node *v, const struct pc_conf_node *hv, const struct pc_conf_node *hk)
{
	struct pc_str	s;
	char		hctx[192];
	int		rc;

	if (v != NULL) {
		if ((rc = pc_conf__get_str(ld, v, ctx, "client_cert", &s)) != 0)
			return rc;
		if (pc_str_eq(s, PC_STR("required")))
			r->client_cert = true;
		else if (!pc_str_eq(s, PC_STR("none")))
			return pc_conf__fail(ld, v, "%sclient_cert: expected none or required, "
			    "found '%s'", ctx, pc_conf__showv(v).s);
	}
	if (hv == NULL)
		return 0;
	/* Without a required certificate the header would be absent on some requests and
	 * present on others: the upstream could not tell "no certificate" from "stripped". */
	if (!r->client_cert)
		return pc_conf__fail(ld, hk, "%sclient_cert_header: only with client_cert: "
		    "required", ctx);
	if ((rc = pc_conf__want_kind(ld, hv, PC_NODE_SCALAR, ctx, "client_cert_header")) != 0)
		return rc;
	(void)snprintf(hctx, sizeof(hctx), "%sclient_cert_header: ", ctx);
	if ((rc = pc_conf__header_name(ld, hv, hctx)) != 0)
		return rc;
	r->client_cert_header = pc_conf__dup_str(ld, hv, pc_str_make(hv->val, hv->len));
	return r->client_cert_header == NULL ? -PC_ENOMEM : 0;
}

static int
get_route(struct pc_conf_loader *ld, struct pc_conf *c, struct pc_conf_route *r,
    const struct pc_conf_node *m, unsigned idx)
{
	const struct pc_conf_node	*vals[PC_NELEM(route_keys)], *kn[PC_NELEM(route_keys)];
	const char			*names[UPSTREAMS_MAX + 1], *hint;
	char				 ctx[160], where[64], perr[160];
	struct pc_str			 path, name, up;
	unsigned			 i, col = 0;
	int				 rc;

	(void)snprintf(ctx, sizeof(ctx), "route #%u: ", idx + 1);
	(void)snprintf(where, sizeof(where), "in route #%u", idx + 1);
	r->line = m->line;
	r->order = idx;
	r->body_max_bytes = c->limits.body_max_bytes;
	rc = entry_keys(ld, m, ctx, route_keys, PC_NELEM(route_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if (vals[1] == NULL)
		return pc_conf__fail(ld, m, "%smissing required key 'path'", ctx);
	if ((rc = pc_conf__get_str(ld, vals[1], ctx, "path", &path)) != 0)
		return rc;
	if (path.len == 0 || path.len > ROUTE_PATH_MAX)
		return pc_conf__fail(ld, vals[1], "%spath: expected a template of 1 to %d "
		    "bytes", ctx, ROUTE_PATH_MAX);
	if (vals[0] != NULL) {
		if ((rc = pc_conf__get_str(ld, vals[0], ctx, "name", &name)) != 0)
			return rc;
		if (!pc_conf__name_ok(name, 128, "_.:/{}*-"))
			return pc_conf__fail(ld, vals[0], "%sinvalid name '%s' (expected "
			    "[A-Za-z0-9_.:/{}*-]{1,128})", ctx, pc_conf__showv(vals[0]).s);
	} else {
		name = path;	/* the default name */
	}
	if ((r->name = pc_conf__dup_str(ld, m, name)) == NULL ||
	    (r->path = pc_conf__dup_str(ld, m, path)) == NULL)
		return -PC_ENOMEM;
	(void)snprintf(ctx, sizeof(ctx), "route '%s': ", pc_conf__show(name.ptr, name.len).s);
	for (i = 0; i < idx; i++)
		if (strcmp(c->routes[i].name, r->name) == 0)
			return pc_conf__fail(ld, vals[0] ? vals[0] : m, "%sthe name is already "
			    "used by the route at line %d (names must be unique: set name: on one "
			    "of them)", ctx, c->routes[i].line);

	perr[0] = '\0';
	if (pc_conf__route_parse_path(r, perr, sizeof(perr), &col) != 0) {
		/* Point at the offending character when the text is the file's own. */
		if (vals[1]->subst)
			return pc_conf__fail(ld, vals[1], "%spath: %s", ctx, perr);
		return pc_conf__fail_at(ld, vals[1]->line, vals[1]->col +
		    (vals[1]->quoted ? 1 : 0) + (int)col, "%spath: %s", ctx, perr);
	}
	if (vals[2] != NULL && (rc = get_methods(ld, r, vals[2], ctx)) != 0)
		return rc;
	if (vals[3] != NULL && (rc = get_host(ld, r, vals[3], ctx)) != 0)
		return rc;

	if (vals[4] == NULL)
		return pc_conf__fail(ld, m, "%smissing required key 'upstream'", ctx);
	if ((rc = pc_conf__get_str(ld, vals[4], ctx, "upstream", &up)) != 0)
		return rc;
	for (i = 0; i < c->nupstreams; i++) {
		if (pc_str_eq(up, pc_str_c(c->upstreams[i].name)))
			break;
		names[i] = c->upstreams[i].name;
	}
	if (i == c->nupstreams) {
		hint = memchr(up.ptr, '\0', up.len) ? NULL : pc_conf__closest(up.ptr, names, i);
		if (hint != NULL)
			return pc_conf__fail(ld, vals[4], "%sunknown upstream '%s' (did you "
			    "mean '%s'?)", ctx, pc_conf__showv(vals[4]).s, hint);
		return pc_conf__fail(ld, vals[4], "%sunknown upstream '%s'", ctx,
		    pc_conf__showv(vals[4]).s);
	}
	r->upstream = i;

	if (vals[5] != NULL && (rc = pc_conf__get_bool(ld, vals[5], ctx, "public",
	    &r->public_)) != 0)
		return rc;
	if (vals[6] != NULL && (rc = pc_conf__get_bool(ld, vals[6], ctx, "report_only",
	    &r->report_only)) != 0)
		return rc;
	if (vals[7] != NULL && (rc = pc_conf__get_u64(ld, vals[7], ctx, "body_max_bytes", 0,
	    (uint64_t)1 << 40, &r->body_max_bytes)) != 0)
		return rc;
	if ((rc = get_client_cert(ld, r, ctx, vals[8], vals[9], kn[9])) != 0)
		return rc;
	if ((rc = pc_conf__get_route_auth(ld, c, r, ctx, vals[10], vals[11], vals[12])) != 0)
		return rc;
	if ((rc = pc_conf__get_route_identity(ld, r, ctx, vals[13], vals[14])) != 0)
		return rc;
	if ((rc = pc_conf__get_route_login(ld, r, ctx, vals[15])) != 0)
		return rc;
	if ((rc = pc_conf__get_route_upstream_token(ld, c, r, ctx, vals[16], vals[13])) != 0)
		return rc;
	/* Deny by default: a route either names how its callers authenticate (a token from
	 * one of its issuers, a verified client certificate) or says, in the file, that it
	 * needs nothing. Both at once would leave a reader unsure which one holds. */
	if (r->public_ && (r->client_cert || pc_route_has_auth(r)))
		return pc_conf__fail(ld, vals[5], "route '%s': public: true contradicts %s (a "
		    "route is public or authenticated)", pc_conf__show(name.ptr, name.len).s,
		    pc_route_has_auth(r) ? "auth:" : "client_cert: required");
	if (!r->public_ && !r->client_cert && !pc_route_has_auth(r))
		return pc_conf__fail(ld, vals[5] ? vals[5] : m, "route '%s': not public and no "
		    "authentication configured; deny by default (set auth:, client_cert: "
		    "required, or public: true)", pc_conf__show(name.ptr, name.len).s);
	return 0;
}

static bool
same_template(const struct pc_conf_route *a, const struct pc_conf_route *b)
{
	unsigned i;

	if (a->nsegs != b->nsegs)
		return false;
	for (i = 0; i < a->nsegs; i++) {
		if (a->segs[i].kind != b->segs[i].kind)
			return false;
		/* {id} and {user} match the same requests: only literals must be equal. */
		if (a->segs[i].kind == PC_SEG_LITERAL &&
		    !pc_str_eq(a->segs[i].text, b->segs[i].text))
			return false;
	}
	return true;
}

int
pc_conf__get_routes(struct pc_conf_loader *ld, struct pc_conf *c, const struct pc_conf_node *v)
{
	const struct pc_conf_route	*a, *b;
	const struct pc_conf_node	*e;
	unsigned			 i, j;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SEQ, "", "routes")) != 0)
		return rc;
	if (v->n == 0 || v->n > ROUTES_MAX)
		return pc_conf__fail(ld, v, "routes: expected 1 to %d routes, found %u", ROUTES_MAX,
		    v->n);
	c->routes = calloc(v->n, sizeof(*c->routes));
	if (c->routes == NULL)
		return pc_conf__oom(ld, v);
	for (e = v->first; e != NULL; e = e->next) {
		/* Counted before parsing, so the free path sees a half-built route too. */
		c->nroutes++;
		if ((rc = get_route(ld, c, &c->routes[c->nroutes - 1], e, c->nroutes - 1)) != 0)
			return rc;
	}
	/* The precedence order breaks ties by file position, which hides mistakes: two
	 * routes that match exactly the same requests make the second one dead code. */
	for (j = 1, e = v->first->next; j < c->nroutes; j++, e = e->next) {
		b = &c->routes[j];
		for (i = 0; i < j; i++) {
			a = &c->routes[i];
			if (!same_template(a, b))
				continue;
			if ((a->host == NULL) != (b->host == NULL) ||
			    (a->host != NULL && strcmp(a->host, b->host) != 0))
				continue;
			if (a->methods != 0 && b->methods != 0 && (a->methods & b->methods) == 0)
				continue;
			return pc_conf__fail(ld, e, "routes '%s' (line %d) and '%s' (line %d) are "
			    "ambiguous: same path, host and overlapping methods",
			    pc_conf__show(a->name, strlen(a->name)).s, a->line,
			    pc_conf__show(b->name, strlen(b->name)).s, b->line);
		}
	}
	/* Before sorting, so that the list follows the file. */
	if ((rc = pc_conf__strip_headers(ld, c, v)) != 0)
		return rc;
	pc_conf__routes_sort(c->routes, c->nroutes);
	return 0;
}
