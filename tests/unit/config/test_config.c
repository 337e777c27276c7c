/*
 * tests/unit/config/test_config.c - the configuration loader: the example file, every
 * default, every error with its exact "file:line:col: message", substitutions, warnings,
 * reference counting and publish/acquire. Runs under ASan/LSan: no error path may leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_int.h"
#include "http/http.h"
#include "core/banned.h"

#define LS	"listen: [127.0.0.1:8080]\n"
#define UP	"upstreams:\n  b:\n    targets: [127.0.0.1:9000]\n"
#define RT	"routes:\n  - path: /x\n    upstream: b\n    public: true\n"
#define B	LS UP RT

#define TOKEN	"abcdefghijklmnopqrstuvwxyz"

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

static void
load_err(const char *text, size_t len, const char *want)
{
	struct pc_conf		*c = (struct pc_conf *)0x1;
	struct pc_conf_diag	 e;
	int			 rc;

	rc = pc_conf_load_mem("t.yaml", text, len, &c, &e);
	assert_int_not_equal(rc, 0);
	assert_null(c);
	assert_string_equal(e.text, want);
}

static int
setup_env(void **state)
{
	(void)state;
	setenv("PC_T_TOKEN", TOKEN, 1);
	setenv("PC_T_SHORT", "short", 1);
	setenv("PC_T_SPACE", "abc defghijklmnopqrstuvwxyz", 1);
	setenv("PC_T_LISTEN", "127.0.0.1:1", 1);
	unsetenv("PC_T_UNSET");
	return 0;
}

static const struct {
	const char	*name;
	const char	*yaml;
	const char	*want;
} err_cases[] = {
	{ "syntax", "listen: [127.0.0.1:8080\n" UP RT,
	    "t.yaml:2:10: YAML syntax error: did not find expected ',' or ']' (while parsing "
	    "a flow sequence)" },
	{ "syntax2", "a: b: c\n",
	    "t.yaml:1:5: YAML syntax error: mapping values are not allowed in this context" },
	{ "tab", "listen:\n"
	    "\t- x\n",
	    "t.yaml:2:1: YAML syntax error: found character that cannot start any token "
	    "(while scanning for the next token)" },
	{ "badutf8", "listen: \"\xff""\"\n",
	    "t.yaml:1:10: invalid input: invalid leading UTF-8 octet" },
	{ "empty", "",
	    "t.yaml:1:1: the configuration is empty" },
	{ "comment only", "# nothing\n",
	    "t.yaml:1:1: the configuration is empty" },
	{ "not map", "- a\n"
	    "- b\n",
	    "t.yaml:1:1: the top level must be a mapping of keys to values" },
	{ "scalar doc", "hello\n",
	    "t.yaml:1:1: the top level must be a mapping of keys to values" },
	{ "multi doc", B "---\n"
	    "listen: [127.0.0.1:1]\n",
	    "t.yaml:9:1: multiple YAML documents are not supported" },
	{ "anchor", LS "upstreams:\n"
	    "  b: &x\n"
	    "    targets: [127.0.0.1:9000]\n" RT,
	    "t.yaml:3:6: YAML anchors are not supported" },
	{ "alias", "listen: &l [127.0.0.1:8080]\n"
	    "x: *l\n",
	    "t.yaml:1:9: YAML anchors are not supported" },
	{ "alias2", B "access_log: *foo\n",
	    "t.yaml:9:13: YAML aliases are not supported" },
	{ "tag", "listen: !!seq [127.0.0.1:8080]\n" UP RT,
	    "t.yaml:1:9: YAML tags are not supported" },
	{ "tag directive", "%TAG ! tag:example.com,2000:\n"
	    "---\n" B,
	    "t.yaml:1:1: YAML tags are not supported" },
	{ "unknown top", "lisen: [127.0.0.1:8080]\n" UP RT,
	    "t.yaml:1:1: unknown key 'lisen' at the top level (did you mean 'listen'?)" },
	{ "unknown top far", "frobnicate: 1\n" B,
	    "t.yaml:1:1: unknown key 'frobnicate' at the top level" },
	{ "unknown limits", B "limits:\n"
	    "  header_max_byte: 2000\n",
	    "t.yaml:10:3: unknown key 'header_max_byte' in limits (did you mean "
	    "'header_max_bytes'?)" },
	{ "unknown admin", B "admin:\n"
	    "  tokn: x\n",
	    "t.yaml:10:3: unknown key 'tokn' in admin (did you mean 'token'?)" },
	{ "unknown upstream key", LS UP "    keepalive_timout_ms: 5\n" RT,
	    "t.yaml:5:5: unknown key 'keepalive_timout_ms' in upstream 'b' (did you mean "
	    "'keepalive_timeout_ms'?)" },
	{ "unknown route key", B "    method: [GET]\n",
	    "t.yaml:9:5: unknown key 'method' in route #1 (did you mean 'methods'?)" },
	{ "dup top", B "listen: [127.0.0.1:8081]\n",
	    "t.yaml:9:1: duplicate key 'listen' at the top level (first at line 1)" },
	{ "dup in limits", B "limits:\n"
	    "  body_max_bytes: 1\n"
	    "  body_max_bytes: 2\n",
	    "t.yaml:11:3: duplicate key 'body_max_bytes' in limits (first at line 10)" },
	{ "complex key", B "? [a]\n"
	    ": b\n",
	    "t.yaml:9:3: mapping keys must be plain strings" },
	{ "missing listen", UP RT,
	    "t.yaml:1:1: missing required key 'listen'" },
	{ "missing routes", LS UP,
	    "t.yaml:1:1: missing required key 'routes'" },
	{ "listen not list", "listen: 127.0.0.1:8080\n" UP RT,
	    "t.yaml:1:9: listen: expected a list, found a string" },
	{ "listen empty value", "listen:\n" UP RT,
	    "t.yaml:1:8: listen: expected a list, found an empty value" },
	{ "listen empty list", "listen: []\n" UP RT,
	    "t.yaml:1:9: listen: expected 1 to 64 addresses, found 0" },
	{ "listen dns", "listen: [localhost:8080]\n" UP RT,
	    "t.yaml:1:10: listen: invalid address 'localhost:8080' (expected numeric "
	    "host:port such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "listen no port", "listen: [127.0.0.1]\n" UP RT,
	    "t.yaml:1:10: listen: invalid address '127.0.0.1' (expected numeric host:port "
	    "such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "listen port 0", "listen: [127.0.0.1:0]\n" UP RT,
	    "t.yaml:1:10: listen: invalid address '127.0.0.1:0' (expected numeric host:port "
	    "such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "listen port big", "listen: [127.0.0.1:65536]\n" UP RT,
	    "t.yaml:1:10: listen: invalid address '127.0.0.1:65536' (expected numeric "
	    "host:port such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "listen v6 nobracket", "listen: ['::1:80']\n" UP RT,
	    "t.yaml:1:10: listen: invalid address '::1:80' (expected numeric host:port such "
	    "as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "listen dup", "listen: [127.0.0.1:8080, 127.0.0.1:8080]\n" UP RT,
	    "t.yaml:1:26: listen: 127.0.0.1:8080 is already listed at line 1" },
	{ "workers 0", "workers: 0\n" B,
	    "t.yaml:1:10: workers: 0 is out of range (1..256)" },
	{ "workers 257", "workers: 257\n" B,
	    "t.yaml:1:10: workers: 257 is out of range (1..256)" },
	{ "workers word", "workers: many\n" B,
	    "t.yaml:1:10: workers: expected \"auto\" or an integer from 1 to 256, found "
	    "'many'" },
	{ "workers neg", "workers: -1\n" B,
	    "t.yaml:1:10: workers: expected \"auto\" or an integer from 1 to 256, found '-1'" },
	{ "limits range", B "limits:\n"
	    "  header_max_bytes: 100\n",
	    "t.yaml:10:21: limits.header_max_bytes: 100 is out of range (1024..1048576)" },
	{ "limits not int", B "limits:\n"
	    "  header_timeout_ms: 10s\n",
	    "t.yaml:10:22: limits.header_timeout_ms: expected an integer from 1 to 3600000, "
	    "found '10s'" },
	{ "limits huge", B "limits:\n"
	    "  body_max_bytes: 99999999999999999999999\n",
	    "t.yaml:10:19: limits.body_max_bytes: 99999999999999999999999 is out of range "
	    "(0..1099511627776)" },
	{ "limits count", B "limits:\n"
	    "  header_max_count: 101\n",
	    "t.yaml:10:21: limits.header_max_count: 101 is out of range (1..100)" },
	{ "limits not map", B "limits: [1]\n",
	    "t.yaml:9:9: limits: expected a mapping, found a list" },
	{ "bool yes", B "report_only: yes\n",
	    "t.yaml:9:14: report_only: expected true or false ('yes' is a YAML 1.1 boolean, "
	    "which is not accepted here)" },
	{ "bool off", B "response:\n"
	    "  drop_server_header: off\n",
	    "t.yaml:10:23: response.drop_server_header: expected true or false ('off' is a "
	    "YAML 1.1 boolean, which is not accepted here)" },
	{ "bool True", B "report_only: True\n",
	    "t.yaml:9:14: report_only: expected true or false ('True' is a YAML 1.1 boolean, "
	    "which is not accepted here)" },
	{ "bool junk", B "report_only: maybe\n",
	    "t.yaml:9:14: report_only: expected true or false, found 'maybe'" },
	{ "cidr hostbits", B "trusted_proxies: [10.0.0.1/8]\n",
	    "t.yaml:9:19: trusted_proxies: '10.0.0.1/8' has host bits set (did you mean "
	    "10.0.0.0/8?)" },
	{ "cidr bad", B "trusted_proxies: [10.0.0.0/33]\n",
	    "t.yaml:9:19: trusted_proxies: invalid CIDR '10.0.0.0/33' (expected an address "
	    "with an optional prefix length, such as 10.0.0.0/8 or ::1/128)" },
	{ "cidr junk", B "trusted_proxies: [proxy.local]\n",
	    "t.yaml:9:19: trusted_proxies: invalid CIDR 'proxy.local' (expected an address "
	    "with an optional prefix length, such as 10.0.0.0/8 or ::1/128)" },
	{ "cidr not list", B "trusted_proxies: 10.0.0.0/8\n",
	    "t.yaml:9:18: trusted_proxies: expected a list, found a string" },
	{ "access_log empty", B "access_log: ''\n",
	    "t.yaml:9:13: access_log: expected \"stdout\", \"off\" or a file path" },
	{ "admin token inline", B "admin:\n"
	    "  token: abcdefghijklmnopqrstuvwxyz\n",
	    "t.yaml:10:10: admin.token: secrets must come from ${env:NAME} or ${file:PATH}, "
	    "not inline" },
	{ "admin token prefix", B "admin:\n"
	    "  token: x${env:PC_T_TOKEN}\n",
	    "t.yaml:10:10: admin.token: secrets must come from ${env:NAME} or ${file:PATH}, "
	    "not inline" },
	{ "admin token short", B "admin:\n"
	    "  token: ${env:PC_T_SHORT}\n",
	    "t.yaml:10:10: admin.token: the token is shorter than 16 bytes" },
	{ "admin token space", B "admin:\n"
	    "  token: ${env:PC_T_SPACE}\n",
	    "t.yaml:10:10: admin.token: the token must be printable ASCII without spaces" },
	{ "admin listen bad", B "admin:\n"
	    "  listen: 127.0.0.1\n",
	    "t.yaml:10:11: admin.listen: invalid address '127.0.0.1' (expected numeric "
	    "host:port such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "drain range", B "drain_timeout_ms: 3600001\n",
	    "t.yaml:9:19: drain_timeout_ms: 3600001 is out of range (0..3600000)" },
	{ "user unknown", B "user: no-such-user-here\n",
	    "t.yaml:9:7: user: no such user 'no-such-user-here'" },
	{ "user root", B "user: root\n",
	    "t.yaml:9:7: user: 'root' is root; name an unprivileged user" },
	{ "user invalid", B "user: \"1bad name\"\n",
	    "t.yaml:9:7: user: '1bad name' is not a valid user name" },
	{ "user empty", B "user: \"\"\n",
	    "t.yaml:9:7: user: expected a user name of 1 to 32 characters" },
	{ "upstreams not map", LS "upstreams: [a]\n" RT,
	    "t.yaml:2:12: upstreams: expected a mapping, found a list" },
	{ "upstream bad name", LS "upstreams:\n"
	    "  'a b':\n"
	    "    targets: [127.0.0.1:9000]\n" RT,
	    "t.yaml:3:3: upstreams: invalid upstream name 'a b' (expected "
	    "[A-Za-z0-9_.-]{1,64})" },
	{ "upstream dup", LS UP "  b:\n"
	    "    targets: [127.0.0.1:9001]\n" RT,
	    "t.yaml:5:3: duplicate upstream 'b' (first at line 3)" },
	{ "upstream no targets", LS "upstreams:\n"
	    "  b:\n"
	    "    keepalive: 1\n" RT,
	    "t.yaml:3:3: upstream 'b': missing required key 'targets'" },
	{ "upstream targets empty", LS "upstreams:\n"
	    "  b:\n"
	    "    targets: []\n" RT,
	    "t.yaml:4:14: upstream 'b': targets: expected 1 to 64 addresses, found 0" },
	{ "upstream target bad", LS "upstreams:\n"
	    "  b:\n"
	    "    targets: [backend:80]\n" RT,
	    "t.yaml:4:15: upstream 'b': targets: invalid address 'backend:80' (expected "
	    "numeric host:port such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
	{ "upstream keepalive range", LS UP "    keepalive: 1025\n" RT,
	    "t.yaml:5:16: upstream 'b': keepalive: 1025 is out of range (0..1024)" },
	{ "upstream not map", LS "upstreams:\n"
	    "  b: 127.0.0.1:9000\n" RT,
	    "t.yaml:3:6: upstream 'b': expected a mapping, found a string" },
	{ "routes empty", LS UP "routes: []\n",
	    "t.yaml:5:9: routes: expected 1 to 4096 routes, found 0" },
	{ "routes not list", LS UP "routes:\n"
	    "  path: /x\n",
	    "t.yaml:6:3: routes: expected a list, found a mapping" },
	{ "route not map", LS UP "routes:\n"
	    "  - /x\n",
	    "t.yaml:6:5: route #1: expected a mapping, found a string" },
	{ "route no path", LS UP "routes:\n"
	    "  - upstream: b\n"
	    "    public: true\n",
	    "t.yaml:6:5: route #1: missing required key 'path'" },
	{ "route bad path", LS UP "routes:\n"
	    "  - path: /a//b\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:6:14: route '/a//b': path: empty segment in route path ('//' or a "
	    "trailing '/')" },
	{ "route bad path quoted", LS UP "routes:\n"
	    "  - path: \"/a/b%20\"\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:6:16: route '/a/b%20': path: '%' in a route path: write the character "
	    "itself (paths are matched after normalization)" },
	{ "route no upstream", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    public: true\n",
	    "t.yaml:6:5: route '/x': missing required key 'upstream'" },
	{ "route unknown upstream", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    upstream: bb\n"
	    "    public: true\n",
	    "t.yaml:7:15: route '/x': unknown upstream 'bb' (did you mean 'b'?)" },
	{ "route not public", LS UP "routes:\n"
	    "  - name: api\n"
	    "    path: /api/**\n"
	    "    upstream: b\n",
	    "t.yaml:6:5: route 'api': not public and no authentication configured; deny by "
	    "default (set auth:, client_cert: required, or public: true)" },
	{ "route public false", LS UP "routes:\n"
	    "  - path: /api/**\n"
	    "    upstream: b\n"
	    "    public: false\n",
	    "t.yaml:8:13: route '/api/**': not public and no authentication configured; deny "
	    "by default (set auth:, client_cert: required, or public: true)" },
	{ "route bad name", LS UP "routes:\n"
	    "  - name: 'a b'\n"
	    "    path: /x\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:6:11: route #1: invalid name 'a b' (expected [A-Za-z0-9_.:/{}*-]{1,128})" },
	{ "route dup name", B "  - path: /x\n"
	    "    methods: [POST]\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:9:5: route '/x': the name is already used by the route at line 6 (names "
	    "must be unique: set name: on one of them)" },
	{ "route ambiguous", B "  - name: y\n"
	    "    path: /x\n"
	    "    methods: [GET]\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:9:5: routes '/x' (line 6) and 'y' (line 9) are ambiguous: same path, "
	    "host and overlapping methods" },
	{ "route ambiguous params", LS UP "routes:\n"
	    "  - path: /u/{id}\n"
	    "    upstream: b\n"
	    "    public: true\n"
	    "  - path: /u/{name}\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:9:5: routes '/u/{id}' (line 6) and '/u/{name}' (line 9) are ambiguous: "
	    "same path, host and overlapping methods" },
	{ "method lower", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    methods: [get]\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:15: route '/x': methods: 'get' must be upper case ('GET')" },
	{ "method unknown", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    methods: [FETCH]\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:15: route '/x': methods: unknown method 'FETCH' (expected GET, HEAD, "
	    "POST, PUT, DELETE, PATCH, OPTIONS or TRACE)" },
	{ "method connect", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    methods: [CONNECT]\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:15: route '/x': methods: unknown method 'CONNECT' (expected GET, HEAD, "
	    "POST, PUT, DELETE, PATCH, OPTIONS or TRACE)" },
	{ "methods empty", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    methods: []\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:14: route '/x': methods: empty list (omit the key to allow any method)" },
	{ "methods dup", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    methods: [GET, GET]\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:20: route '/x': methods: GET is listed twice" },
	{ "methods scalar", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    methods: GET\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:14: route '/x': methods: expected a list, found a string" },
	{ "host port", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    host: api.example.com:443\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:11: route '/x': host: 'api.example.com:443' must not include a port" },
	{ "host bad", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    host: '*.example.com'\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:11: route '/x': host: invalid host name '*.example.com' (expected a "
	    "DNS name or an IP address, without port or wildcard)" },
	{ "host bad ip", LS UP "routes:\n"
	    "  - path: /x\n"
	    "    host: 1.2.3\n"
	    "    upstream: b\n"
	    "    public: true\n",
	    "t.yaml:7:11: route '/x': host: invalid host name '1.2.3' (expected a DNS name "
	    "or an IP address, without port or wildcard)" },
	{ "route body range", B "    body_max_bytes: 1099511627777\n",
	    "t.yaml:9:21: route '/x': body_max_bytes: 1099511627777 is out of range "
	    "(0..1099511627776)" },
	{ "env unset", "listen: ['${env:PC_T_UNSET}']\n" UP RT,
	    "t.yaml:1:10: environment variable PC_T_UNSET is not set" },
	{ "env bad name", "listen: ['${env:1X}']\n" UP RT,
	    "t.yaml:1:10: invalid environment variable name '1X' (expected "
	    "[A-Za-z_][A-Za-z0-9_]*)" },
	{ "subst unterminated", "listen: ['${env:PC_T_LISTEN']\n" UP RT,
	    "t.yaml:1:10: unterminated '${' (expected ${env:NAME} or ${file:PATH})" },
	{ "subst unknown", "listen: ['${foo:x}']\n" UP RT,
	    "t.yaml:1:10: unknown substitution '${foo:...}' (expected ${env:NAME} or "
	    "${file:PATH})" },
	{ "subst nokind", "listen: ['${PC_T_LISTEN}']\n" UP RT,
	    "t.yaml:1:10: '${PC_T_LISTEN}': expected ${env:NAME} or ${file:PATH}" },
	{ "file missing", B "access_log: ${file:does-not-exist}\n",
	    "t.yaml:9:13: cannot read ${file:does-not-exist}: No such file or directory" },
	{ "file dev zero", B "access_log: ${file:/dev/zero}\n",
	    "t.yaml:9:13: ${file:/dev/zero}: not a regular file" },
	{ "file dir", B "access_log: ${file:/tmp}\n",
	    "t.yaml:9:13: ${file:/tmp}: not a regular file" },
	{ "nul in value", B "access_log: \"a\\0b\"\n",
	    "t.yaml:9:13: NUL bytes are not allowed" },
	{ "deep", B "x: [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]\n",
	    "t.yaml:9:19: nesting too deep (more than 16 levels)" },
	{ "subst not echoed", "listen: ['${env:PC_T_SPACE}']\n" UP RT,
	    "t.yaml:1:10: listen: invalid address '(substituted value)' (expected numeric "
	    "host:port such as 127.0.0.1:8080 or [::1]:8080; names are not resolved)" },
};

static void
test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_NELEM(err_cases); i++) {
		print_message("case %s\n", err_cases[i].name);
		load_err(err_cases[i].yaml, strlen(err_cases[i].yaml), err_cases[i].want);
	}
}

static void
test_error_edges(void **state)
{
	char	*big;
	size_t	 n = 1024 * 1024 + 1;

	(void)state;
	/* A NUL byte inside the text is the reader's business, not a silent truncation. */
	load_err("listen: [127.0.0.1:8080]\0\n", 26,
	    "t.yaml:1:25: invalid input: control characters are not allowed");
	big = malloc(n);
	assert_non_null(big);
	memset(big, '#', n);
	load_err(big, n, "t.yaml:1:1: the configuration is larger than 1048576 bytes");
	free(big);
}

