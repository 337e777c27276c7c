/*
 * config/config_int.h - private to config/: helpers shared between its files.
 */
#ifndef PC_CONFIG_INT_H
#define PC_CONFIG_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

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

/* ---- the loader (yaml_tree.c, subst.c, typed.c, sections.c, routes.c, config.c) ---- */

#define PC_CONF_TIMEOUT_MAX_MS	3600000u

/* The document tree: libyaml events -> nodes in an arena, values substituted. */
enum pc_conf_node_kind { PC_NODE_SCALAR, PC_NODE_SEQ, PC_NODE_MAP };

struct pc_conf_node {
	enum pc_conf_node_kind	 kind;
	int			 line, col;	/* 1-based, from libyaml's start mark */
	bool			 quoted;	/* '...' or "...": the text starts one column later */
	bool			 subst;		/* contains ${...} output: never echo it in a message */
	bool			 only_subst;	/* exactly one ${...} and nothing around it */
	char			*val;		/* scalars: NUL-terminated, no NUL inside */
	size_t			 len;
	struct pc_conf_node	*parent, *first, *last, *next;
	unsigned		 n;		/* children; a map holds key, value, key, value... */
};

struct pc_conf_tls_job;

struct pc_conf_loader {
	const char		*name;		/* for messages */
	char			 dir[PATH_MAX];	/* base of relative ${file:} paths */
	bool			 from_mem;	/* pc_conf_load_mem: relative TLS paths are
						 * relative to the current directory */
	struct pc_arena		*arena;		/* the tree; wiped where it held ${} output */
	struct pc_conf_diag	*err;
	bool			 failed;
	unsigned		 nnodes;
	struct pc_conf_tls_job	*tls_jobs;	/* contexts to build once the file is read */
	struct pc_conf_tls_job	*tls_last;
};

/* A warning found while loading (a skipped key of a key set), reported by
 * pc_conf_warnings() with the others. */
struct pc_conf_load_warning {
	int		 line;
	char		*msg;
};

/* Lines the public struct has no room for; the warnings need them. */
struct pc_conf_impl {
	struct pc_conf	 pub;
	int		 report_only_line;
	int		 admin_line;
	int		 open_proxy_line;	/* a 0.0.0.0/0 or ::/0 trusted proxy */
	char		 open_proxy_text[12];
	bool		 client_cert_asked;	/* some listener has tls.client_cert != none */
	struct pc_conf_load_warning *load_warnings;
	unsigned	 nload_warnings;
};

/* A printable, bounded copy of untrusted text for a message (keys, names, paths). */
struct pc_conf_shown {
	char	 s[72];
};

/*
 * yaml_tree.c: the loader's messages. pc_conf__fail_at() writes "name:line:col: message" into
 * ld->err unless an error is already there (the first error wins: later ones are usually
 * consequences of it) and returns -PC_EINVAL; pc_conf__fail() takes the position of a node.
 * pc_conf__oom() reports "out of memory" at <n> (NULL: 1:1) and returns -PC_ENOMEM.
 */
PC_PRINTF(4, 5) int pc_conf__fail_at(struct pc_conf_loader *ld, int line, int col,
    const char *fmt, ...);
#define pc_conf__fail(ld, nd, ...) \
	pc_conf__fail_at((ld), (nd)->line, (nd)->col, __VA_ARGS__)
int		 pc_conf__oom(struct pc_conf_loader *ld, const struct pc_conf_node *n);
struct pc_conf_shown pc_conf__show(const char *p, size_t n);
/* A value for a message: its text, unless it came from a substitution (maybe a secret). */
struct pc_conf_shown pc_conf__showv(const struct pc_conf_node *n);

/*
 * yaml_tree.c: parses <text>/<len> into a tree in ld->arena, *<root> a mapping. Refuses
 * anchors, aliases, tags and several documents. Returns 0 or a negative code, with the
 * message in ld->err.
 */
PC_MUST_CHECK int pc_conf__build_tree(struct pc_conf_loader *ld, const char *text, size_t len,
    struct pc_conf_node **root);

/*
 * subst.c: replaces every ${env:NAME} and ${file:PATH} in the value <in>/<len> and stores the
 * result in <n> (ld->arena, wiped when the arena is freed). Plain text without "${" is copied
 * as is. Returns 0 or a negative code, with the message in ld->err.
 */
PC_MUST_CHECK int pc_conf__set_value(struct pc_conf_loader *ld, struct pc_conf_node *n,
    const char *in, size_t len);

/*
 * subst.c: reads <fd> to end of file into <buf>, which has room for <max> + 1 bytes, and stops
 * once it holds more than <max> bytes: *<len> > <max> means "too large". Returns 0, or the
 * read(2) error as -PC_E* with errno left as read(2) set it.
 */
