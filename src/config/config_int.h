/*
 * config/config_int.h - private to config/: helpers shared between its files.
 */
#ifndef PC_CONFIG_INT_H
#define PC_CONFIG_INT_H

#include "config/config.h"

/*
 * route_tmpl.c: parses <r->path> (already set, NUL-terminated, owned by the route) into
 * r->segs / r->nsegs. Grammar: "/" alone, or ("/" segment)+ where a segment is a literal of
 * pchar characters without '%' (RFC 3986: unreserved, sub-delims, ':' '@'), or "{name}"
 * (name = [A-Za-z_][A-Za-z0-9_]{0,31}, unique within the template), or "**" as the last
 * segment only. Empty segments ("//", trailing "/") are refused.
 * Returns 0, or -PC_EINVAL with a message (no file/line) in <err>/<errlen>, and the 0-based
 * column of the offending character in *<col>.
 */
PC_MUST_CHECK int pc_conf__route_parse_path(struct pc_conf_route *r, char *err, size_t errlen,
    unsigned *col);

/*
 * route_tmpl.c: sorts <routes> by precedence, most specific first (docs/config.md "Route
 * precedence"). Compares segment by segment: literal > {param} > end of template > **;
 * then a route with a host before one without; then one with a method list before "any";
 * then file order. Stable and total, so the result does not depend on the sort algorithm.
 */
void		 pc_conf__routes_sort(struct pc_conf_route *routes, unsigned n);
int		 pc_conf__route_cmp(const struct pc_conf_route *a, const struct pc_conf_route *b);

#endif