/* examples/minimal.yaml, as shipped: every field it sets, and the order of its routes. */
static void
test_minimal_example(void **state)
{
	struct pc_conf			*c = NULL;
	struct pc_conf_diag		 e;
	const struct pc_conf_route	*r;
	const struct pc_conf_upstream	*u;
	unsigned			 i;

	(void)state;
	setenv("PC_ADMIN_TOKEN", "0123456789abcdef-example", 1);
	if (pc_conf_load("examples/minimal.yaml", &c, &e) != 0)
		fail_msg("%s", e.text);
	assert_string_equal(c->path, "examples/minimal.yaml");
	assert_true(c->workers >= 1 && c->workers <= 256);
	assert_int_equal(c->nlisteners, 1);
	assert_string_equal(c->listeners[0].addr.text, "127.0.0.1:8080");
	assert_int_equal(c->listeners[0].line, 4);
	assert_int_equal(c->limits.request_line_max_bytes, 8192);
	assert_int_equal(c->limits.header_max_bytes, 32768);
	assert_int_equal(c->limits.header_max_count, 100);
	assert_int_equal(c->limits.body_max_bytes, 1048576);
	assert_int_equal(c->limits.header_timeout_ms, 10000);
	assert_int_equal(c->limits.body_timeout_ms, 30000);
	assert_int_equal(c->limits.idle_timeout_ms, 60000);
	assert_int_equal(c->limits.max_connections, 20000);
	assert_int_equal(c->limits.max_requests_per_connection, 10000);
	assert_int_equal(c->ntrusted_proxies, 1);
	assert_int_equal(c->trusted_proxies[0].family, AF_INET);
	assert_int_equal(c->trusted_proxies[0].prefix, 32);
	assert_false(c->report_only);
	assert_true(c->drop_server_header);
	assert_string_equal(c->access_log, "stdout");
	assert_string_equal(c->event_log, "off");
	assert_true(c->admin_enabled);
	assert_string_equal(c->admin_addr.text, "127.0.0.1:9901");
	assert_string_equal(c->admin_token, "0123456789abcdef-example");
	assert_int_equal(c->drain_timeout_ms, 30000);
	assert_int_equal(c->nupstreams, 1);
	u = &c->upstreams[0];
	assert_string_equal(u->name, "backend");
	assert_int_equal(u->ntargets, 1);
	assert_string_equal(u->targets[0].text, "127.0.0.1:9000");
	assert_int_equal(u->connect_timeout_ms, 2000);
	assert_int_equal(u->read_timeout_ms, 30000);
	assert_int_equal(u->total_timeout_ms, 60000);
	assert_int_equal(u->keepalive_max, 32);
	assert_int_equal(u->keepalive_timeout_ms, 30000);
	assert_int_equal(u->max_fails, 3);
	assert_int_equal(u->fail_timeout_ms, 10000);
	assert_int_equal(c->nroutes, 3);
	for (i = 0; i + 1 < c->nroutes; i++)
		assert_true(pc_conf__route_cmp(&c->routes[i], &c->routes[i + 1]) <= 0);
	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
		assert_int_equal(r->upstream, 0);
		assert_true(r->public_);
		assert_false(r->report_only);
		if (strcmp(r->name, "health") == 0) {
			assert_int_equal(r->order, 0);
			assert_int_equal(r->line, 37);
			assert_string_equal(r->path, "/health");
			assert_int_equal(r->methods, 1u << PC_M_GET);
			assert_null(r->host);
			assert_int_equal(r->body_max_bytes, 1048576);
		} else if (strcmp(r->name, "items") == 0) {
			assert_int_equal(r->order, 1);
			assert_int_equal(r->nsegs, 2);
			assert_int_equal(r->segs[1].kind, PC_SEG_PARAM);
			assert_int_equal(r->methods, (1u << PC_M_GET) | (1u << PC_M_PUT));
			assert_string_equal(r->host, "api.example.com");
			assert_int_equal(r->body_max_bytes, 65536);
		} else {
			assert_string_equal(r->name, "static");
			assert_int_equal(r->order, 2);
			assert_int_equal(r->methods, 0);
			assert_int_equal(r->segs[r->nsegs - 1].kind, PC_SEG_WILDCARD);
		}
	}
	pc_conf_unref(c);
	unsetenv("PC_ADMIN_TOKEN");
}