PC_MUST_CHECK int pc_conf__read_fd(int fd, char *buf, size_t max, size_t *len);

/*
 * typed.c: checked reads of a node. <ctx> and <key> name it in messages ("limits." and
 * "body_max_bytes"). Each returns 0 or -PC_EINVAL with the message in ld->err.
 */
const char	*pc_conf__kind_name(const struct pc_conf_node *n);
PC_MUST_CHECK int pc_conf__want_kind(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    enum pc_conf_node_kind k, const char *ctx, const char *key);
PC_MUST_CHECK int pc_conf__get_str(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    const char *ctx, const char *key, struct pc_str *out);
PC_MUST_CHECK int pc_conf__get_bool(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    const char *ctx, const char *key, bool *out);
PC_MUST_CHECK int pc_conf__get_u64(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    const char *ctx, const char *key, uint64_t min, uint64_t max, uint64_t *out);
PC_MUST_CHECK int pc_conf__get_u32(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    const char *ctx, const char *key, uint32_t min, uint32_t max, uint32_t *out);
PC_MUST_CHECK int pc_conf__get_addr(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    const char *ctx, const char *key, struct pc_addr *out);
/* The closest of <names> to <s> if it is close enough to be a typo, else NULL. */
const char	*pc_conf__closest(const char *s, const char *const *names, size_t n);
/*
 * Checks the keys of mapping <map> against <keys>: an unknown key or a duplicate is an error.
 * Fills vals[i] / knodes[i] with the value and key node of keys[i], or NULL if absent.
 * <where> names the section in messages ("in limits").
 */
PC_MUST_CHECK int pc_conf__map_keys(struct pc_conf_loader *ld, const struct pc_conf_node *map,
    const char *const *keys, size_t nkeys, const char *where, const struct pc_conf_node **vals,
    const struct pc_conf_node **knodes);
/* routes.c: <s> is 1..<max> characters of [A-Za-z0-9] and <extra> (names of upstreams,
 * routes, issuers). */
bool		 pc_conf__name_ok(struct pc_str s, size_t max, const char *extra);
/* A malloc'ed NUL-terminated copy of <s>; NULL after reporting "out of memory" at <n>. */
char		*pc_conf__dup_str(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    struct pc_str s);

/*
 * sections.c: fills <ci> with every default (refs = 1), then reads the tree <root> into it.
 * On error, <ci> may be half-built: free it as a whole.
 */
PC_MUST_CHECK int pc_conf__defaults(struct pc_conf_loader *ld, struct pc_conf_impl *ci);
PC_MUST_CHECK int pc_conf__build(struct pc_conf_loader *ld, struct pc_conf_impl *ci,
    const struct pc_conf_node *root);

/*
 * tls_conf.c: one entry of listen: (index <idx>) into c->listeners[idx]: a scalar is a plain
 * address, a mapping holds address and tls: or redirect_https:. A tls: section is checked
 * here and queued on ld->tls_jobs; its context is built by pc_conf__tls_build().
 */
PC_MUST_CHECK int pc_conf__get_listener(struct pc_conf_loader *ld, struct pc_conf_impl *ci,
    const struct pc_conf_node *e, unsigned idx);
/* tls_conf.c: a file path (relative: to the configuration's directory), in ld->arena. */
PC_MUST_CHECK int pc_conf__get_path(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    const char *ctx, const char *key, const char **out);
/* auth_conf.c: the issuers: mapping; a route's auth:, scopes: and bound_tokens: keys. */
PC_MUST_CHECK int pc_conf__get_issuers(struct pc_conf_loader *ld, struct pc_conf_impl *ci,
    const struct pc_conf_node *v);
PC_MUST_CHECK int pc_conf__get_route_auth(struct pc_conf_loader *ld, struct pc_conf *c,
    struct pc_conf_route *r, const char *ctx, const struct pc_conf_node *auth,
    const struct pc_conf_node *scopes, const struct pc_conf_node *bound);
void		 pc_conf__issuers_free(struct pc_conf *c);
/* auth_conf.c: a route's forward_credential: and identity_headers: (both need auth:). */
PC_MUST_CHECK int pc_conf__get_route_identity(struct pc_conf_loader *ld,
    struct pc_conf_route *r, const char *ctx, const struct pc_conf_node *fwd,
    const struct pc_conf_node *ids);
/*
 * introspect_conf.c: the introspection: mapping <v> of issuer <is> (<ctx> "issuers.X.") into
 * is->introspect. <ca_file> (the issuer's ca_file: node, or NULL: the system store) is the
 * trust for its calls; without <discovery> the endpoint: key is required.
 */
