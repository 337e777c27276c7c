/*
 * demo/demo.h - the public interface of demo/: what `portcullis demo` needs to show the
 * gateway working with nothing else installed.
 * Owns: the in-process "AnyCompany rides" upstream API, the embedded demo configuration
 * (examples/demo.yaml) and the printed tour.
 * Does not: start the gateway, parse configuration, or take part in any real deployment.
 */
#ifndef PC_DEMO_H
#define PC_DEMO_H

#include <stdio.h>

#include "config/config.h"
#include "core/core.h"

/*
 * Starts the rides API on a background thread listening on <addr> (addr->ss / addr->len;
 * port 0 picks a free port, see pc_demo_upstream_port()). The socket is bound before this
 * returns, so a busy port is reported here. Only one demo upstream runs per process.
 * Returns 0, -PC_EINVAL if one is already running or <addr> is not IPv4/IPv6, or the
 * -PC_E* of the failing socket/bind/listen/thread call.
 */
PC_MUST_CHECK int pc_demo_upstream_start(const struct pc_addr *addr);

/* Stops the upstream, closes its connections and joins the thread. No-op if not running. */
void		 pc_demo_upstream_stop(void);

/* The TCP port the running upstream is bound to (useful after port 0); -1 if not running. */
int		 pc_demo_upstream_port(void);

/*
 * The demo gateway configuration: the exact bytes of examples/demo.yaml followed by a NUL,
 * embedded at build time (demo_conf.c). Its length is strlen(pc_demo_yaml).
 */
extern const char pc_demo_yaml[];

/*
 * Prints the tour to <out>: where the gateway (<gw_addr>, "127.0.0.1:8080") and its admin
 * listener (<admin_addr>; NULL if disabled) listen, the upstream's own address if it runs,
 * and curl commands that show what the gateway does, each with a comment and the status it
 * should produce.
 */
void		 pc_demo_print_tour(FILE *out, const char *gw_addr, const char *admin_addr,
		    const char *admin_token);
/* The demo issuer (issuer.c): an Ed25519 key made now, its JWK Set written to <jwks_path>
 * (created; must not exist), and tokens valid for an hour: two riders (scope trips:write)
 * and an admin (trips:write drivers:read). 0 or -PC_E*. */
struct pc_demo_tokens {
	char	rider[512];
	char	rider2[512];
	char	admin[512];
	char	apikey[PC_APIKEY_LEN + 1];	/* apikey.c: demo-partner, scope drivers:read */
};
PC_MUST_CHECK int pc_demo_issuer_make(const char *jwks_path, struct pc_demo_tokens *t);
/* The demo's API key store (apikey.c): a fresh pepper written to <pepper_path> and a store
 * with one key to <store_path> (both created, mode 0600); the key in t->apikey. 0 or -PC_E*. */
PC_MUST_CHECK int pc_demo_apikey_make(const char *store_path, const char *pepper_path,
    struct pc_demo_tokens *t);
/* The token part of the tour, for the plain listener <gw_addr>. */
void		 pc_demo_print_token_tour(FILE *out, const char *gw_addr,
		    const struct pc_demo_tokens *t);

/* The HTTPS part: the TLS listener <gw_addr>, the certificate file to trust, and its
 * SHA-256 fingerprint ("AB:CD:..."). */
void		 pc_demo_print_tls_tour(FILE *out, const char *gw_addr, const char *cacert,
		    const char *fingerprint);

#endif