static void
test_defaults(void **state)
{
	struct pc_conf	*c;
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	c = load_ok(B);
	assert_int_equal(c->workers, ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu);
	assert_int_equal(c->limits.request_line_max_bytes, 8192);
	assert_int_equal(c->limits.header_max_bytes, 32768);
	assert_int_equal(c->limits.header_max_count, 100);
	assert_int_equal(c->limits.body_max_bytes, 1048576);
	assert_int_equal(c->limits.header_timeout_ms, 10000);
	assert_int_equal(c->limits.body_timeout_ms, 30000);
	assert_int_equal(c->limits.idle_timeout_ms, 60000);
	assert_int_equal(c->limits.max_connections, 20000);
	assert_int_equal(c->limits.max_requests_per_connection, 10000);
	assert_int_equal(c->ntrusted_proxies, 0);
	assert_null(c->trusted_proxies);
	assert_false(c->report_only);
	assert_true(c->drop_server_header);
	assert_string_equal(c->access_log, "stdout");
	assert_string_equal(c->event_log, "off");
	assert_true(c->admin_enabled);
	assert_string_equal(c->admin_addr.text, "127.0.0.1:9901");
	assert_null(c->admin_token);
	assert_int_equal(c->drain_timeout_ms, 30000);
	assert_int_equal(c->upstreams[0].connect_timeout_ms, 2000);
	assert_int_equal(c->upstreams[0].read_timeout_ms, 30000);
	assert_int_equal(c->upstreams[0].total_timeout_ms, 60000);
	assert_int_equal(c->upstreams[0].keepalive_max, 32);
	assert_int_equal(c->upstreams[0].keepalive_timeout_ms, 30000);
	assert_int_equal(c->upstreams[0].max_fails, 3);
	assert_int_equal(c->upstreams[0].fail_timeout_ms, 10000);
	assert_string_equal(c->routes[0].name, "/x");	/* the name defaults to the path */
	assert_int_equal(c->routes[0].methods, 0);
	assert_null(c->routes[0].host);
	assert_false(c->routes[0].report_only);
	assert_int_equal(c->routes[0].body_max_bytes, 1048576);
	assert_int_equal(c->refs, 1);
	pc_conf_unref(c);

	/* A route's body limit follows limits.body_max_bytes unless set. */
	c = load_ok(B "limits:\n  body_max_bytes: 0\n");
	assert_int_equal(c->routes[0].body_max_bytes, 0);
	pc_conf_unref(c);
}

