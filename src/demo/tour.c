/*
 * demo/tour.c - what `portcullis demo` prints once everything listens: the addresses, and
 * curl commands that each show one thing the gateway does, with the status to expect.
 * Owns: the wording and the exact commands (the integration tests run them).
 * Does not: run anything, or know whether the gateway actually started.
 */
#include <stdio.h>

#include "demo/demo.h"
#include "demo/demo_int.h"
#include "core/banned.h"

/* Every command ends with this, so the status shows after whatever body came back. */
#define W	"-w ' -> %%{http_code}\\n'"

void
pc_demo_print_tour(FILE *out, const char *gw, const char *admin, const char *token)
{
	const char *up = pc_demo__upstream_text();

	(void)fprintf(out,
	    "\n"
	    "portcullis demo: the AnyCompany rides API behind the gateway.\n"
	    "\n"
	    "  gateway   http://%s   (the way in)\n", gw);
	if (admin != NULL)
		(void)fprintf(out,
		    "  admin     http://%s   (metrics; needs the admin token below)\n",
		    admin);
	if (up != NULL)
		(void)fprintf(out, "  upstream  http://%s  (the API itself, to compare)\n", up);
	(void)fprintf(out,
	    "\n"
	    "Try these in another terminal:\n"
	    "\n"
	    "  # A normal call, forwarded to the API                              -> 200\n"
	    "  curl -s " W " http://%s/v1/riders/r-1001\n"
	    "\n"
	    "  # No route for it: answered by the gateway, the API never sees it  -> 404\n"
	    "  curl -s " W " http://%s/v1/payments\n"
	    "\n"
	    "  # Path traversal: \"..\" above the root is refused, not resolved     -> 400\n"
	    "  curl -s " W " --path-as-is http://%s/v1/../../etc/passwd\n"
	    "\n"
	    "  # An encoded slash, a classic way past path-based rules             -> 400\n"
	    "  curl -s " W " 'http://%s/v1/riders%%2F..%%2Fadmin'\n"
	    "\n"
	    "  # Request smuggling: Content-Length and chunked at once             -> 400\n"
	    "  curl -s " W " -H 'Transfer-Encoding: chunked' -H 'Content-Length: 3' \\\n"
	    "    -d x http://%s/v1/trips\n"
	    "\n"
	    "  # 20 kB of header, over limits.header_max_bytes                     -> 431\n"
	    "  curl -s " W " -H \"X-Big: $(head -c 20000 /dev/zero | tr '\\0' a)\" \\\n"
	    "    http://%s/health\n"
	    "\n"
	    "  # The API sends Server and X-Powered-By; the gateway drops them     -> 200\n"
	    "  curl -si http://%s/health\n",
	    gw, gw, gw, gw, gw, gw, gw);
	if (up != NULL)
		(void)fprintf(out, "  curl -si http://%s/health   # the API directly\n", up);
	if (admin != NULL && token != NULL)
		(void)fprintf(out,
		    "\n"
		    "  # Counters for all of the above, on the admin listener, which needs its\n"
		    "  # token (made for this run; set PC_DEMO_ADMIN_TOKEN to choose one) -> 200\n"
		    "  curl -s -H 'Authorization: Bearer %s' http://%s/metrics\n", token, admin);
	(void)fputc('\n', out);
}

void
pc_demo_print_tls_tour(FILE *out, const char *gw, const char *cacert, const char *fp)
{
	(void)fprintf(out,
	    "  # HTTPS, with a certificate made for this run; its SHA-256 fingerprint:\n"
	    "  #   %s\n"
	    "  # Every answer over TLS carries HSTS and nosniff                    -> 200\n"
	    "  curl -s " W " --cacert %s https://%s/v1/riders/r-1001\n"
	    "  curl -si --cacert %s https://%s/health\n"
	    "\n"
	    "  # The same over HTTP/2, and a path traversal refused on it too  -> 200, 400\n"
	    "  curl -s --http2 -w ' -> %%{http_code} HTTP/%%{http_version}\\n' --cacert %s \\\n"
	    "    https://%s/v1/riders/r-1001\n"
	    "  curl -s --http2 --path-as-is -w ' -> %%{http_code} HTTP/%%{http_version}\\n' \\\n"
	    "    --cacert %s https://%s/v1/../../etc/passwd\n"
	    "\n", fp, cacert, gw, cacert, gw, cacert, gw, cacert, gw);
}

void
pc_demo_print_token_tour(FILE *out, const char *gw, const struct pc_demo_tokens *t)
{
	(void)fprintf(out,
	    "  # Access tokens for this run (EdDSA, typ at+jwt, valid one hour), signed by the\n"
	    "  # demo's own issuer (a key made at start; its public key is the JWK Set the\n"
	    "  # gateway trusts):\n"
	    "  RIDER=%s\n"
	    "  RIDER2=%s\n"
	    "  ADMIN=%s\n"
	    "\n"
	    "  # Request a trip: needs a token with scope trips:write            -> 201\n"
	    "  curl -s " W " -H \"Authorization: Bearer $RIDER\" \\\n"
	    "    -H 'Content-Type: application/json' \\\n"
	    "    -d '{\"rider_id\":\"r-1001\",\"pickup\":\"Rua Augusta 100\","
	    "\"dropoff\":\"Lisbon Airport T1\"}' \\\n"
	    "    http://%s/v1/trips\n"
	    "\n"
	    "  # The same without a token: refused before the API (RFC 6750)    -> 401\n"
	    "  curl -s " W " -d '{}' http://%s/v1/trips\n"
	    "\n"
	    "  # Drivers need scope drivers:read: a rider's token is not enough  -> 403\n"
	    "  curl -s " W " -H \"Authorization: Bearer $RIDER\" http://%s/v1/drivers\n"
	    "  # ... the admin's is                                             -> 200\n"
	    "  curl -s " W " -H \"Authorization: Bearer $ADMIN\" http://%s/v1/drivers\n"
	    "\n"
	    "  # A partner's API key (store and pepper made at start; the gateway keeps only\n"
	    "  # an HMAC of it). It grants drivers:read too                    -> 200\n"
	    "  APIKEY=%s\n"
	    "  curl -s " W " -H \"X-API-Key: $APIKEY\" http://%s/v1/drivers\n"
	    "\n", t->rider, t->rider2, t->admin, gw, gw, gw, gw, t->apikey, gw);
}
