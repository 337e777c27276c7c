/*
 * tests/unit/config/test_tls_conf.c - the TLS keys of the configuration: listen entries in
 * mapping form, listener and upstream tls: sections, redirect_https, response_headers,
 * tls_ticket_rotation_s, the routes' client_cert and client_cert_header, strip_headers, the
 * pool key, and the warnings. Every error with its exact "file:line:col: message"; then real
 * contexts built from certificates made at setup with the openssl command line. Runs under
 * ASan/LSan: no error path may leak, contexts included.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_int.h"
#include "core/banned.h"

#define UP	"upstreams:\n  b:\n    targets: [127.0.0.1:9000]\n"
#define RT	"routes:\n  - path: /x\n    upstream: b\n    public: true\n"
#define LS	"listen: [127.0.0.1:8080]\n"
#define B	LS UP RT
/* A listener with tls: on lines 1-5 (the certificate entry on line 4). */
#define TL(extra) "listen:\n" \
	"  - address: 127.0.0.1:8443\n" \
	"    tls:\n" \
	"      certificates: [{cert: a.crt, key: a.key}]\n" \
	extra
/* An upstream with tls: on lines 2-5, after LS. */
#define UT(extra) LS "upstreams:\n" \
	"  b:\n" \
	"    targets: [127.0.0.1:9443]\n" \
	"    tls:\n" \
	extra

static struct pc_conf *
load_ok(const char *text)
{
	struct pc_conf		*c = NULL;
	struct pc_conf_diag	 e;
	int			 rc;

	rc = pc_conf_load_mem("t.yaml", text, strlen(text), &c, &e);
	if (rc != 0)
		fail_msg("unexpected error: %s", e.text);
	assert_non_null(c);
	return c;
}

/* Returns whether loading <text> fails with exactly <want>; prints the difference. */
static bool
check_err(const char *text, const char *want)
{
	struct pc_conf		*c = (struct pc_conf *)0x1;
	struct pc_conf_diag	 e;
	int			 rc;

	rc = pc_conf_load_mem("t.yaml", text, strlen(text), &c, &e);
	if (rc == 0) {
		pc_conf_unref(c);
		print_error("loaded, but want: %s\n", want);
		return false;
	}
	if (c != NULL || strcmp(e.text, want) != 0) {
		print_error(" got: %s\nwant: %s\n", e.text, want);
		return false;
	}
	return true;
}

static void
load_err(const char *text, const char *want)
{
	if (!check_err(text, want))
		fail();
}

/*
 * Structure and typing errors: none of these builds a context (the contexts are built only
 * once the whole file is known to be right), so the certificate paths need not exist.
 */
