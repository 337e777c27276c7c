/*
 * config/config.h - the public interface of config/: one YAML file -> an immutable,
 * reference-counted struct pc_conf; validation with file:line:col errors; risk warnings.
 * Owns: the meaning of every configuration key and its defaults.
 * Does not: open sockets, start threads, or look at requests.
 */
#ifndef PC_CONFIG_H
#define PC_CONFIG_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "auth/auth.h"
#include "core/core.h"
#include "limit/limit.h"
#include "tls/tls.h"

#define PC_CONF_ROUTE_SEGS_MAX	32	/* segments in a path template */
#define PC_CONF_TARGETS_MAX	64	/* targets in one upstream */

struct pc_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 text[64];	/* "127.0.0.1:8080" / "[::1]:8080", for logs */
};

struct pc_cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* network byte order, host bits zero */
	uint8_t		 prefix;
};

struct pc_conf_listener {
	struct pc_addr	 addr;
	int		 line;		/* where it was configured, for messages */
	struct pc_tls_server *tls;	/* NULL: plain HTTP; owned (one reference) */
	char		*hsts;		/* TLS only: Strict-Transport-Security value; NULL = off */
	uint16_t	 redirect_https;	/* plain only: answer 308 to https://host:<port>; 0 = off */
	bool		 http2;		/* TLS: ALPN offers h2 (tls.http2) */
	bool		 h2c;		/* plain: HTTP/2 with prior knowledge (h2c: true) */
};

struct pc_conf_upstream {
	char		*name;
	struct pc_addr	*targets;
	unsigned	 ntargets;
	uint32_t	 connect_timeout_ms;	/* default 2000 */
	uint32_t	 read_timeout_ms;	/* between two reads of the response; default 30000 */
	uint32_t	 total_timeout_ms;	/* whole exchange; default 60000 */
	uint32_t	 keepalive_max;		/* idle connections kept per target per worker; 32 */
	uint32_t	 keepalive_timeout_ms;	/* idle pooled connection lifetime; default 30000 */
	uint32_t	 max_fails;		/* consecutive failures that eject a target; 3 (0: never) */
	uint32_t	 fail_timeout_ms;	/* how long an ejected target rests; default 10000 */
	struct pc_tls_client *tls;	/* NULL: plain HTTP; owned */
	bool		 tls_verify;	/* as configured (check warns when false) */
	char		*pool_key;	/* keep-alive pools are shared by upstreams with equal keys:
					 * "" for plain, "tls|<server_name>|<ca>|<cert>|<verify>|<min>" */
	char		*audience;	/* "aud" of the tokens minted for it (upstream_token);
					 * default "portcullis:upstream:<name>" */
	int		 line;
};

/* An issuers: entry: the verifier's view and what it owns. */
struct pc_conf_issuer {
	struct pc_jwt_issuer v;		/* what auth/ checks tokens against */
	char		*name, *iss, *scopes_claim, *roles_claim;
	char		**audiences;
	char		**required;
	struct pc_jwks	*jwks;
	struct pc_pkey	*hmac;
	struct pc_introspect *introspect;	/* introspection: (opaque tokens), or NULL; owned */
	int		 line;
};

/* An api_keys: entry: where its keys come from and how requests carry them
 * (config/apikey_conf.c). */
struct pc_conf_apikeys {
	char		*name;
	char		*file;		/* the store file, as resolved */
	char		*header;	/* header: the key's field; default X-API-Key */
	char		*query_param;	/* query_param: NULL = a key in the query is never read */
	struct pc_apikey_store *store;	/* loaded at load and reload; owned */
	int		 line;
};

struct pc_conf_header {
	char		*name;
	char		*value;
};

enum pc_seg_kind {
	PC_SEG_LITERAL,		/* exact text */
	PC_SEG_PARAM,		/* {name}: exactly one non-empty segment */
	PC_SEG_WILDCARD,	/* **: zero or more segments; last only */
};

struct pc_conf_seg {
	enum pc_seg_kind kind;
	struct pc_str	 text;		/* literal text, or the param name (no braces) */
};