static void
test_values(void **state)
{
	struct pc_conf *c;

	(void)state;
	c = load_ok("workers: 3\n"
	    "listen: ['[::1]:8080', 0.0.0.0:80, '[0:0::0]:81']\n" UP
	    "trusted_proxies: [10.0.0.0/8, '::1', 192.168.1.7, 'fd00::/8']\n"
	    "report_only: true\n"
	    "response: {drop_server_header: false}\n"
	    "access_log: \"off\"\n"
	    "event_log: /var/log/pc/events.jsonl\n"
	    "admin: {enabled: false, listen: '[::1]:9999'}\n"
	    "drain_timeout_ms: 0\n"
	    "routes:\n"
	    "  - name: r0\n"
	    "    path: /\n"
	    "    host: API.Example.COM\n"
	    "    upstream: b\n"
	    "    public: true\n"
	    "  - {name: r1, path: /, host: '[::1]', upstream: b, public: true}\n"
	    "  - {name: r2, path: /, host: 10.1.2.3, upstream: b, public: true}\n"
	    "  - {name: 'a:b/c{d}*', path: /x, methods: [POST], upstream: b, public: true}\n"
	    "  - {name: get-x, path: /x, methods: [GET, HEAD], upstream: b, public: true}\n");
	assert_int_equal(c->workers, 3);
	assert_int_equal(c->nlisteners, 3);
	assert_string_equal(c->listeners[0].addr.text, "[::1]:8080");
	assert_string_equal(c->listeners[1].addr.text, "0.0.0.0:80");
	assert_string_equal(c->listeners[2].addr.text, "[::]:81");
	assert_int_equal(c->ntrusted_proxies, 4);
	assert_int_equal(c->trusted_proxies[0].prefix, 8);
	assert_int_equal(c->trusted_proxies[1].family, AF_INET6);
	assert_int_equal(c->trusted_proxies[1].prefix, 128);
	assert_int_equal(c->trusted_proxies[2].prefix, 32);
	assert_true(c->report_only);
	assert_false(c->drop_server_header);
	assert_string_equal(c->access_log, "off");
	assert_string_equal(c->event_log, "/var/log/pc/events.jsonl");
	assert_false(c->admin_enabled);
	assert_string_equal(c->admin_addr.text, "[::1]:9999");
	assert_int_equal(c->drain_timeout_ms, 0);
	assert_int_equal(c->nroutes, 5);
	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct pc_conf_route *r = &c->routes[i];

		if (r->order == 0)
			assert_string_equal(r->host, "api.example.com");
		if (r->order == 1)
			assert_string_equal(r->host, "[::1]");
		if (r->order == 2)
			assert_string_equal(r->host, "10.1.2.3");
		if (r->order == 3)
			assert_string_equal(r->name, "a:b/c{d}*");
		if (r->order == 4)
			assert_int_equal(r->methods, (1u << PC_M_GET) | (1u << PC_M_HEAD));
	}
	pc_conf_unref(c);
}