static const struct {
	const char	*name;
	const char	*yaml;
	const char	*want;
} err_cases[] = {
	/* listen entries */
	{ "listen entry list", "listen:\n  - [127.0.0.1:1]\n" UP RT,
	    "t.yaml:2:5: listen[0]: expected an address or a mapping, found a list" },
	{ "listen scalar unchanged", "listen:\n  - localhost:1\n" UP RT,
	    "t.yaml:2:5: listen: invalid address 'localhost:1' (expected numeric host:port "
	    "such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "listen map no address", "listen:\n  - tls: {}\n" UP RT,
	    "t.yaml:2:5: listen[0]: missing required key 'address'" },
	{ "listen map no address 2", "listen:\n  - 127.0.0.1:1\n  - {redirect_https: 1}\n" UP RT,
	    "t.yaml:3:5: listen[1]: missing required key 'address'" },
	{ "listen map unknown", "listen:\n  - address: 127.0.0.1:1\n    tlss: {}\n" UP RT,
	    "t.yaml:3:5: unknown key 'tlss' in listen[0] (did you mean 'tls'?)" },
	{ "listen map dup key", "listen:\n  - address: 127.0.0.1:1\n    address: 127.0.0.1:2\n"
	    UP RT,
	    "t.yaml:3:5: duplicate key 'address' in listen[0] (first at line 2)" },
	{ "listen map bad address", "listen:\n  - address: localhost:1\n" UP RT,
	    "t.yaml:2:14: listen[0].address: invalid address 'localhost:1' (expected numeric "
	    "host:port such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "listen map address list", "listen:\n  - address: [127.0.0.1:1]\n" UP RT,
	    "t.yaml:2:14: listen[0].address: expected a string, found a list" },
	{ "listen dup scalar map", "listen:\n  - 127.0.0.1:1\n  - address: 127.0.0.1:1\n" UP RT,
	    "t.yaml:3:5: listen: 127.0.0.1:1 is already listed at line 2" },
	{ "redirect on tls", "listen:\n  - address: 127.0.0.1:1\n    redirect_https: 8443\n"
	    "    tls:\n      certificates: [{cert: a, key: b}]\n" UP RT,
	    "t.yaml:3:5: listen[0].redirect_https: only a plain listener redirects to HTTPS; "
	    "this one has tls" },
	{ "redirect zero", "listen:\n  - address: 127.0.0.1:1\n    redirect_https: 0\n" UP RT,
	    "t.yaml:3:21: listen[0].redirect_https: 0 is out of range (1..65535)" },
	{ "redirect big", "listen:\n  - address: 127.0.0.1:1\n    redirect_https: 65536\n"
	    UP RT,
	    "t.yaml:3:21: listen[0].redirect_https: 65536 is out of range (1..65535)" },
	{ "redirect text", "listen:\n  - address: 127.0.0.1:1\n    redirect_https: https\n"
	    UP RT,
	    "t.yaml:3:21: listen[0].redirect_https: expected an integer from 1 to 65535, found "
	    "'https'" },
	{ "redirect own port", "listen:\n  - address: '[::1]:8080'\n    redirect_https: 8080\n"
	    UP RT,
	    "t.yaml:3:21: listen[0].redirect_https: 8080 is this listener's own port, which "
	    "does not speak TLS" },
	{ "hsts on plain", "listen:\n  - address: 127.0.0.1:1\n    hsts: max-age=1\n" UP RT,
	    "t.yaml:3:5: listen[0].hsts: only a TLS listener sends Strict-Transport-Security "
	    "(browsers ignore it over plain HTTP)" },
	{ "hsts beside tls", TL("    hsts: max-age=1\n") UP RT,
	    "t.yaml:5:5: listen[0].hsts: set it inside tls: (tls.hsts)" },

	/* listener tls: */
	{ "tls scalar", "listen:\n  - address: 127.0.0.1:1\n    tls: true\n" UP RT,
	    "t.yaml:3:10: listen[0].tls: expected a mapping, found a string" },
	{ "tls empty", "listen:\n  - address: 127.0.0.1:1\n    tls:\n" UP RT,
	    "t.yaml:3:9: listen[0].tls: expected a mapping, found an empty value" },
	{ "tls no certificates", "listen:\n  - address: 127.0.0.1:1\n"
	    "    tls: {client_cert: none}\n" UP RT,
	    "t.yaml:3:5: listen[0].tls: missing required key 'certificates'" },
	{ "tls unknown key", TL("      client_certs: required\n") UP RT,
	    "t.yaml:5:7: unknown key 'client_certs' in listen[0].tls (did you mean "
	    "'client_cert'?)" },
	{ "tls dup key", TL("      hsts: max-age=1\n      hsts: max-age=2\n") UP RT,
	    "t.yaml:6:7: duplicate key 'hsts' in listen[0].tls (first at line 5)" },
	{ "certificates empty", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates: []\n" UP RT,
	    "t.yaml:4:21: listen[0].tls.certificates: expected 1 to 16 entries, found 0" },
	{ "certificates map", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates: {cert: a, key: b}\n" UP RT,
	    "t.yaml:4:21: listen[0].tls.certificates: expected a list, found a mapping" },
	{ "certificates 17", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates: [{cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b},\n"
	    "        {cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b},\n"
	    "        {cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b},\n"
	    "        {cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b},\n"
	    "        {cert: a, key: b}, {cert: a, key: b}]\n" UP RT,
	    "t.yaml:4:21: listen[0].tls.certificates: expected 1 to 16 entries, found 17" },
	{ "certificate scalar", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates: [a.pem]\n" UP RT,
	    "t.yaml:4:22: listen[0].tls.certificates[0]: expected a mapping with cert and key, "
	    "found a string" },
	{ "certificate no key", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates:\n        - cert: a.pem\n" UP RT,
	    "t.yaml:5:11: listen[0].tls.certificates[0]: missing required key 'key'" },
	{ "certificate no cert", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates:\n        - {cert: a.pem, key: a.key}\n        - key: b.key\n"
	    UP RT,
	    "t.yaml:6:11: listen[0].tls.certificates[1]: missing required key 'cert'" },
	{ "certificate unknown key", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates:\n        - {cert: a, key: b, chain: c}\n" UP RT,
	    "t.yaml:5:29: unknown key 'chain' in listen[0].tls.certificates[0]" },
	{ "certificate keys typo", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates:\n        - {cert: a, kee: b}\n" UP RT,
	    "t.yaml:5:21: unknown key 'kee' in listen[0].tls.certificates[0] (did you mean "
	    "'key'?)" },
	{ "certificate empty path", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates:\n        - {cert: a, key: b}\n        - {cert: '', key: b}\n"
	    UP RT,
	    "t.yaml:6:18: listen[0].tls.certificates[1].cert: expected a file path, found an "
	    "empty value" },
	{ "certificate key list", "listen:\n  - address: 127.0.0.1:1\n    tls:\n"
	    "      certificates:\n        - cert: a\n          key: [b]\n" UP RT,
	    "t.yaml:6:16: listen[0].tls.certificates[0].key: expected a string, found a list" },
	{ "client_cert bad", TL("      client_cert: maybe\n") UP RT,
	    "t.yaml:5:20: listen[0].tls.client_cert: expected none, optional or required, "
	    "found 'maybe'" },
	{ "client_cert true", TL("      client_cert: true\n") UP RT,
	    "t.yaml:5:20: listen[0].tls.client_cert: expected none, optional or required, "
	    "found 'true'" },
	{ "client_cert required no ca", TL("      client_cert: required\n") UP RT,
	    "t.yaml:5:20: listen[0].tls.client_cert: required needs client_ca (the CA bundle "
	    "that signs client certificates)" },
	{ "client_cert optional no ca", TL("      client_cert: optional\n"
	    "      client_crl: c.crl\n") UP RT,
	    "t.yaml:5:20: listen[0].tls.client_cert: optional needs client_ca (the CA bundle "
	    "that signs client certificates)" },
	{ "client_ca without asking", TL("      client_ca: ca.pem\n") UP RT,
	    "t.yaml:5:7: listen[0].tls.client_ca: only with client_cert: optional or required "
	    "(client_cert is none, so no certificate is asked)" },
	{ "client_ca with none", TL("      client_cert: none\n      client_ca: ca.pem\n") UP RT,
	    "t.yaml:6:7: listen[0].tls.client_ca: only with client_cert: optional or required "
	    "(client_cert is none, so no certificate is asked)" },
	{ "client_crl without ca", TL("      client_crl: c.crl\n") UP RT,
	    "t.yaml:5:7: listen[0].tls.client_crl: only with client_ca" },
	{ "client_ca empty", TL("      client_cert: required\n      client_ca: ''\n") UP RT,
	    "t.yaml:6:18: listen[0].tls.client_ca: expected a file path, found an empty value" },
	{ "min_version 1.1", TL("      min_version: 1.1\n") UP RT,
	    "t.yaml:5:20: listen[0].tls.min_version: TLS 1.1 is not supported (RFC 8996 "
	    "deprecates TLS 1.0 and 1.1); expected \"1.2\" or \"1.3\"" },
	{ "min_version 1.4", TL("      min_version: '1.4'\n") UP RT,
	    "t.yaml:5:20: listen[0].tls.min_version: expected \"1.2\" or \"1.3\", found '1.4'" },
	{ "min_version number", TL("      min_version: 12\n") UP RT,
	    "t.yaml:5:20: listen[0].tls.min_version: expected \"1.2\" or \"1.3\", found '12'" },
	{ "session_tickets yes", TL("      session_tickets: yes\n") UP RT,
	    "t.yaml:5:24: listen[0].tls.session_tickets: expected true or false ('yes' is a "
	    "YAML 1.1 boolean, which is not accepted here)" },
	{ "h2c on tls", "listen:\n  - address: 127.0.0.1:8443\n    h2c: true\n"
	    "    tls:\n      certificates: [{cert: a.crt, key: a.key}]\n" UP RT,
	    "t.yaml:3:5: listen[0].h2c: only a plain listener speaks cleartext HTTP/2; with "
	    "tls, set tls.http2" },
	{ "h2c bad", "listen:\n  - address: 127.0.0.1:8080\n    h2c: yes\n" UP RT,
	    "t.yaml:3:10: listen[0].h2c: expected true or false ('yes' is a YAML 1.1 boolean, "
	    "which is not accepted here)" },
	{ "http2 section unknown", B "http2:\n  max_streams: 5\n",
	    "t.yaml:10:3: unknown key 'max_streams' in http2" },
	{ "http2 streams range", B "http2:\n  max_concurrent_streams: 0\n",
	    "t.yaml:10:27: http2.max_concurrent_streams: 0 is out of range (1..1000)" },
	{ "http2 window range", B "http2:\n  initial_window_bytes: 16777216\n",
	    "t.yaml:10:25: http2.initial_window_bytes: 16777216 is out of range "
	    "(1024..16777215)" },
	{ "http2 bad", TL("      http2: h2\n") UP RT,
	    "t.yaml:5:14: listen[0].tls.http2: expected true or false, found 'h2'" },
	{ "hsts no max-age", TL("      hsts: includeSubDomains\n") UP RT,
	    "t.yaml:5:13: listen[0].tls.hsts: expected \"off\" or a Strict-Transport-Security "
	    "value with max-age=<seconds> (RFC 6797), found 'includeSubDomains'" },
	{ "hsts bad max-age", TL("      hsts: max-age=1y\n") UP RT,
	    "t.yaml:5:13: listen[0].tls.hsts: expected \"off\" or a Strict-Transport-Security "
	    "value with max-age=<seconds> (RFC 6797), found 'max-age=1y'" },
	{ "hsts crlf", TL("      hsts: \"max-age=1\\r\\nX: y\"\n") UP RT,
	    "t.yaml:5:13: listen[0].tls.hsts: expected \"off\" or a Strict-Transport-Security "
	    "value with max-age=<seconds> (RFC 6797), found 'max-age=1??X: y'" },
	{ "hsts empty", TL("      hsts: ''\n") UP RT,
	    "t.yaml:5:13: listen[0].tls.hsts: expected \"off\" or a Strict-Transport-Security "
	    "value with max-age=<seconds> (RFC 6797), found ''" },
	{ "second listener index", "listen:\n  - 127.0.0.1:1\n  - address: 127.0.0.1:2\n"
	    "    tls: {certificates: [{cert: a, key: b}], min_version: '1.0'}\n" UP RT,
	    "t.yaml:4:59: listen[1].tls.min_version: TLS 1.0 is not supported (RFC 8996 "
	    "deprecates TLS 1.0 and 1.1); expected \"1.2\" or \"1.3\"" },

	/* top level */
	{ "rotation low", B "tls_ticket_rotation_s: 59\n",
	    "t.yaml:9:24: tls_ticket_rotation_s: 59 is out of range (60..86400)" },
	{ "rotation high", B "tls_ticket_rotation_s: 86401\n",
	    "t.yaml:9:24: tls_ticket_rotation_s: 86401 is out of range (60..86400)" },
	{ "rotation text", B "tls_ticket_rotation_s: 1h\n",
	    "t.yaml:9:24: tls_ticket_rotation_s: expected an integer from 60 to 86400, found "
	    "'1h'" },
	{ "rotation typo", B "tls_ticket_rotation: 60\n",
	    "t.yaml:9:1: unknown key 'tls_ticket_rotation' at the top level (did you mean "
	    "'tls_ticket_rotation_s'?)" },

	/* response_headers */
	{ "rh list", B "response_headers: [a]\n",
	    "t.yaml:9:19: response_headers: expected a mapping, found a list" },
	{ "rh connection", B "response_headers:\n  Connection: close\n",
	    "t.yaml:10:3: response_headers: 'Connection' cannot be configured: hop-by-hop, "
	    "framing and per-message headers are managed by portcullis" },
	{ "rh content-length", B "response_headers:\n  content-length: 1\n",
	    "t.yaml:10:3: response_headers: 'content-length' cannot be configured: hop-by-hop, "
	    "framing and per-message headers are managed by portcullis" },
	{ "rh transfer-encoding", B "response_headers:\n  TRANSFER-ENCODING: chunked\n",
	    "t.yaml:10:3: response_headers: 'TRANSFER-ENCODING' cannot be configured: "
	    "hop-by-hop, framing and per-message headers are managed by portcullis" },
	{ "rh host", B "response_headers:\n  Host: a\n",
	    "t.yaml:10:3: response_headers: 'Host' cannot be configured: hop-by-hop, framing "
	    "and per-message headers are managed by portcullis" },
	{ "rh upgrade", B "response_headers:\n  Upgrade: h2c\n",
	    "t.yaml:10:3: response_headers: 'Upgrade' cannot be configured: hop-by-hop, "
	    "framing and per-message headers are managed by portcullis" },
	{ "rh keep-alive", B "response_headers:\n  Keep-Alive: timeout=5\n",
	    "t.yaml:10:3: response_headers: 'Keep-Alive' cannot be configured: hop-by-hop, "
	    "framing and per-message headers are managed by portcullis" },
	{ "rh te", B "response_headers:\n  te: trailers\n",
	    "t.yaml:10:3: response_headers: 'te' cannot be configured: hop-by-hop, framing and "
	    "per-message headers are managed by portcullis" },
	{ "rh trailer", B "response_headers:\n  Trailer: X\n",
	    "t.yaml:10:3: response_headers: 'Trailer' cannot be configured: hop-by-hop, "
	    "framing and per-message headers are managed by portcullis" },
	{ "rh proxy-connection", B "response_headers:\n  Proxy-Connection: close\n",
	    "t.yaml:10:3: response_headers: 'Proxy-Connection' cannot be configured: "
	    "hop-by-hop, framing and per-message headers are managed by portcullis" },
	{ "rh date", B "response_headers:\n  Date: x\n",
	    "t.yaml:10:3: response_headers: 'Date' cannot be configured: hop-by-hop, framing "
	    "and per-message headers are managed by portcullis" },
	{ "rh set-cookie", B "response_headers:\n  Set-Cookie: a=b\n",
	    "t.yaml:10:3: response_headers: 'Set-Cookie' cannot be configured: hop-by-hop, "
	    "framing and per-message headers are managed by portcullis" },
	{ "rh xff", B "response_headers:\n  x-forwarded-for: 1.2.3.4\n",
	    "t.yaml:10:3: response_headers: 'x-forwarded-for' cannot be configured: portcullis "
	    "sets it itself" },
	{ "rh nosniff", B "response_headers:\n  X-Content-Type-Options: nosniff\n",
	    "t.yaml:10:3: response_headers: 'X-Content-Type-Options' cannot be configured: "
	    "portcullis sets it itself" },
	{ "rh sts", B "response_headers:\n  strict-transport-security: max-age=1\n",
	    "t.yaml:10:3: response_headers: 'strict-transport-security' is sent by TLS "
	    "listeners only: set tls.hsts on the listener" },
	{ "rh name space", B "response_headers:\n  X Frame: DENY\n",
	    "t.yaml:10:3: response_headers: 'X Frame' is not a valid header name (expected 1 to "
	    "64 characters of an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~)" },
	{ "rh name paren", B "response_headers:\n  'X(a)': DENY\n",
	    "t.yaml:10:3: response_headers: 'X(a)' is not a valid header name (expected 1 to "
	    "64 characters of an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~)" },
	{ "rh name empty", B "response_headers:\n  '': DENY\n",
	    "t.yaml:10:3: response_headers: '' is not a valid header name (expected 1 to 64 "
	    "characters of an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~)" },
	{ "rh name long", B "response_headers:\n"
	    "  X-012345678901234567890123456789012345678901234567890123456789012: a\n",
	    "t.yaml:10:3: response_headers: 'X-0123456789012345678901234567890123456789012345"
	    "6789012345678901...' is not a valid header name (expected 1 to 64 characters of "
	    "an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~)" },
	{ "rh value cr", B "response_headers:\n  X-A: \"a\\rb\"\n",
	    "t.yaml:10:8: response_headers.X-A: the value may hold only visible ASCII, spaces "
	    "and tabs (no control characters, CR or LF)" },
	{ "rh value lf", B "response_headers:\n  X-A: \"a\\nSet-Cookie: x=y\"\n",
	    "t.yaml:10:8: response_headers.X-A: the value may hold only visible ASCII, spaces "
	    "and tabs (no control characters, CR or LF)" },
	{ "rh value utf8", B "response_headers:\n  X-A: \"caf\xc3\xa9\"\n",
	    "t.yaml:10:8: response_headers.X-A: the value may hold only visible ASCII, spaces "
	    "and tabs (no control characters, CR or LF)" },
	{ "rh value empty", B "response_headers:\n  X-A: ''\n",
	    "t.yaml:10:8: response_headers.X-A: expected a non-empty value" },
	{ "rh value null", B "response_headers:\n  X-A:\n",
	    "t.yaml:10:7: response_headers.X-A: expected a non-empty value" },
	{ "rh value space", B "response_headers:\n  X-A: ' a'\n",
	    "t.yaml:10:8: response_headers.X-A: the value must not start or end with a space "
	    "or tab" },
	{ "rh value tab end", B "response_headers:\n  X-A: \"a\\t\"\n",
	    "t.yaml:10:8: response_headers.X-A: the value must not start or end with a space "
	    "or tab" },
	{ "rh value list", B "response_headers:\n  X-A: [a]\n",
	    "t.yaml:10:8: response_headers.X-A: expected a string, found a list" },
	{ "rh dup case", B "response_headers:\n  X-Frame-Options: DENY\n"
	    "  x-frame-options: SAMEORIGIN\n",
	    "t.yaml:11:3: response_headers: 'x-frame-options' repeats 'X-Frame-Options' (line "
	    "10): header names are case-insensitive" },
	{ "rh dup exact", B "response_headers:\n  X-A: a\n  X-B: b\n  X-A: c\n",
	    "t.yaml:12:3: response_headers: 'X-A' repeats 'X-A' (line 10): header names are "
	    "case-insensitive" },
	{ "rh 33", B "response_headers: {A0: a, A1: a, A2: a, A3: a, A4: a, A5: a, A6: a, A7: "
	    "a, A8: a, A9: a, B0: a, B1: a, B2: a, B3: a, B4: a, B5: a, B6: a, B7: a, B8: a, "
	    "B9: a, C0: a, C1: a, C2: a, C3: a, C4: a, C5: a, C6: a, C7: a, C8: a, C9: a, D0: "
	    "a, D1: a, D2: a}\n",
	    "t.yaml:9:19: response_headers: expected at most 32 headers, found 33" },

	/* upstream tls: */
	{ "utls scalar", LS "upstreams:\n  b:\n    targets: [127.0.0.1:9443]\n    tls: on\n" RT,
	    "t.yaml:5:10: upstream 'b': tls: expected a mapping, found a string" },
	{ "utls unknown", UT("      verfy: false\n") RT,
	    "t.yaml:6:7: unknown key 'verfy' in the tls of upstream 'b' (did you mean "
	    "'verify'?)" },
	{ "utls verify no", UT("      verify: no\n") RT,
	    "t.yaml:6:15: upstream 'b': tls.verify: expected true or false ('no' is a YAML 1.1 "
	    "boolean, which is not accepted here)" },
	{ "utls cert no key", UT("      cert: c.crt\n") RT,
	    "t.yaml:6:7: upstream 'b': tls: cert and key go together (key is missing)" },
	{ "utls key no cert", UT("      verify: true\n      key: c.key\n") RT,
	    "t.yaml:7:7: upstream 'b': tls: cert and key go together (cert is missing)" },
	{ "utls ca empty", UT("      ca: ''\n") RT,
	    "t.yaml:6:11: upstream 'b': tls.ca: expected a file path, found an empty value" },
	{ "utls ca map", UT("      ca: {a: b}\n") RT,
	    "t.yaml:6:11: upstream 'b': tls.ca: expected a string, found a mapping" },
	{ "utls sni ipv4", UT("      server_name: 10.0.0.1\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: '10.0.0.1' is an IP address; omit "
	    "server_name to check the target's IP address" },
	{ "utls sni ipv6", UT("      server_name: '::1'\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: '::1' is an IP address; omit "
	    "server_name to check the target's IP address" },
	{ "utls sni bracket", UT("      server_name: '[::1]'\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: '[::1]' is an IP address; omit "
	    "server_name to check the target's IP address" },
	{ "utls sni port", UT("      server_name: 'api.internal:443'\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name 'api.internal:443' "
	    "(expected a DNS name such as api.internal)" },
	{ "utls sni underscore", UT("      server_name: a_b.internal\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name 'a_b.internal' "
	    "(expected a DNS name such as api.internal)" },
	{ "utls sni hyphen", UT("      server_name: -a.internal\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name '-a.internal' "
	    "(expected a DNS name such as api.internal)" },
	{ "utls sni hyphen end", UT("      server_name: a-.internal\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name 'a-.internal' "
	    "(expected a DNS name such as api.internal)" },
	{ "utls sni empty label", UT("      server_name: a..b\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name 'a..b' (expected a "
	    "DNS name such as api.internal)" },
	{ "utls sni trailing dot", UT("      server_name: a.b.\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name 'a.b.' (expected a "
	    "DNS name such as api.internal)" },
	{ "utls sni empty", UT("      server_name: ''\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name '' (expected a DNS "
	    "name such as api.internal)" },
	{ "utls sni wildcard", UT("      server_name: '*.internal'\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name '*.internal' "
	    "(expected a DNS name such as api.internal)" },
	{ "utls sni long label", UT("      server_name: "
	    "a123456789012345678901234567890123456789012345678901234567890123.b\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.server_name: invalid host name "
	    "'a123456789012345678901234567890123456789012345678901234567890123...' (expected "
	    "a DNS name such as api.internal)" },
	{ "utls min 1.0", UT("      min_version: '1.0'\n") RT,
	    "t.yaml:6:20: upstream 'b': tls.min_version: TLS 1.0 is not supported (RFC 8996 "
	    "deprecates TLS 1.0 and 1.1); expected \"1.2\" or \"1.3\"" },
	{ "utls numbers still checked", UT("      verify: true\n    keepalive: -1\n") RT,
	    "t.yaml:7:16: upstream 'b': keepalive: expected an integer from 0 to 1024, found "
	    "'-1'" },

	/* routes */
	{ "route client_cert optional", LS UP RT "    client_cert: optional\n",
	    "t.yaml:9:18: route '/x': client_cert: expected none or required, found "
	    "'optional'" },
	{ "route client_cert true", LS UP RT "    client_cert: true\n",
	    "t.yaml:9:18: route '/x': client_cert: expected none or required, found 'true'" },
	{ "route header without cert", LS UP RT "    client_cert_header: X-Client-Cert\n",
	    "t.yaml:9:5: route '/x': client_cert_header: only with client_cert: required" },
	{ "route header with none", LS UP RT "    client_cert: none\n"
	    "    client_cert_header: X-Client-Cert\n",
	    "t.yaml:10:5: route '/x': client_cert_header: only with client_cert: required" },
	{ "route header host", LS UP RT "    client_cert: required\n"
	    "    client_cert_header: host\n",
	    "t.yaml:10:25: route '/x': client_cert_header: 'host' cannot be configured: "
	    "hop-by-hop, framing and per-message headers are managed by portcullis" },
	{ "route header connection", LS UP RT "    client_cert: required\n"
	    "    client_cert_header: Connection\n",
	    "t.yaml:10:25: route '/x': client_cert_header: 'Connection' cannot be configured: "
	    "hop-by-hop, framing and per-message headers are managed by portcullis" },
	{ "route header request id", LS UP RT "    client_cert: required\n"
	    "    client_cert_header: X-Request-Id\n",
	    "t.yaml:10:25: route '/x': client_cert_header: 'X-Request-Id' cannot be configured: "
	    "portcullis sets it itself" },
	{ "route header forwarded", LS UP RT "    client_cert: required\n"
	    "    client_cert_header: Forwarded\n",
	    "t.yaml:10:25: route '/x': client_cert_header: 'Forwarded' cannot be configured: "
	    "portcullis sets it itself" },
	{ "route header bad", LS UP RT "    client_cert: required\n"
	    "    client_cert_header: 'X:Cert'\n",
	    "t.yaml:10:25: route '/x': client_cert_header: 'X:Cert' is not a valid header name "
	    "(expected 1 to 64 characters of an RFC 9110 token: letters, digits and "
	    "!#$%&'*+-.^_`|~)" },
	{ "route header list", LS UP RT "    client_cert: required\n"
	    "    client_cert_header: [X-A]\n",
	    "t.yaml:10:25: route '/x': client_cert_header: expected a string, found a list" },
	{ "route header typo", LS UP RT "    client_cert_heder: X-A\n",
	    "t.yaml:9:5: unknown key 'client_cert_heder' in route #1 (did you mean "
	    "'client_cert_header'?)" },
	{ "forward credential without auth", LS UP RT "    forward_credential: false\n",
	    "t.yaml:9:25: route '/x': forward_credential: only with auth:" },
	{ "identity headers without auth", LS UP RT "    identity_headers: true\n",
	    "t.yaml:9:23: route '/x': identity_headers: only with auth:" },
	{ "route public and mtls", LS UP "routes:\n  - path: /x\n    upstream: b\n"
	    "    public: true\n    client_cert: required\n",
	    "t.yaml:8:13: route '/x': public: true contradicts client_cert: required (a route "
	    "is public or authenticated)" },
};

static void
test_errors(void **state)
{
	size_t	i;
	bool	ok = true;

	(void)state;
	for (i = 0; i < PC_NELEM(err_cases); i++) {
		if (!check_err(err_cases[i].yaml, err_cases[i].want)) {
			print_error("  in case '%s'\n", err_cases[i].name);
			ok = false;
		}
	}
	assert_true(ok);
}

/* The first error wins: a mistake anywhere in the file is reported before any certificate
 * is read, even when the tls: section comes first and names files that do not exist. */
static void
test_errors_before_contexts(void **state)
{
	(void)state;
	load_err(TL("") UP "routes:\n  - path: /x\n    upstream: c\n    public: true\n",
	    "t.yaml:10:15: route '/x': unknown upstream 'c' (did you mean 'b'?)");
	load_err(TL("") UP RT "frobnicate: 1\n",
	    "t.yaml:12:1: unknown key 'frobnicate' at the top level");
	load_err(UT("      ca: /nonexistent/ca.pem\n") RT "response_headers: {Host: a}\n",
	    "t.yaml:11:20: response_headers: 'Host' cannot be configured: hop-by-hop, framing "
	    "and per-message headers are managed by portcullis");
}

static void
test_plain_values(void **state)
{
	struct pc_conf		*c;
	unsigned		 i;

	(void)state;
	c = load_ok(B);
	assert_int_equal(c->tls_ticket_rotation_s, 3600);
	assert_int_equal(c->nresponse_headers, 0);
	assert_null(c->response_headers);
	assert_int_equal(c->nstrip_headers, 0);
	assert_null(c->strip_headers);
	assert_null(c->listeners[0].tls);
	assert_null(c->listeners[0].hsts);
	assert_int_equal(c->listeners[0].redirect_https, 0);
	assert_null(c->upstreams[0].tls);
	assert_true(c->upstreams[0].tls_verify);
	assert_string_equal(c->upstreams[0].pool_key, "");
	assert_false(c->routes[0].client_cert);
	assert_null(c->routes[0].client_cert_header);
	pc_conf_unref(c);

	c = load_ok("listen:\n"
	    "  - 127.0.0.1:8080\n"
	    "  - address: '[::1]:8081'\n"
	    "  - address: 0.0.0.0:80\n"
	    "    redirect_https: 443\n"
	    UP RT
	    "tls_ticket_rotation_s: 60\n"
	    "response_headers:\n"
	    "  X-Frame-Options: DENY\n"
	    "  Referrer-Policy: no-referrer\n"
	    "  Content-Security-Policy: \"default-src 'none'; frame-ancestors 'none'\"\n"
	    "  X-Num: 1\n"
	    "  X-Tab: \"a\\tb\"\n"
	    "  X-01234567890123456789012345678901234567890123456789012345678901: \"a ~\"\n");
	assert_int_equal(c->nlisteners, 3);
	assert_string_equal(c->listeners[0].addr.text, "127.0.0.1:8080");
	assert_int_equal(c->listeners[0].line, 2);
	assert_string_equal(c->listeners[1].addr.text, "[::1]:8081");
	assert_int_equal(c->listeners[1].line, 3);
	assert_int_equal(c->listeners[1].redirect_https, 0);
	assert_string_equal(c->listeners[2].addr.text, "0.0.0.0:80");
	assert_int_equal(c->listeners[2].redirect_https, 443);
	assert_int_equal(c->listeners[2].line, 4);
	for (i = 0; i < 3; i++) {
		assert_null(c->listeners[i].tls);
		assert_null(c->listeners[i].hsts);
	}
	assert_int_equal(c->tls_ticket_rotation_s, 60);
	assert_int_equal(c->nresponse_headers, 6);
	assert_string_equal(c->response_headers[0].name, "X-Frame-Options");
	assert_string_equal(c->response_headers[0].value, "DENY");
	assert_string_equal(c->response_headers[1].name, "Referrer-Policy");
	assert_string_equal(c->response_headers[1].value, "no-referrer");
	assert_string_equal(c->response_headers[2].name, "Content-Security-Policy");
	assert_string_equal(c->response_headers[2].value,
	    "default-src 'none'; frame-ancestors 'none'");
	assert_string_equal(c->response_headers[3].value, "1");
	assert_string_equal(c->response_headers[4].value, "a\tb");
	assert_int_equal(strlen(c->response_headers[5].name), 64);	/* the longest */
	assert_string_equal(c->response_headers[5].value, "a ~");
	pc_conf_unref(c);

	c = load_ok(B "tls_ticket_rotation_s: 86400\nresponse_headers: {}\n");
	assert_int_equal(c->tls_ticket_rotation_s, 86400);
	assert_int_equal(c->nresponse_headers, 0);
	pc_conf_unref(c);
}

/* strip_headers: every client_cert_header, once ignoring case, in file order although
 * the routes are sorted. */
static void
test_client_cert_routes(void **state)
{
	struct pc_conf			*c;
	const struct pc_conf_route	*r;
	unsigned			 i, seen = 0;

	(void)state;
	c = load_ok(LS UP "routes:\n"
	    "  - {path: /z/**, upstream: b, client_cert: required,\n"
	    "     client_cert_header: X-Client-Cert}\n"
	    "  - {path: /a, upstream: b, client_cert: required}\n"
	    "  - {path: /a/b, upstream: b, client_cert: required,\n"
	    "     client_cert_header: x-client-cert}\n"
	    "  - {path: /b, upstream: b, public: true, client_cert: none}\n"
	    "  - {path: /c, upstream: b, client_cert: required,\n"
	    "     client_cert_header: X-Peer}\n");
	assert_int_equal(c->nstrip_headers, 2);
	assert_string_equal(c->strip_headers[0], "X-Client-Cert");
	assert_string_equal(c->strip_headers[1], "X-Peer");
	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
		if (strcmp(r->name, "/z/**") == 0) {
			assert_true(r->client_cert);
			assert_string_equal(r->client_cert_header, "X-Client-Cert");
			seen |= 1;
		} else if (strcmp(r->name, "/a") == 0) {
			assert_true(r->client_cert);
			assert_null(r->client_cert_header);
			seen |= 2;
		} else if (strcmp(r->name, "/a/b") == 0) {
			assert_string_equal(r->client_cert_header, "x-client-cert");
			seen |= 4;
		} else if (strcmp(r->name, "/b") == 0) {
			assert_false(r->client_cert);
			seen |= 8;
		}
	}
	assert_int_equal(seen, 15);
	pc_conf_unref(c);
}

struct warnings {
	char		 msg[16][512];
	unsigned	 n;
};

static void
collect(void *arg, const char *msg)
{
	struct warnings *w = arg;

	if (w->n < PC_NELEM(w->msg))
		(void)snprintf(w->msg[w->n], sizeof(w->msg[0]), "%s", msg);
	w->n++;
}

static bool
has_warning(const struct warnings *w, const char *want)
{
	unsigned i;

	for (i = 0; i < w->n && i < PC_NELEM(w->msg); i++)
		if (strcmp(w->msg[i], want) == 0)
			return true;
	return false;
}

static void
test_plain_warnings(void **state)
{
	struct warnings	 w;
	struct pc_conf	*c;

	(void)state;
	/* A redirecting listener carries no traffic of its own: no plaintext warning. */
	memset(&w, 0, sizeof(w));
	c = load_ok("listen:\n"
	    "  - address: 0.0.0.0:80\n"
	    "    redirect_https: 443\n"
	    "  - 0.0.0.0:8080\n"
	    UP
	    "routes:\n"
	    "  - path: /x\n    upstream: b\n    client_cert: required\n"
	    "admin: {enabled: false}\n");
	(void)pc_conf_warnings(c, collect, &w);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.msg[0], "t.yaml:4: warning: listener 0.0.0.0:8080 is not on "
	    "loopback and has no TLS: its traffic is plaintext");
	assert_true(has_warning(&w, "t.yaml:9: warning: route '/x' requires a client "
	    "certificate but no listener asks for one (tls.client_cert): every request to it "
	    "is denied"));
	pc_conf_unref(c);
	/* A route that takes certificates as its only credential: the same. */
	memset(&w, 0, sizeof(w));
	c = load_ok("listen: [127.0.0.1:8080]\n"
	    UP
	    "routes:\n"
	    "  - path: /x\n    upstream: b\n    auth: [client_cert]\n"
	    "admin: {enabled: false}\n");
	(void)pc_conf_warnings(c, collect, &w);
	assert_true(has_warning(&w, "t.yaml:6: warning: route '/x' requires a client "
	    "certificate but no listener asks for one (tls.client_cert): every request to it "
	    "is denied"));
	pc_conf_unref(c);
}

/* ---- real contexts: certificates made at setup with the openssl command line ---- */

static char	 tmpdir[64];

static void PC_PRINTF(1, 2)
sh(const char *fmt, ...)
{
	char	cmd[2048];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void
write_file(const char *name, const char *text)
{
	char	 path[256];
	FILE	*f;

	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/*
 * In <tmpdir>: ca.{crt,key} (a CA), ec.{crt,key} (P-256, localhost, signed by the CA),
 * rsa.{crt,key} (RSA 2048, localhost), client.{crt,key} (signed by the CA), ca.crl (an
 * empty CRL of the CA), open.key (ec.key readable by everyone), 'x|y.pem' (a copy of
 * ca.crt with a '|' in its name). Keys are 0600.
 */
static int
setup_certs(void **state)
{
	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pc-test-tlsconf-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	sh("cd %s && umask 077 && exec >/dev/null 2>&1 && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key && "
	    "openssl req -x509 -new -key ca.key -subj /CN=test-ca -days 2 -out ca.crt "
	    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key && "
	    "openssl req -new -key ec.key -subj /CN=localhost -out ec.csr && "
	    "printf 'subjectAltName=DNS:localhost\\n' > ext && "
	    "openssl x509 -req -in ec.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
	    "-extfile ext -out ec.crt && "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key && "
	    "openssl req -x509 -new -key rsa.key -subj /CN=localhost -days 2 "
	    "-addext subjectAltName=DNS:localhost -out rsa.crt && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.key && "
	    "openssl req -new -key client.key -subj /CN=client -out client.csr && "
	    "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
	    "-days 2 -out client.crt && "
	    "touch index.txt && printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\n"
	    "default_md=sha256\\ndefault_crl_days=2\\n' > ca.cnf && "
	    "openssl ca -config ca.cnf -gencrl -keyfile ca.key -cert ca.crt -out ca.crl && "
	    "cp ec.key open.key && chmod 644 open.key && cp ca.crt 'x|y.pem'", tmpdir);
	return 0;
}

static int
teardown_certs(void **state)
{
	(void)state;
	sh("rm -rf %s", tmpdir);
	return 0;
}

static struct pc_conf *
load_fmt_ok(const char *fmt, ...)
{
	char	text[8192];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	return load_ok(text);
}

/* Loads and expects an error that starts with <prefix> and contains <part>. */
static void PC_PRINTF(3, 4)
load_fmt_err(const char *prefix, const char *part, const char *fmt, ...)
{
	struct pc_conf		*c = (struct pc_conf *)0x1;
	struct pc_conf_diag	 e;
	char			 text[8192];
	va_list			 ap;
	int			 n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_not_equal(pc_conf_load_mem("t.yaml", text, (size_t)n, &c, &e), 0);
	assert_null(c);
	if (strncmp(e.text, prefix, strlen(prefix)) != 0 || strstr(e.text, part) == NULL)
		fail_msg("\n got: %s\nwant: %s...%s...", e.text, prefix, part);
}

static void
test_server_contexts(void **state)
{
	struct warnings	 w;
	struct pc_conf	*c;

	(void)state;
	c = load_fmt_ok("listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - {cert: %s/ec.crt, key: %s/ec.key}\n"
	    "        - {cert: %s/rsa.crt, key: %s/rsa.key}\n"
	    "  - address: 0.0.0.0:443\n"
	    "    tls:\n"
	    "      certificates: [{cert: %s/ec.crt, key: %s/ec.key}]\n"
	    "      client_cert: required\n"
	    "      client_ca: %s/ca.crt\n"
	    "      client_crl: %s/ca.crl\n"
	    "      min_version: '1.3'\n"
	    "      session_tickets: false\n"
	    "      hsts: max-age=63072000; includeSubDomains; preload\n"
	    "      http2: false\n"
	    "  - address: 127.0.0.1:8444\n"
	    "    tls:\n"
	    "      certificates: [{cert: %s/ec.crt, key: %s/ec.key}]\n"
	    "      client_cert: optional\n"
	    "      client_ca: %s/ca.crt\n"
	    "      hsts: \"off\"\n"
	    UP
	    "routes:\n"
	    "  - {path: /m, upstream: b, client_cert: required,\n"
	    "     client_cert_header: X-Client-Cert}\n"
	    "admin: {enabled: false}\n",
	    tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir,
	    tmpdir);
	assert_int_equal(c->nlisteners, 3);
	assert_non_null(c->listeners[0].tls);
	assert_string_equal(c->listeners[0].hsts, "max-age=31536000");
	assert_non_null(c->listeners[1].tls);
	assert_string_equal(c->listeners[1].hsts, "max-age=63072000; includeSubDomains; preload");
	assert_non_null(c->listeners[2].tls);
	assert_null(c->listeners[2].hsts);
	assert_int_equal(c->nstrip_headers, 1);
	/* TLS listeners carry no plaintext warning, and one asks for client certificates. */
	memset(&w, 0, sizeof(w));
	(void)pc_conf_warnings(c, collect, &w);
	assert_int_equal(w.n, 0);
	/* A snapshot holds one reference per listener context; the last unref frees all. */
	assert_ptr_equal(pc_conf_ref(c), c);
	pc_conf_unref(c);
	pc_conf_unref(c);
}

static void
test_server_context_errors(void **state)
{
	(void)state;
	/* Missing files: the message names the entry, at its line, and the file. */
	load_fmt_err("t.yaml:5:11: listen[0].tls.certificates[0]: ", "/nonexistent.crt",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - cert: /nonexistent.crt\n"
	    "          key: %s/ec.key\n" UP RT, tmpdir);
	load_fmt_err("t.yaml:6:11: listen[0].tls.certificates[1]: ", "nonexistent.key",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - {cert: %s/ec.crt, key: %s/ec.key}\n"
	    "        - {cert: %s/rsa.crt, key: %s/nonexistent.key}\n" UP RT,
	    tmpdir, tmpdir, tmpdir, tmpdir);
	/* A key readable by group or others is refused. */
	load_fmt_err("t.yaml:5:11: listen[0].tls.certificates[0]: ", "open.key",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - {cert: %s/ec.crt, key: %s/open.key}\n" UP RT, tmpdir, tmpdir);
	/* A key that does not match its certificate. */
	load_fmt_err("t.yaml:5:11: listen[0].tls.certificates[0]: ", "",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - {cert: %s/ec.crt, key: %s/rsa.key}\n" UP RT, tmpdir, tmpdir);
	/* A certificate where a key is expected, and the other way round. */
	load_fmt_err("t.yaml:5:11: listen[0].tls.certificates[0]: ", "",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - {cert: %s/ec.key, key: %s/ec.key}\n" UP RT, tmpdir, tmpdir);
	/* Not a regular file: refused without blocking (a FIFO would hang a reload). */
	load_fmt_err("t.yaml:5:11: listen[0].tls.certificates[0]: ", "",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - {cert: /dev/zero, key: %s/ec.key}\n" UP RT, tmpdir);
	load_fmt_err("t.yaml:5:11: listen[0].tls.certificates[0]: ", "",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - {cert: %s, key: %s/ec.key}\n" UP RT, tmpdir, tmpdir);
	/* Section-wide errors point at the tls key. */
	load_fmt_err("t.yaml:3:5: listen[0].tls: ", "nonexistent-ca.pem",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates: [{cert: %s/ec.crt, key: %s/ec.key}]\n"
	    "      client_cert: required\n"
	    "      client_ca: %s/nonexistent-ca.pem\n" UP RT, tmpdir, tmpdir, tmpdir);
	load_fmt_err("t.yaml:3:5: listen[0].tls: ", "nonexistent.crl",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates: [{cert: %s/ec.crt, key: %s/ec.key}]\n"
	    "      client_cert: required\n"
	    "      client_ca: %s/ca.crt\n"
	    "      client_crl: %s/nonexistent.crl\n" UP RT, tmpdir, tmpdir, tmpdir, tmpdir);
	/* The second listener fails after the first was built: the first is freed (LSan). */
	load_fmt_err("t.yaml:7:22: listen[1].tls.certificates[0]: ", "missing.crt",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates: [{cert: %s/ec.crt, key: %s/ec.key}]\n"
	    "  - address: 127.0.0.1:8444\n"
	    "    tls:\n"
	    "      certificates: [{cert: %s/missing.crt, key: %s/ec.key}]\n" UP RT,
	    tmpdir, tmpdir, tmpdir, tmpdir);
	/* From memory, a relative path is relative to the current directory. */
	load_fmt_err("t.yaml:4:22: listen[0].tls.certificates[0]: ", "pc-no-such-dir/ec.crt",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates: [{cert: pc-no-such-dir/ec.crt, key: %s/ec.key}]\n" UP RT,
	    tmpdir);
}

/* From a file, relative paths are relative to the file's directory, wherever we run. */
static void
test_relative_paths(void **state)
{
	struct pc_conf		*c = NULL;
	struct pc_conf_diag	 e;
	char			 path[256];

	(void)state;
	write_file("gw.yaml", "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates: [{cert: ec.crt, key: ec.key}]\n"
	    "      client_cert: optional\n"
	    "      client_ca: ./ca.crt\n"
	    "      client_crl: ca.crl\n"
	    "upstreams:\n"
	    "  b:\n"
	    "    targets: [127.0.0.1:9443]\n"
	    "    tls: {ca: ca.crt, cert: client.crt, key: client.key}\n"
	    RT);
	(void)snprintf(path, sizeof(path), "%s/gw.yaml", tmpdir);
	if (pc_conf_load(path, &c, &e) != 0)
		fail_msg("unexpected error: %s", e.text);
	assert_non_null(c->listeners[0].tls);
	assert_non_null(c->upstreams[0].tls);
	(void)snprintf(path, sizeof(path), "tls|-|%s/ca.crt|%s/client.crt|1|1.2", tmpdir,
	    tmpdir);
	assert_string_equal(c->upstreams[0].pool_key, path);
	pc_conf_unref(c);

	write_file("gw.yaml", "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls:\n"
	    "      certificates: [{cert: nope.crt, key: ec.key}]\n" UP RT);
	(void)snprintf(path, sizeof(path), "%s/gw.yaml", tmpdir);
	assert_int_not_equal(pc_conf_load(path, &c, &e), 0);
	assert_null(c);
	(void)snprintf(path, sizeof(path), "%s/gw.yaml:4:22: listen[0].tls.certificates[0]: ",
	    tmpdir);
	if (strncmp(e.text, path, strlen(path)) != 0)
		fail_msg("got: %s", e.text);
	(void)snprintf(path, sizeof(path), "%s/nope.crt", tmpdir);
	assert_non_null(strstr(e.text, path));
}

static void
test_upstream_contexts(void **state)
{
	struct warnings	 w;
	struct pc_conf	*c;
	char		 want[512];
	unsigned	 i;

	(void)state;
	c = load_fmt_ok(LS "upstreams:\n"
	    "  a:\n"
	    "    targets: [127.0.0.1:9443]\n"
	    "    tls: {}\n"
	    "  b:\n"
	    "    targets: [127.0.0.1:9443]\n"
	    "    tls:\n"
	    "      verify: true\n"
	    "      ca: %s/ca.crt\n"
	    "      server_name: API.Internal\n"
	    "      cert: %s/client.crt\n"
	    "      key: %s/client.key\n"
	    "      min_version: '1.3'\n"
	    "  c:\n"
	    "    targets: [127.0.0.1:9443]\n"
	    "    tls: {verify: false, server_name: api.internal}\n"
	    "  d:\n"
	    "    targets: [127.0.0.1:9443]\n"
	    "    tls: {ca: '%s/x|y.pem'}\n"
	    "  e:\n"
	    "    targets: [127.0.0.1:9000]\n"
	    RT "admin: {enabled: false}\n",
	    tmpdir, tmpdir, tmpdir, tmpdir);
	assert_int_equal(c->nupstreams, 5);
	for (i = 0; i < 4; i++)
		assert_non_null(c->upstreams[i].tls);
	assert_null(c->upstreams[4].tls);
	assert_string_equal(c->upstreams[0].pool_key, "tls|-|-|-|1|1.2");
	assert_true(c->upstreams[0].tls_verify);
	(void)snprintf(want, sizeof(want), "tls|api.internal|%s/ca.crt|%s/client.crt|1|1.3",
	    tmpdir, tmpdir);
	assert_string_equal(c->upstreams[1].pool_key, want);
	assert_string_equal(c->upstreams[2].pool_key, "tls|api.internal|-|-|0|1.2");
	assert_false(c->upstreams[2].tls_verify);
	/* '|' in a path is escaped: no two configurations share a key. */
	(void)snprintf(want, sizeof(want), "tls|-|%s/x%%7Cy.pem|-|1|1.2", tmpdir);
	assert_string_equal(c->upstreams[3].pool_key, want);
	assert_string_equal(c->upstreams[4].pool_key, "");
	memset(&w, 0, sizeof(w));
	(void)pc_conf_warnings(c, collect, &w);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.msg[0], "t.yaml:15: warning: upstream 'c' does not verify its TLS "
	    "certificates (tls.verify: false): anyone on the path can read and change its "
	    "traffic");
	pc_conf_unref(c);

	load_fmt_err("t.yaml:5:5: upstream 'b': tls: ", "nonexistent.pem",
	    UT("      ca: %s/nonexistent.pem\n") RT, tmpdir);
	load_fmt_err("t.yaml:5:5: upstream 'b': tls: ", "open.key is readable by group",
	    UT("      cert: %s/client.crt\n      key: %s/open.key\n") RT, tmpdir, tmpdir);
	/* A listener built before a failing upstream is freed (LSan). */
	load_fmt_err("t.yaml:8:5: upstream 'b': tls: ", "missing.pem",
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "    tls: {certificates: [{cert: %s/ec.crt, key: %s/ec.key}]}\n"
	    "upstreams:\n"
	    "  b:\n"
	    "    targets: [127.0.0.1:9443]\n"
	    "    keepalive: 0\n"
	    "    tls: {ca: %s/missing.pem}\n" RT, tmpdir, tmpdir, tmpdir);
}

int
main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_before_contexts),
		cmocka_unit_test(test_plain_values),
		cmocka_unit_test(test_client_cert_routes),
		cmocka_unit_test(test_plain_warnings),
	};
	const struct CMUnitTest certs[] = {
		cmocka_unit_test(test_server_contexts),
		cmocka_unit_test(test_server_context_errors),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_upstream_contexts),
	};
	int rc;

	if (pc_tls_init() != 0)
		return 1;
	rc = cmocka_run_group_tests(plain, NULL, NULL);
	return rc | cmocka_run_group_tests(certs, setup_certs, teardown_certs);
}