struct pc_conf_route {
	char		*name;		/* unique; default "METHODS path" */
	char		*path;		/* the template as written, e.g. "/users/{id}/..." */
	struct pc_conf_seg segs[PC_CONF_ROUTE_SEGS_MAX];	/* texts point into <path> copies */
	unsigned	 nsegs;
	uint32_t	 methods;	/* bit (1u << enum pc_method); 0 = any method */
	char		*host;		/* NULL = any host; lowercase, no port */
	unsigned	 upstream;	/* index into conf->upstreams */
	bool		 public_;	/* public: true */
	bool		 report_only;	/* deciding phases log would_deny instead of denying */
	uint64_t	 body_max_bytes;	/* per route; default limits.body_max_bytes */
	bool		 client_cert;	/* client_cert: required -> a verified client certificate */
	const struct pc_jwt_issuer **auth;	/* auth: issuers whose tokens it accepts (any of) */
	unsigned	 nauth;
	const struct pc_introspect *introspect;	/* the one auth: issuer with introspection:
					 * opaque bearer tokens go there; NULL: refused */
	const struct pc_conf_apikeys **apikeys;	/* auth: API key stores it accepts (any of) */
	unsigned	 napikeys;
	bool		 auth_cert;	/* auth: names client_cert: a verified client
					 * certificate is a credential (principal type cert) */
	char		**scopes;	/* scopes: every one required (403 insufficient_scope) */
	unsigned	 nscopes;
	char		*scope_text;	/* the same, space-separated, for WWW-Authenticate */
	bool		 bound_tokens;	/* bound_tokens: only certificate-bound tokens (RFC 8705) */
	bool		 strip_credential;	/* forward_credential: false -> no Authorization upstream */
	bool		 identity_headers;	/* identity_headers: X-Portcullis-* with the principal */
	bool		 upstream_token;	/* upstream_token: a token the gateway mints
					 * (auth/mint.c) replaces the client's credential */
	bool		 login;		/* login: true (public only): upstream 401/403 count as
					 * failed logins of the client address */
	char		*client_cert_header;	/* forward the verified identity in this header */
	unsigned	 order;		/* position in the file (tie-break) */
	int		 line;
};

/* HTTP/2, per connection (http2: section). */
struct pc_conf_http2 {
	uint32_t	 max_concurrent_streams;	/* SETTINGS_MAX_CONCURRENT_STREAMS; 128 */
	uint32_t	 initial_window_bytes;	/* SETTINGS_INITIAL_WINDOW_SIZE; 65535 */
	uint32_t	 max_resets;		/* client RST_STREAMs per 10 s; 100 */
	uint32_t	 max_control_frames;	/* SETTINGS/PING/PRIORITY/empty frames per 10 s; 1000 */
};

struct pc_conf_limits {
	uint32_t	 request_line_max_bytes;	/* 8192 -> 414 */
	uint32_t	 header_max_bytes;		/* 32768 -> 431 */
	uint32_t	 header_max_count;		/* 100 -> 431 */
	uint64_t	 body_max_bytes;		/* 1 MiB -> 413 */
	uint32_t	 header_timeout_ms;		/* whole head must arrive within; 10000 -> 408 */
	uint32_t	 body_timeout_ms;		/* between two body reads; 30000 -> 408 */
	uint32_t	 idle_timeout_ms;		/* keep-alive idle; 60000 */
	uint32_t	 max_connections;		/* per process; 20000 */
	uint32_t	 max_requests_per_connection;	/* 10000 */
};

