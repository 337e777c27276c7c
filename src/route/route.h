/*
 * route/route.h - the public interface of route/: which configured route a normalized
 * request belongs to. Pure functions over the configuration: no I/O, no allocation.
 */
#ifndef PC_ROUTE_H
#define PC_ROUTE_H

#include "config/config.h"
#include "http/http.h"

#define PC_ROUTE_PARAMS_MAX	16

/* The {param} captures of a matched route; values borrow from the matched path. */
struct pc_route_params {
	unsigned	 n;
	struct pc_str	 name[PC_ROUTE_PARAMS_MAX];
	struct pc_str	 value[PC_ROUTE_PARAMS_MAX];
};

/*
 * Finds the route for a request: the first route of conf->routes (already sorted by
 * precedence) whose host (if any; compared case-insensitively, <host> without port),
 * path template and methods all match the normalized <path>. Fills <params>.
 * Returns the route, or NULL with *<reason> = PC_R_ROUTE_NOT_FOUND (no path matched) or
 * PC_R_ROUTE_METHOD (a path matched but not with this method). Pure: no I/O, no allocation.
 */
const struct pc_conf_route *pc_route_match(const struct pc_conf *conf, enum pc_method meth,
    struct pc_str host, struct pc_str path, struct pc_route_params *params,
    enum pc_reason *reason);

#endif