/* A scratch directory holding the config file and what it substitutes. */
static char tmpdir[64];

static void
write_file(const char *name, const void *data, size_t len)
{
	char	path[128];
	FILE	*f;

	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int
setup_dir(void **state)
{
	(void)setup_env(state);
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pc-test-config-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	static const char *const names[] = { "c.yaml", "token", "nul", "big", "fifo",
		"exact", "crlf" };
	char	path[128];
	size_t	i;

	(void)state;
	for (i = 0; i < PC_NELEM(names); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		(void)unlink(path);
	}
	return rmdir(tmpdir);
}

static int
load_file(const char *yaml, struct pc_conf **c, struct pc_conf_diag *e)
{
	char path[128];

	write_file("c.yaml", yaml, strlen(yaml));
	(void)snprintf(path, sizeof(path), "%s/c.yaml", tmpdir);
	return pc_conf_load(path, c, e);
}

static void
file_err(const char *yaml, const char *want_after_path)
{
	struct pc_conf		*c;
	struct pc_conf_diag	 e;
	char			 want[512];

	assert_int_not_equal(load_file(yaml, &c, &e), 0);
	assert_null(c);
	(void)snprintf(want, sizeof(want), "%s/c.yaml:%s", tmpdir, want_after_path);
	assert_string_equal(e.text, want);
}

static void
test_subst_env(void **state)
{
	struct pc_conf *c;

	(void)state;
	setenv("PC_T_DIR", "/var/log/pc", 1);
	setenv("PC_T_HOST", "127.0.0.1", 1);
	setenv("PC_T_PORT", "8443", 1);
	setenv("PC_T_EMPTY", "", 1);
	c = load_ok("listen: ['${env:PC_T_HOST}:${env:PC_T_PORT}']\n" UP RT
	    "access_log: ${env:PC_T_DIR}/access.jsonl\n"
	    "event_log: \"${env:PC_T_EMPTY}x$y$${env:PC_T_EMPTY}{}\"\n"
	    "admin:\n  token: ${env:PC_T_TOKEN}\n");
	assert_string_equal(c->listeners[0].addr.text, "127.0.0.1:8443");
	assert_string_equal(c->access_log, "/var/log/pc/access.jsonl");
	assert_string_equal(c->event_log, "x$y${}");
	assert_string_equal(c->admin_token, TOKEN);
	pc_conf_unref(c);

	/* Keys are never substituted. */
	load_err("${env:PC_T_DIR}: 1\n" B, strlen("${env:PC_T_DIR}: 1\n" B),
	    "t.yaml:1:1: unknown key '${env:PC_T_DIR}' at the top level");
	/* Substituted text gets its type after substitution. */
	setenv("PC_T_BOOL", "yes", 1);
	load_err(B "report_only: ${env:PC_T_BOOL}\n", strlen(B "report_only: ${env:PC_T_BOOL}\n"),
	    "t.yaml:9:14: report_only: expected true or false, found '(substituted value)'");
	setenv("PC_T_NUM", "12", 1);
	c = load_ok(B "drain_timeout_ms: ${env:PC_T_NUM}0\n");
	assert_int_equal(c->drain_timeout_ms, 120);
	pc_conf_unref(c);
}

static void
test_subst_file(void **state)
{
	struct pc_conf		*c;
	struct pc_conf_diag	 e;
	char			*big, path[160], yaml[512];

	(void)state;
	write_file("token", TOKEN "\n", strlen(TOKEN) + 1);
	write_file("exact", "/logs/a\n\n", 9);
	write_file("crlf", "0123456789abcdef\r\n", 18);
	/* Relative to the file's directory, one trailing newline removed. */
	if (load_file(B "admin: {token: '${file:token}'}\naccess_log: ${file:exact}\n", &c,
	    &e) != 0)
		fail_msg("%s", e.text);
	assert_string_equal(c->admin_token, TOKEN);
	assert_string_equal(c->access_log, "/logs/a\n");
	pc_conf_unref(c);
	/* Absolute paths work too. */
	(void)snprintf(yaml, sizeof(yaml), B "admin: {token: '${file:%s/token}'}\n", tmpdir);
	if (load_file(yaml, &c, &e) != 0)
		fail_msg("%s", e.text);
	assert_string_equal(c->admin_token, TOKEN);
	pc_conf_unref(c);
	/* Only "\n" is removed: the CR stays and is not a token character. */
	file_err(B "admin: {token: '${file:crlf}'}\n", "9:16: admin.token: the token must be "
	    "printable ASCII without spaces");

	file_err(B "access_log: ${file:missing}\n",
	    "9:13: cannot read ${file:missing}: No such file or directory");
	write_file("nul", "ab\0cd", 5);
	file_err(B "access_log: ${file:nul}\n", "9:13: ${file:nul}: contains a NUL byte");
	big = calloc(1, 64 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'a', 64 * 1024 + 1);
	write_file("big", big, 64 * 1024 + 1);
	free(big);
	file_err(B "access_log: ${file:big}\n", "9:13: ${file:big}: larger than 64 KiB");
	/* A FIFO would block a plain open(2) forever: refused at once instead. */
	(void)snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	file_err(B "access_log: ${file:fifo}\n", "9:13: ${file:fifo}: not a regular file");
	file_err(B "access_log: ${file:/dev/zero}\n",
	    "9:13: ${file:/dev/zero}: not a regular file");
	file_err(B "access_log: ${file:}\n", "9:13: ${file:}: empty path");
	file_err("listen: [127.0.0.1:8080\n", "2:1: YAML syntax error: did not find expected "
	    "',' or ']' (while parsing a flow sequence)");
}

static void
test_load_file_errors(void **state)
{
	struct pc_conf		*c;
	struct pc_conf_diag	 e;

	(void)state;
	assert_int_equal(pc_conf_load("/nonexistent/pc.yaml", &c, &e), -PC_ENOENT);
	assert_null(c);
	assert_string_equal(e.text, "/nonexistent/pc.yaml:1:1: cannot open: No such file or "
	    "directory");
	assert_int_not_equal(pc_conf_load("/dev/null", &c, &e), 0);
	assert_string_equal(e.text, "/dev/null:1:1: not a regular file");
	assert_int_not_equal(pc_conf_load("/tmp", &c, &e), 0);
	assert_string_equal(e.text, "/tmp:1:1: not a regular file");
}

struct collected {
	unsigned	 n;
	char		 msg[16][512];
};

static void
collect(void *arg, const char *msg)
{
	struct collected *w = arg;

	if (w->n < 16)
		(void)snprintf(w->msg[w->n], sizeof(w->msg[0]), "%s", msg);
	w->n++;
}

static void
test_warnings(void **state)
{
	static const char *const want[] = {
		"t.yaml:2: warning: listener 0.0.0.0:80 is not on loopback and has no TLS: its "
		    "traffic is plaintext",
		"t.yaml:8: warning: admin listener 0.0.0.0:9901 is not on loopback",
		"t.yaml:8: warning: admin API enabled without admin.token: only /healthz is served",
		"t.yaml:5: warning: trusted_proxies contains ::/0: every client can choose the "
		    "address it is logged and limited as",
		"t.yaml:6: warning: report_only is true: requests that should be denied are "
		    "logged and let through",
		"t.yaml:13: warning: route 'a' is public and has no rate limit (rate limits are "
		    "not available yet)",
		"t.yaml:14: warning: route 'b' has report_only: true: requests that should be "
		    "denied are logged and let through",
		"t.yaml:14: warning: route 'b' is public and has no rate limit (rate limits are "
		    "not available yet)",
	};
	struct collected	 w;
	struct pc_conf		*c;
	size_t			 i;

	(void)state;
	c = load_ok("listen:\n  - 0.0.0.0:80\n  - 127.0.0.2:81\n  - '[::1]:82'\n"
	    "trusted_proxies: [10.0.0.0/8, '::/0', 0.0.0.0/0]\n"
	    "report_only: true\n"
	    "admin:\n  listen: 0.0.0.0:9901\n"
	    UP
	    "routes:\n"
	    "  - {name: a, path: /a/**, upstream: b, public: true}\n"
	    "  - {name: b, path: /a/b, upstream: b, public: true, report_only: true}\n");
	memset(&w, 0, sizeof(w));
	assert_int_equal(pc_conf_warnings(c, collect, &w), PC_NELEM(want));
	assert_int_equal(w.n, PC_NELEM(want));
	for (i = 0; i < PC_NELEM(want); i++)
		assert_string_equal(w.msg[i], want[i]);
	assert_int_equal(pc_conf_warnings(c, NULL, NULL), PC_NELEM(want));
	pc_conf_unref(c);

	/* The quiet case: loopback, admin with a token, nothing but the public route. */
	c = load_ok(B "admin: {token: '${env:PC_T_TOKEN}'}\n");
	memset(&w, 0, sizeof(w));
	assert_int_equal(pc_conf_warnings(c, collect, &w), 1);
	assert_string_equal(w.msg[0], "t.yaml:6: warning: route '/x' is public and has no rate "
	    "limit (rate limits are not available yet)");
	pc_conf_unref(c);
}

static void
test_refcount(void **state)
{
	struct pc_conf *c;

	(void)state;
	c = load_ok(B);
	assert_int_equal(c->refs, 1);
	assert_ptr_equal(pc_conf_ref(c), c);
	assert_ptr_equal(pc_conf_ref(c), c);
	assert_int_equal(c->refs, 3);
	pc_conf_unref(c);
	pc_conf_unref(c);
	assert_int_equal(c->refs, 1);
	pc_conf_unref(c);	/* freed: LSan would see a leak otherwise */
	pc_conf_unref(NULL);
	assert_null(pc_conf_ref(NULL));
}

static void
test_publish(void **state)
{
	struct pc_conf	*a, *b, *got;
	uint64_t	 g0;

	(void)state;
	a = load_ok(B);
	b = load_ok(B "workers: 2\n");
	g0 = pc_conf_generation();
	pc_conf_publish(a);	/* takes our reference */
	assert_int_equal(pc_conf_generation(), g0 + 1);
	got = pc_conf_acquire();
	assert_ptr_equal(got, a);
	assert_int_equal(a->refs, 2);
	/* A worker still holding the old snapshot keeps it alive across a reload. */
	pc_conf_publish(b);
	assert_int_equal(pc_conf_generation(), g0 + 2);
	assert_int_equal(got->refs, 1);
	assert_int_equal(got->limits.header_max_count, 100);
	pc_conf_unref(got);
	got = pc_conf_acquire();
	assert_ptr_equal(got, b);
	assert_int_equal(got->workers, 2);
	pc_conf_unref(got);
	pc_conf_publish(NULL);
	assert_null(pc_conf_acquire());
	assert_int_equal(pc_conf_generation(), g0 + 3);
}

static void
test_addr_parse(void **state)
{
	static const struct {
		const char	*in;
		const char	*text;	/* NULL: refused */
	} cases[] = {
		{ "127.0.0.1:8080", "127.0.0.1:8080" },
		{ "0.0.0.0:80", "0.0.0.0:80" },
		{ "[::1]:8080", "[::1]:8080" },
		{ "[2001:DB8:0:0::1]:443", "[2001:db8::1]:443" },
		{ "[::ffff:10.0.0.1]:1", "[::ffff:10.0.0.1]:1" },
		{ "1.2.3.4:65535", "1.2.3.4:65535" },
		{ "1.2.3.4:0", NULL }, { "1.2.3.4:65536", NULL }, { "1.2.3.4:", NULL },
		{ "1.2.3.4", NULL }, { ":80", NULL }, { "localhost:80", NULL },
		{ "010.0.0.1:80", NULL }, { "1.2.3:80", NULL }, { "::1:80", NULL },
		{ "[::1]80", NULL }, { "[::1]", NULL }, { "[fe80::1%eth0]:80", NULL },
		{ "1.2.3.4:+80", NULL }, { "1.2.3.4: 80", NULL }, { "1.2.3.4:080808", NULL },
		{ "[1.2.3.4]:80", NULL }, { "", NULL },
	};
	struct pc_addr	a;
	size_t		i;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++) {
		int rc = pc_addr_parse(pc_str_c(cases[i].in), &a);

		print_message("addr %s\n", cases[i].in);
		if (cases[i].text == NULL) {
			assert_int_equal(rc, -PC_EINVAL);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(a.text, cases[i].text);
		assert_int_equal(a.len, a.ss.ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	}
	assert_int_equal(pc_addr_parse(pc_str_make("1.2.3.4:8\0", 10), &a), -PC_EINVAL);
	assert_int_equal(pc_addr_parse(PC_STR_NULL, &a), -PC_EINVAL);
}

static struct sockaddr_storage
sa(const char *ip)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return ss;
}

static void
test_cidr_contains(void **state)
{
	static const struct {
		const char	*cidr;	/* loaded through trusted_proxies */
		const char	*ip;
		bool		 in;
	} cases[] = {
		{ "10.0.0.0/8", "10.255.1.2", true }, { "10.0.0.0/8", "11.0.0.1", false },
		{ "10.0.0.0/8", "::ffff:10.1.2.3", true }, { "10.0.0.0/8", "::1", false },
		{ "192.168.1.128/25", "192.168.1.200", true },
		{ "192.168.1.128/25", "192.168.1.127", false },
		{ "1.2.3.4", "1.2.3.4", true }, { "1.2.3.4", "1.2.3.5", false },
		{ "0.0.0.0/0", "203.0.113.9", true }, { "0.0.0.0/0", "2001:db8::1", false },
		{ "::/0", "2001:db8::1", true }, { "::/0", "1.2.3.4", false },
		{ "::1", "::1", true }, { "::1/128", "::2", false },
		{ "2001:db8::/33", "2001:db8:7fff::1", true },
		{ "2001:db8::/33", "2001:db8:8000::1", false },
	};
	struct sockaddr_storage	 ss;
	struct pc_conf		*c;
	char			 yaml[512];
	size_t			 i;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++) {
		(void)snprintf(yaml, sizeof(yaml), B "trusted_proxies: ['%s']\n", cases[i].cidr);
		c = load_ok(yaml);
		ss = sa(cases[i].ip);
		print_message("cidr %s %s\n", cases[i].cidr, cases[i].ip);
		assert_int_equal(pc_cidr_contains(&c->trusted_proxies[0],
		    (const struct sockaddr *)&ss), cases[i].in);
		pc_conf_unref(c);
	}
	assert_false(pc_cidr_contains(NULL, (const struct sockaddr *)&ss));
}