struct pc_conf {
	char		*path;		/* file it was loaded from */
	uint64_t	 serial;	/* unique per loaded snapshot (caches key on it) */
	unsigned	 workers;	/* 0 in the file means one per CPU; resolved here */
	struct pc_conf_listener *listeners;
	unsigned	 nlisteners;
	struct pc_conf_limits limits;
	struct pc_conf_http2 http2;
	struct pc_cidr	*trusted_proxies;
	unsigned	 ntrusted_proxies;
	bool		 report_only;	/* global report-only for deciding phases */
	bool		 drop_server_header;	/* response: drop Server and X-Powered-By; default true */
	char		*access_log;	/* "stdout", "off", or a file path */
	char		*event_log;	/* security events: "stdout", "off" (default), or a path */
	struct pc_addr	 admin_addr;	/* default 127.0.0.1:9901 */
	bool		 admin_enabled;	/* default true */
	char		*admin_token;	/* secret (from ${env:} / ${file:}); NULL = read-only, loopback only */
	uint32_t	 drain_timeout_ms;	/* SIGTERM: how long in-flight requests may take; 30000 */
	char		*user;		/* started as root: run as this user once bound; NULL = stay */
	struct pc_conf_header *response_headers;	/* set on every response, replacing */
	unsigned	 nresponse_headers;
	char		**strip_headers;	/* every route's client_cert_header: removed from
					 * every incoming request before anything reads it */
	unsigned	 nstrip_headers;
	uint32_t	 tls_ticket_rotation_s;	/* session-ticket key period; default 3600 */
	struct pc_conf_issuer *issuers;	/* issuers: JWT access-token issuers */
	unsigned	 nissuers;
	struct pc_conf_apikeys *apikeys;	/* api_keys: API key stores */
	unsigned	 napikeys;
	uint32_t	 auth_cache_ttl_s;	/* verified-token cache: at most this long; 300 */
	uint32_t	 auth_cache_entries;	/* per worker; 10000 (0: no cache) */
	struct pc_minter *minter;	/* gateway_identity: mints upstream tokens and holds
					 * the key set of /jwks.json; NULL: not configured */
	struct pc_failures_conf failed_auth;	/* failed_auth: (limit/limit.h); on by default
					 * when a route has auth: or login: */
	struct pc_conf_upstream *upstreams;
	unsigned	 nupstreams;
	struct pc_conf_route *routes;	/* sorted by precedence: most specific first */
	unsigned	 nroutes;

	int		 refs;		/* atomic (__atomic builtins); use pc_conf_ref/unref */
};

/* One diagnostic: "file:line:col: message". */
struct pc_conf_diag {
	char		 text[512];
};

/*
 * Loads and validates <path>. On success returns 0 and *<out> (refs = 1). On error returns
 * -PC_E* and writes the first error into <err> as "file:line:col: message"; nothing is
 * leaked. ${env:NAME} and ${file:PATH} are substituted inside scalars before typing.
 */
PC_MUST_CHECK int pc_conf_load(const char *path, struct pc_conf **out, struct pc_conf_diag *err);
/* Same from memory; <name> is used in messages. Used by tests and the fuzzer. */
PC_MUST_CHECK int pc_conf_load_mem(const char *name, const char *text, size_t len,
    struct pc_conf **out, struct pc_conf_diag *err);
/*
 * Calls <cb> once for each risky-but-legal setting ("file:line: warning: ..."): a public
 * route (no rate limit exists yet), a non-loopback listener without TLS, an admin listener
 * off loopback, report-only on, ... Returns the number of warnings.
 */
unsigned	 pc_conf_warnings(const struct pc_conf *conf,
    void (*cb)(void *arg, const char *msg), void *arg);
/*
 * The process-wide current configuration (reload = swap). pc_conf_publish() takes the
 * caller's reference and bumps the generation; pc_conf_acquire() returns a new reference to
 * the current one (a mutex: called once per worker per reload, never per request).
 */
void		 pc_conf_publish(struct pc_conf *conf);
struct pc_conf	*pc_conf_acquire(void);
uint64_t	 pc_conf_generation(void);	/* atomic read; cheap, polled by workers */

struct pc_conf	*pc_conf_ref(struct pc_conf *conf);
void		 pc_conf_unref(struct pc_conf *conf);	/* frees at zero; accepts NULL */

bool		 pc_cidr_contains(const struct pc_cidr *c, const struct sockaddr *sa);
/* Parses "host:port" / "[v6]:port" numerically (no DNS). 0 or -PC_EINVAL. */
PC_MUST_CHECK int pc_addr_parse(struct pc_str s, struct pc_addr *out);

/* True if the route's auth: names any way to authenticate (issuers, API key stores,
 * client_cert): what "only with auth:" rules and deny-by-default look at. */
static inline bool
pc_route_has_auth(const struct pc_conf_route *r)
{
	return r->nauth > 0 || r->napikeys > 0 || r->auth_cert;
}

#endif