PC_MUST_CHECK int pc_conf__get_introspect(struct pc_conf_loader *ld, struct pc_conf_issuer *is,
    const struct pc_conf_node *v, const char *ctx, const struct pc_conf_node *ca_file,
    bool discovery);
void		 pc_conf__introspect_free(struct pc_introspect *v);	/* accepts NULL */
/* introspect_conf.c: route <r> accepts issuer <is> (the auth: entry <at>): at most one of
 * its issuers may use introspection; r->introspect is set. */
PC_MUST_CHECK int pc_conf__route_introspect(struct pc_conf_loader *ld, struct pc_conf_route *r,
    const struct pc_conf_issuer *is, const struct pc_conf_node *at, const char *ctx);
/* apikey_conf.c: the api_keys: mapping (after issuers:, whose names it must not reuse),
 * each store loaded with its pepper. */
PC_MUST_CHECK int pc_conf__get_apikeys(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v);
void		 pc_conf__apikeys_free(struct pc_conf *c);
/* tls_conf.c: the tls: section <v> (key node <k>) of upstream <u>, number <idx>: checked,
 * u->pool_key and u->tls_verify set, the context queued. */
PC_MUST_CHECK int pc_conf__get_upstream_tls(struct pc_conf_loader *ld,
    struct pc_conf_upstream *u, unsigned idx, const struct pc_conf_node *k,
    const struct pc_conf_node *v);
/*
 * tls_conf.c: builds every queued context, in file order, into the listeners and upstreams
 * of <c>. Runs last, so that every mistake the file can show on its own is reported before
 * any certificate or key is read.
 */
PC_MUST_CHECK int pc_conf__tls_build(struct pc_conf_loader *ld, struct pc_conf *c);

/*
 * headers.c: checks that the key node <n> is a header name that may be configured: an RFC
 * 9110 token of at most 64 characters, not hop-by-hop, framing or per-message (Connection,
 * Content-Length, Transfer-Encoding, Host, Upgrade, Keep-Alive, TE, Trailer,
 * Proxy-Connection, Date, Set-Cookie), and not one the gateway sets itself (X-Forwarded-*,
 * Forwarded, X-Real-IP, X-Request-Id, X-Content-Type-Options). <ctx> starts the message.
 */
PC_MUST_CHECK int pc_conf__header_name(struct pc_conf_loader *ld, const struct pc_conf_node *n,
    const char *ctx);
/* headers.c: the response_headers: mapping into c->response_headers. */
PC_MUST_CHECK int pc_conf__get_response_headers(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v);
/* headers.c: c->strip_headers from the routes' client_cert_header, distinct ignoring case,
 * in file order (call before the routes are sorted). */
PC_MUST_CHECK int pc_conf__strip_headers(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *at);

/* limit_conf.c: failed_auth: (<v>, NULL if absent) into c->failed_auth; after the routes,
 * since its default and a login: route depend on them. */
PC_MUST_CHECK int pc_conf__get_failed_auth(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v);
/* limit_conf.c: a route's login: key (<v> may be NULL); after public:. */
PC_MUST_CHECK int pc_conf__get_route_login(struct pc_conf_loader *ld, struct pc_conf_route *r,
    const char *ctx, const struct pc_conf_node *v);

/* mint_conf.c: gateway_identity: into c->minter (its key_file read, or the process's own
 * key); before upstreams: and routes:. */
PC_MUST_CHECK int pc_conf__get_gateway_identity(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v);
/* mint_conf.c: upstream <u>'s audience: (<v>, NULL: "portcullis:upstream:<name>"). */
PC_MUST_CHECK int pc_conf__get_upstream_audience(struct pc_conf_loader *ld,
    struct pc_conf_upstream *u, const char *ctx, const struct pc_conf_node *v);
/* mint_conf.c: a route's upstream_token: (<v> may be NULL), after auth: and
 * forward_credential: (<fwd>, its node or NULL); sets strip_credential with it. */
PC_MUST_CHECK int pc_conf__get_route_upstream_token(struct pc_conf_loader *ld,
    const struct pc_conf *c, struct pc_conf_route *r, const char *ctx,
    const struct pc_conf_node *v, const struct pc_conf_node *fwd);
void		 pc_conf__mint_free(struct pc_conf *c);	/* the minter, the audiences */

/* routes.c: the upstreams: mapping and the routes: list, into <c>. */
PC_MUST_CHECK int pc_conf__get_upstreams(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v);
PC_MUST_CHECK int pc_conf__get_routes(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v);

#endif
