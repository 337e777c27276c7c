/*
 * config/route_tmpl.c - route path templates: parsing "/users/{id}" or "/static/" + "**" into
 * segments, and the precedence order in which routes are tried.
 * Owns: the template grammar (config_int.h) and the meaning of "more specific".
 * Does not: read YAML, match requests (route/ does that on the sorted array), or allocate
 * anything that outlives the call.
 * Refuses templates that could never match a normalized path ("." / "..", '%', empty
 * segments) or that look like a wildcard but are not ("*", "a**"), so a typo fails at load
 * time instead of silently leaving a route unprotected or unreachable.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "core/banned.h"

/* route/route.h PC_ROUTE_PARAMS_MAX: config/ may not include route/ (dependencies point
 * down), so the value is repeated here and a unit test checks that the two agree. */
#define TMPL_PARAMS_MAX		16
#define TMPL_PARAM_NAME_MAX	32

/* Routes sorted by insertion sort below this count; merge sort above (needs a buffer). */
#define SORT_SMALL		16

static int
tmpl_error(char *err, size_t errlen, unsigned *col, size_t at, const char *msg)
{
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s", msg);
	if (col != NULL)
		*col = (unsigned)at;
	return -PC_EINVAL;
}

/* RFC 3986 pchar without pct-encoded: unreserved, sub-delims, ':' and '@'. */
static bool
is_literal_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

static bool
is_name_char(unsigned char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/* Parses the "{name}" at p[start, end); <r> holds the segments parsed so far. */
static int
parse_param(struct pc_conf_route *r, const char *p, size_t start, size_t end, char *err,
    size_t errlen, unsigned *col)
{
	struct pc_str	name = pc_str_make(p + start + 1, end - start - 2);
	unsigned	i, nparams = 0;

	if (p[end - 1] != '}' || end - start < 3) {
		if (end - start == 2 && p[end - 1] == '}')
			return tmpl_error(err, errlen, col, start + 1, "empty parameter name '{}'");
		return tmpl_error(err, errlen, col, end - 1,
		    "a parameter must be a whole segment: '{name}'");
	}
	for (i = 0; i < name.len; i++)
		if (!is_name_char((unsigned char)name.ptr[i], i == 0))
			return tmpl_error(err, errlen, col, start + 1 + i,
			    "parameter names are [A-Za-z_][A-Za-z0-9_]*");
	if (name.len > TMPL_PARAM_NAME_MAX)
		return tmpl_error(err, errlen, col, start + 1,
		    "parameter name longer than 32 characters");
	for (i = 0; i < r->nsegs; i++) {
		if (r->segs[i].kind != PC_SEG_PARAM)
			continue;
		nparams++;
		if (pc_str_eq(r->segs[i].text, name))
			return tmpl_error(err, errlen, col, start + 1,
			    "duplicate parameter name in route path");
	}
	if (nparams >= TMPL_PARAMS_MAX)
		return tmpl_error(err, errlen, col, start,
		    "more than 16 parameters in route path");
	r->segs[r->nsegs].kind = PC_SEG_PARAM;
	r->segs[r->nsegs].text = name;
	return 0;
}

/* Parses the literal at p[start, end). */
static int
parse_literal(struct pc_conf_route *r, const char *p, size_t start, size_t end, char *err,
    size_t errlen, unsigned *col)
{
	size_t	i, len = end - start;

	for (i = start; i < end; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '%')
			return tmpl_error(err, errlen, col, i,
			    "'%' in a route path: write the character itself (paths are "
			    "matched after normalization)");
		if (c == '{' || c == '}')
			return tmpl_error(err, errlen, col, i,
			    "a parameter must be a whole segment: '{name}'");
		if (!is_literal_char(c))
			return tmpl_error(err, errlen, col, i, "invalid character in route path");
		if (c == '*' && (len == 1 || (i + 1 < end && p[i + 1] == '*')))
			return tmpl_error(err, errlen, col, i,
			    "'*' is not a wildcard: use {name} for one segment or a final "
			    "'**' for the rest");
	}
	/* Normalized paths never contain dot segments: such a route could never match. */
	if (p[start] == '.' && (len == 1 || (len == 2 && p[start + 1] == '.')))
		return tmpl_error(err, errlen, col, start, "'.' and '..' segments never match");
	r->segs[r->nsegs].kind = PC_SEG_LITERAL;
	r->segs[r->nsegs].text = pc_str_make(p + start, len);
	return 0;
}