static void
test_route_order(void **state)
{
	struct pc_conf	*c;
	unsigned	 i;

	(void)state;
	c = load_ok(LS UP
	    "  c:\n    targets: ['[::1]:1']\n"
	    "routes:\n"
	    "  - {name: all, path: /**, upstream: c, public: true}\n"
	    "  - {name: user, path: '/u/{id}', upstream: b, public: true}\n"
	    "  - {name: me, path: /u/me, methods: [POST], upstream: c, public: true}\n"
	    "  - {name: me-get, path: /u/me, methods: [GET], upstream: b, public: true}\n"
	    "  - {name: me-host, path: /u/me, host: a.example, upstream: b, public: true}\n");
	assert_int_equal(c->nroutes, 5);
	assert_int_equal(c->nupstreams, 2);
	for (i = 0; i + 1 < c->nroutes; i++)
		assert_true(pc_conf__route_cmp(&c->routes[i], &c->routes[i + 1]) <= 0);
	for (i = 0; i < c->nroutes; i++) {
		assert_true(c->routes[i].upstream < c->nupstreams);
		if (strcmp(c->routes[i].name, "all") == 0 || strcmp(c->routes[i].name, "me") == 0)
			assert_int_equal(c->routes[i].upstream, 1);
	}
	assert_string_equal(c->routes[c->nroutes - 1].name, "all");
	pc_conf_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_edges),
		cmocka_unit_test(test_minimal_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_subst_env),
		cmocka_unit_test_setup_teardown(test_subst_file, setup_dir, teardown_dir),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_publish),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_route_order),
	};

	return cmocka_run_group_tests(tests, setup_env, NULL);
}
