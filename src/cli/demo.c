/*
 * cli/demo.c - `portcullis demo`: the gateway in front of the built-in rides API, with the
 * embedded demo configuration (examples/demo.yaml), and a short tour of curl commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "demo/demo.h"
#include "tls/tls.h"
#include "core/banned.h"

#define DEMO_UPSTREAM	"127.0.0.1:18080"

/* The admin token of this run: PC_DEMO_ADMIN_TOKEN if set, else 32 random hex digits. */
static int
demo_token(void)
{
	static const char	hex[] = "0123456789abcdef";
	uint8_t			rnd[16];
	char			tok[33];
	size_t			i;

	if (getenv("PC_DEMO_ADMIN_TOKEN") != NULL)
		return 0;
	if (pc_random_bytes(rnd, sizeof(rnd)) != 0)
		return -1;
	for (i = 0; i < sizeof(rnd); i++) {
		tok[2 * i] = hex[rnd[i] >> 4];
		tok[2 * i + 1] = hex[rnd[i] & 15];
	}
	tok[32] = '\0';
	return setenv("PC_DEMO_ADMIN_TOKEN", tok, 1);
}

/* The demo's TLS certificate: made fresh in a private temporary directory, its path given
 * to the embedded configuration through PC_DEMO_TLS_DIR. */
struct demo_tls {
	char	dir[64];
	char	cert[96];
	char	key[96];
	char	jwks[96];	/* the demo issuer's public keys (issuers.demo.jwks_file) */
	char	keys[96];	/* the demo's API key store (api_keys.partners.file) */
	char	pepper[112];	/* and its pepper */
	char	fp[96];
	struct pc_demo_tokens tokens;
};

static int
demo_tls_make(struct demo_tls *t)
{
	(void)snprintf(t->dir, sizeof(t->dir), "/tmp/portcullis-demo-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	(void)snprintf(t->cert, sizeof(t->cert), "%s/demo.crt", t->dir);
	(void)snprintf(t->key, sizeof(t->key), "%s/demo.key", t->dir);
	(void)snprintf(t->jwks, sizeof(t->jwks), "%s/jwks.json", t->dir);
	(void)snprintf(t->keys, sizeof(t->keys), "%s/api-keys.db", t->dir);
	(void)snprintf(t->pepper, sizeof(t->pepper), "%s.pepper", t->keys);
	if (pc_tls_selfsigned("localhost", 30, t->cert, t->key, t->fp) != 0 ||
	    pc_demo_issuer_make(t->jwks, &t->tokens) != 0 ||
	    pc_demo_apikey_make(t->keys, t->pepper, &t->tokens) != 0 ||
	    setenv("PC_DEMO_TLS_DIR", t->dir, 1) != 0) {
		(void)unlink(t->pepper);
		(void)unlink(t->keys);
		(void)unlink(t->jwks);
		(void)unlink(t->key);
		(void)unlink(t->cert);
		(void)rmdir(t->dir);
		return -1;
	}
	return 0;
}

static void
demo_tls_remove(struct demo_tls *t)
{
	(void)unlink(t->pepper);
	(void)unlink(t->keys);
	(void)unlink(t->jwks);
	(void)unlink(t->key);
	(void)unlink(t->cert);
	(void)rmdir(t->dir);
}

/* The TLS listener of the demo configuration (the first one with TLS), or NULL. */
static const char *
demo_tls_listener(const struct pc_conf *conf)
{
	unsigned i;

	for (i = 0; i < conf->nlisteners; i++)
		if (conf->listeners[i].tls != NULL)
			return conf->listeners[i].addr.text;
	return NULL;
}

int
pc_cli_demo(int argc, char **argv)
{
	struct pc_conf_diag	 diag;
	struct pc_conf		*conf;
	struct pc_addr		 up;
	struct demo_tls		 tls;
	const char		*tls_gw;
	int			 rc;

	(void)argc;
	(void)argv;
	if (demo_token() != 0) {
		(void)fprintf(stderr, "portcullis: cannot make the demo admin token\n");
		return 1;
	}
	if (demo_tls_make(&tls) != 0) {
		(void)fprintf(stderr, "portcullis: cannot make the demo certificate and keys\n");
		return 1;
	}
	rc = pc_conf_load_mem("demo.yaml", pc_demo_yaml, strlen(pc_demo_yaml), &conf, &diag);
	/* The key is in memory now, and the demo never reloads: it need not stay on disk. */
	(void)unlink(tls.key);
	if (rc != 0) {
		(void)fprintf(stderr, "portcullis: embedded demo configuration: %s\n", diag.text);
		demo_tls_remove(&tls);
		return 1;
	}
	if (pc_addr_parse(pc_str_c(DEMO_UPSTREAM), &up) != 0 ||
	    pc_demo_upstream_start(&up) != 0) {
		(void)fprintf(stderr, "portcullis: cannot start the demo rides API on %s "
		    "(is the port in use?)\n", DEMO_UPSTREAM);
		pc_conf_unref(conf);
		demo_tls_remove(&tls);
		return 1;
	}
	/* The demo's own throwaway token is printed so the tour works; a real one never is. */
	pc_demo_print_tour(stdout, conf->listeners[0].addr.text,
	    conf->admin_enabled ? conf->admin_addr.text : NULL, conf->admin_token);
	pc_demo_print_token_tour(stdout, conf->listeners[0].addr.text, &tls.tokens);
	tls_gw = demo_tls_listener(conf);
	if (tls_gw != NULL)
		pc_demo_print_tls_tour(stdout, tls_gw, tls.cert, tls.fp);
	(void)fflush(stdout);
	rc = pc_cli_serve(conf, NULL);
	pc_demo_upstream_stop();
	demo_tls_remove(&tls);
	return rc;
}
