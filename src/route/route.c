/*
 * route/route.c - the router: which configured route a normalized request belongs to
 * (interface: route/route.h).
 * Owns: matching host, path template and method against conf->routes, in the precedence
 * order config/route_tmpl.c sorted them into; the first full match wins.
 * Does not: normalize (it trusts http/normalize.c's output and compares bytes exactly),
 * decide access, allocate, or keep state: it runs once per request on the hot path.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "config/config.h"
#include "http/http.h"
#include "route/route.h"
#include "core/banned.h"

/*
 * The request path cut at '/': "/" has no segment, "/a/" has "a" and "". Only the first
 * PC_CONF_ROUTE_SEGS_MAX + 1 are kept: no template is longer, so a count above the maximum
 * can only be matched by a final "**", which never looks at the individual segments.
 */
struct path_segs {
	unsigned	 n;
	struct pc_str	 seg[PC_CONF_ROUTE_SEGS_MAX + 1];
};

/* The request host reduced to what route hosts are compared with. */
struct req_host {
	struct pc_str	 name;		/* without port; "[v6]" keeps its brackets */
	struct pc_str	 bare;		/* "v6" for "[v6]", else == name */
	bool		 valid;		/* false: no host-specific route can match */
};

static void
split_path(struct pc_str path, struct path_segs *ps)
{
	const char	*p = path.ptr + 1, *end = path.ptr + path.len, *slash;

	ps->n = 0;
	if (path.len <= 1)
		return;
	for (;;) {
		slash = memchr(p, '/', (size_t)(end - p));
		ps->seg[ps->n++] = pc_str_make(p, (size_t)((slash != NULL ? slash : end) - p));
		if (slash == NULL || ps->n == PC_CONF_ROUTE_SEGS_MAX + 1)
			return;
		p = slash + 1;
	}
}

static bool
all_digits(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/*
 * Splits the Host value into name and port (RFC 9110 7.2, RFC 3986 3.2.2: "name[:port]",
 * "[v6]:port"). A port that is not digits makes the host invalid rather than being cut off,
 * so "api.example.com:x@evil" cannot pass for api.example.com. One trailing '.' (the
 * absolute form of the same name) is dropped, or "admin.example.com." would slip past a
 * route bound to "admin.example.com" while the upstream's virtual host still accepts it.
 */
static void
parse_host(struct pc_str h, struct req_host *out)
{
	const char	*end = h.ptr + h.len, *close, *colon;

	out->valid = false;
	out->name = out->bare = PC_STR_NULL;
	if (h.len == 0)
		return;
	if (h.ptr[0] == '[') {
		close = memchr(h.ptr, ']', h.len);
		if (close == NULL || close == h.ptr + 1)
			return;
		if (close + 1 < end && (close[1] != ':' || !all_digits(close + 2, end)))
			return;
		out->name = pc_str_make(h.ptr, (size_t)(close + 1 - h.ptr));
		out->bare = pc_str_make(h.ptr + 1, (size_t)(close - h.ptr - 1));
		out->valid = true;
		return;
	}
	colon = memchr(h.ptr, ':', h.len);
	if (colon != NULL && !all_digits(colon + 1, end))
		return;
	out->name = pc_str_make(h.ptr, colon != NULL ? (size_t)(colon - h.ptr) : h.len);
	if (out->name.len > 1 && out->name.ptr[out->name.len - 1] == '.')
		out->name.len--;
	if (out->name.len == 0)
		return;
	out->bare = out->name;
	out->valid = true;
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* <rh>: the route's host, a C string (lowercase per config.h, lowered again to be safe). */
static bool
host_eq(const char *rh, struct pc_str h)
{
	size_t	i;

	for (i = 0; i < h.len; i++)
		if (rh[i] == '\0' || lower((unsigned char)rh[i]) != lower((unsigned char)h.ptr[i]))
			return false;
	return rh[h.len] == '\0';
}

static bool
host_match(const char *rh, const struct req_host *h)
{
	if (!h->valid)
		return false;
	/* An IPv6 route host may have been written with or without brackets. */
	return host_eq(rh, h->name) || (h->bare.ptr != h->name.ptr && host_eq(rh, h->bare));
}

/* Matches <r>'s template against <ps>; captures go to <params> (reset first). */
static bool
path_match(const struct pc_conf_route *r, const struct path_segs *ps,
    struct pc_route_params *params)
{
	const struct pc_conf_seg	*s;
	unsigned			 k;

	params->n = 0;
	for (k = 0; k < r->nsegs; k++) {
		s = &r->segs[k];
		/* "**" takes zero or more: "/admin/" + "**" must also cover "/admin" itself. */
		if (s->kind == PC_SEG_WILDCARD)
			return true;
		if (k >= ps->n)
			return false;
		if (s->kind == PC_SEG_LITERAL) {
			if (s->text.len != ps->seg[k].len ||
			    memcmp(s->text.ptr, ps->seg[k].ptr, s->text.len) != 0)
				return false;
			continue;
		}
		/* {param} needs a non-empty segment: "/users/" is not "/users/{id}" with id "".
		 * The loader caps parameters at the capture size; fail closed regardless. */
		if (ps->seg[k].len == 0 || params->n == PC_ROUTE_PARAMS_MAX)
			return false;
		params->name[params->n] = s->text;
		params->value[params->n] = ps->seg[k];
		params->n++;
	}
	return ps->n == r->nsegs;
}

static bool
method_match(uint32_t methods, enum pc_method meth)
{
	/* PC_M_OTHER (an unknown token) only ever matches "any": a method list is an
	 * allow-list of known verbs. */
	if (methods == 0)
		return true;
	return meth > PC_M_OTHER && meth < PC_M_COUNT && (methods & (1u << meth)) != 0;
}

const struct pc_conf_route *
pc_route_match(const struct pc_conf *conf, enum pc_method meth, struct pc_str host,
    struct pc_str path, struct pc_route_params *params, enum pc_reason *reason)
{
	const struct pc_conf_route	*r;
	struct path_segs		 ps;
	struct req_host			 rh;
	bool				 method_only = false;
	unsigned			 i;

	params->n = 0;
	*reason = PC_R_ROUTE_NOT_FOUND;
	/* Only normalized paths come here; anything else matches nothing. */
	if (path.len == 0 || path.ptr[0] != '/')
		return NULL;
	split_path(path, &ps);
	parse_host(host, &rh);
	for (i = 0; i < conf->nroutes; i++) {
		r = &conf->routes[i];
		if (r->host != NULL && !host_match(r->host, &rh))
			continue;
		if (r->nsegs > PC_CONF_ROUTE_SEGS_MAX || !path_match(r, &ps, params))
			continue;
		if (method_match(r->methods, meth)) {
			*reason = PC_R_NONE;
			return r;
		}
		method_only = true;
	}
	params->n = 0;
	if (method_only)
		*reason = PC_R_ROUTE_METHOD;
	return NULL;
}