int
pc_conf__route_parse_path(struct pc_conf_route *r, char *err, size_t errlen, unsigned *col)
{
	const char	*p = r->path;
	size_t		 i, start, end;
	int		 rc;

	r->nsegs = 0;
	if (p == NULL || p[0] != '/')
		return tmpl_error(err, errlen, col, 0, "route path must start with '/'");
	if (p[1] == '\0')
		return 0;
	for (i = 0; p[i] == '/'; i = end) {
		start = i + 1;
		for (end = start; p[end] != '\0' && p[end] != '/'; end++)
			;
		if (end == start) {
			rc = tmpl_error(err, errlen, col, start,
			    "empty segment in route path ('//' or a trailing '/')");
			goto fail;
		}
		if (r->nsegs == PC_CONF_ROUTE_SEGS_MAX) {
			rc = tmpl_error(err, errlen, col, start,
			    "more than 32 segments in route path");
			goto fail;
		}
		if (end - start == 2 && p[start] == '*' && p[start + 1] == '*') {
			if (p[end] != '\0') {
				rc = tmpl_error(err, errlen, col, start,
				    "'**' must be the last segment of a route path");
				goto fail;
			}
			r->segs[r->nsegs].kind = PC_SEG_WILDCARD;
			r->segs[r->nsegs].text = pc_str_make(p + start, 2);
		} else if (p[start] == '{') {
			rc = parse_param(r, p, start, end, err, errlen, col);
			if (rc != 0)
				goto fail;
		} else {
			rc = parse_literal(r, p, start, end, err, errlen, col);
			if (rc != 0)
				goto fail;
		}
		r->nsegs++;
	}
	return 0;
fail:
	r->nsegs = 0;
	return rc;
}

/* Specificity of what a template has at one position; higher sorts first. */
enum {
	RANK_WILDCARD = 0,
	RANK_END = 1,
	RANK_PARAM = 2,
	RANK_LITERAL = 3,
};

static int
seg_rank(const struct pc_conf_route *r, unsigned i)
{
	if (i >= r->nsegs)
		return RANK_END;
	switch (r->segs[i].kind) {
	case PC_SEG_LITERAL:
		return RANK_LITERAL;
	case PC_SEG_PARAM:
		return RANK_PARAM;
	case PC_SEG_WILDCARD:
		return RANK_WILDCARD;
	}
	return RANK_WILDCARD;
}

/*
 * Negative if <a> must be tried before <b>. Only the kinds of segments matter: two
 * different literals at one position never match the same path, so their order is
 * irrelevant, and ignoring their text keeps the order a simple lexicographic one.
 * "/a" (ended) beats "/a/" + "**" (wildcard) for the path "/a"; "/users/me" beats
 * "/users/{id}".
 */
int
pc_conf__route_cmp(const struct pc_conf_route *a, const struct pc_conf_route *b)
{
	unsigned	i;
	int		ka, kb;

	for (i = 0; i < a->nsegs || i < b->nsegs; i++) {
		ka = seg_rank(a, i);
		kb = seg_rank(b, i);
		if (ka != kb)
			return ka > kb ? -1 : 1;
	}
	if ((a->host != NULL) != (b->host != NULL))
		return a->host != NULL ? -1 : 1;
	if ((a->methods != 0) != (b->methods != 0))
		return a->methods != 0 ? -1 : 1;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return 0;
}

/* Stable: an element moves left only past strictly greater ones. */
static void
insertion_sort(struct pc_conf_route *v, unsigned n)
{
	struct pc_conf_route	tmp;
	unsigned		i, j;

	for (i = 1; i < n; i++) {
		if (pc_conf__route_cmp(&v[i - 1], &v[i]) <= 0)
			continue;
		tmp = v[i];
		for (j = i; j > 0 && pc_conf__route_cmp(&v[j - 1], &tmp) > 0; j--)
			v[j] = v[j - 1];
		v[j] = tmp;
	}
}

/* Stable bottom-up merge sort through <tmp> (n elements): ties keep the left run first. */
static void
merge_sort(struct pc_conf_route *v, struct pc_conf_route *tmp, unsigned n)
{
	struct pc_conf_route	*src = v, *dst = tmp, *swap;
	unsigned		 width, lo, mid, hi, i, j, k;

	for (lo = 0; lo < n; lo += SORT_SMALL)
		insertion_sort(v + lo, n - lo < SORT_SMALL ? n - lo : SORT_SMALL);
	for (width = SORT_SMALL; width < n; width *= 2) {
		for (lo = 0; lo < n; lo += 2 * width) {
			mid = n - lo < width ? n : lo + width;
			hi = n - lo < 2 * width ? n : lo + 2 * width;
			i = lo;
			j = mid;
			for (k = lo; k < hi; k++) {
				if (i < mid && (j >= hi || pc_conf__route_cmp(&src[i], &src[j]) <= 0))
					dst[k] = src[i++];
				else
					dst[k] = src[j++];
			}
		}
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != v)
		memcpy(v, src, (size_t)n * sizeof(*v));
}

/*
 * Sorts <routes>/<n> most specific first. Segment texts point into each route's own <path>
 * string, not into the struct, so moving the structs is safe.
 */
void
pc_conf__routes_sort(struct pc_conf_route *routes, unsigned n)
{
	struct pc_conf_route *tmp;

	if (n < 2)
		return;
	if (n <= SORT_SMALL) {
		insertion_sort(routes, n);
		return;
	}
	/* Config load, not the request path. Without memory the quadratic sort still gives
	 * the same order (both are stable), only slower. */
	tmp = calloc(n, sizeof(*tmp));
	if (tmp == NULL) {
		insertion_sort(routes, n);
		return;
	}
	merge_sort(routes, tmp, n);
	free(tmp);
}
