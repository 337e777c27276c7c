/*
 * tests/unit/admin/test_admin.c - the admin listener over real sockets on 127.0.0.1:
 * bearer-token authentication, loopback-only mode, endpoints, errors, slow clients, bind
 * failures. Includes admin.c to learn the port it bound (port 0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "admin/admin.c"

#define TOKEN	"t0ken-s3cret-value"

static uint16_t port;

/* A configuration as the loader makes it (the token from the environment, as secrets
 * must), published as the current one. */
static void
publish(const char *token)
{
	static const char base[] = "listen: [127.0.0.1:1]\n"
	    "upstreams:\n  u: {targets: [127.0.0.1:2]}\n"
	    "routes:\n  - {path: /, upstream: u, public: true}\n";
	char			 yaml[512];
	struct pc_conf		*c = NULL;
	struct pc_conf_diag	 err;
	int			 n;

	if (token != NULL)
		assert_int_equal(setenv("PC_TEST_ADMIN_TOKEN", token, 1), 0);
	n = snprintf(yaml, sizeof(yaml), "%s%s", base, token != NULL ?
	    "admin: {token: '${env:PC_TEST_ADMIN_TOKEN}'}\n" : "");
	assert_true(n > 0 && (size_t)n < sizeof(yaml));
	if (pc_conf_load_mem("t.yaml", yaml, (size_t)n, &c, &err) != 0)
		fail_msg("%s", err.text);
	pc_conf_publish(c);
}

/* pc_addr_parse() refuses port 0, so the address is built by hand: the kernel picks a
 * free port and getsockname() says which. */
static void
make_addr(const char *ip, uint16_t p, struct pc_addr *a)
{
	struct sockaddr_in *sa = (struct sockaddr_in *)&a->ss;

	memset(a, 0, sizeof(*a));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(p);
	assert_int_equal(inet_pton(AF_INET, ip, &sa->sin_addr), 1);
	a->len = sizeof(*sa);
	(void)snprintf(a->text, sizeof(a->text), "%s:%u", ip, p);
}

static void
start_on(const char *ip)
{
	struct pc_addr		a;
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	make_addr(ip, 0, &a);
	assert_int_equal(pc_admin_start(&a), 0);
	assert_int_equal(getsockname(adm.lfd, (struct sockaddr *)&ss, &len), 0);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int
connect_to(const char *ip, const char *from)
{
	struct sockaddr_in	sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval		tv = { 5, 0 };
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	if (from != NULL) {
		struct sockaddr_in src = { .sin_family = AF_INET };

		assert_int_equal(inet_pton(AF_INET, from, &src.sin_addr), 1);
		assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	}
	assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static char *
read_all(int fd)
{
	size_t	 cap = 1 << 20, len = 0;
	char	*buf = malloc(cap + 1);
	ssize_t	 n;

	assert_non_null(buf);
	while ((n = recv(fd, buf + len, cap - len, 0)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

/* Sends <req> from <from> (NULL: any) to <ip> and returns the whole response. */
static char *
exchange_from(const char *ip, const char *from, const char *req, size_t len)
{
	int	 fd = connect_to(ip, from);
	char	*resp;

	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	resp = read_all(fd);
	(void)close(fd);
	return resp;
}

static char *
exchange(const char *req)
{
	return exchange_from("127.0.0.1", NULL, req, strlen(req));
}

static char *
get(const char *method, const char *path, const char *auth)
{
	char req[1024];

	(void)snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: admin\r\n%s%s%s\r\n", method,
	    path, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
	return exchange(req);
}

static const char *
body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	assert_non_null(b);
	return b + 4;
}

static void
expect(char *resp, const char *status_line, const char *body)
{
	assert_int_equal(strncmp(resp, status_line, strlen(status_line)), 0);
	assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
	if (body != NULL)
		assert_string_equal(body_of(resp), body);
	free(resp);
}

static void
test_token_required(void **state)
{
	int	 pfd[2], saved;
	char	 logbuf[4096], *r;
	ssize_t	 n;

	(void)state;
	publish(TOKEN);
	/* Capture stderr: the 401 is logged, and the log never holds the token. */
	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(pfd[1], STDERR_FILENO), STDERR_FILENO);
	r = get("GET", "/metrics", NULL);
	assert_non_null(strstr(r, "\r\nWWW-Authenticate: Bearer realm=\"portcullis-admin\"\r\n"));
	expect(r, "HTTP/1.1 401 ", "{\"error\":\"Unauthorized\",\"reason\":\"admin_unauthorized\"}\n");
	expect(get("GET", "/metrics", "Bearer " TOKEN "x"), "HTTP/1.1 401 ", NULL);
	expect(get("GET", "/metrics", "Bearer t0ken-s3cret-valuX"), "HTTP/1.1 401 ", NULL);
	expect(get("GET", "/metrics", "Bearer t0ken"), "HTTP/1.1 401 ", NULL);
	expect(get("GET", "/metrics", "Bearer "), "HTTP/1.1 401 ", NULL);
	expect(get("GET", "/metrics", "Basic " TOKEN), "HTTP/1.1 401 ", NULL);
	expect(get("GET", "/metrics", "Bearer" TOKEN), "HTTP/1.1 401 ", NULL);
	/* Unknown paths need the token too: no probing of what exists. */
	expect(get("GET", "/nope", NULL), "HTTP/1.1 401 ", NULL);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	(void)close(saved);
	(void)close(pfd[1]);
	n = read(pfd[0], logbuf, sizeof(logbuf) - 1);
	(void)close(pfd[0]);
	assert_true(n > 0);
	logbuf[n] = '\0';
	assert_non_null(strstr(logbuf, "\"level\":\"error\",\"msg\":\"admin: unauthorized request "
	    "from 127.0.0.1:"));
	assert_null(strstr(logbuf, "t0ken"));
}

static void
test_endpoints_with_token(void **state)
{
	char *r;

	(void)state;
	publish(TOKEN);
	expect(get("GET", "/healthz", "Bearer " TOKEN), "HTTP/1.1 200 OK\r\n",
	    "{\"status\":\"ok\"}\n");
	/* The scheme is case-insensitive (RFC 9110 11.1); extra spaces are tolerated. */
	expect(get("GET", "/healthz?x=1", "bearer   " TOKEN), "HTTP/1.1 200 OK\r\n",
	    "{\"status\":\"ok\"}\n");

	pc_metrics_request(PC_STR("admin-test-route"), 201, 1000);
	r = get("GET", "/metrics", "Bearer " TOKEN);
	assert_non_null(strstr(r, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(body_of(r), "# TYPE portcullis_build_info gauge\n"));
	assert_non_null(strstr(body_of(r),
	    "\nportcullis_requests_total{route=\"admin-test-route\",status=\"201\"} 1\n"));
	{
		char cl[64];

		(void)snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(body_of(r)));
		assert_non_null(strstr(r, cl));
	}
	expect(r, "HTTP/1.1 200 OK\r\n", NULL);

	expect(get("GET", "/nope", "Bearer " TOKEN), "HTTP/1.1 404 Not Found\r\n",
	    "{\"error\":\"Not Found\",\"reason\":\"admin_not_found\"}\n");
	expect(get("GET", "/metrics/", "Bearer " TOKEN), "HTTP/1.1 404 ", NULL);
	r = get("POST", "/metrics", "Bearer " TOKEN);
	assert_non_null(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
	expect(r, "HTTP/1.1 405 ", "{\"error\":\"Method Not Allowed\","
	    "\"reason\":\"admin_method_not_allowed\"}\n");
	r = get("HEAD", "/healthz", "Bearer " TOKEN);
	assert_non_null(strstr(r, "\r\nContent-Length: 16\r\n"));
	expect(r, "HTTP/1.1 200 OK\r\n", "");
}

static void
test_bad_requests(void **state)
{
	char		*big, *r;
	size_t		 n = 9000;
	uint64_t	 t0;
	int		 idle;

	(void)state;
	publish(TOKEN);
	expect(exchange("GARBAGE\r\n\r\n"), "HTTP/1.1 400 ", NULL);
	expect(exchange("GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 400 ", NULL);	/* no Host */
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "GET /healthz HTTP/1.1\r\nHost: a\r\nX: ", 35);
	r = exchange_from("127.0.0.1", NULL, big, n);
	assert_true(strncmp(r, "HTTP/1.1 431 ", 13) == 0 || strncmp(r, "HTTP/1.1 414 ", 13) == 0);
	free(r);
	free(big);

	/* A client that sends nothing holds the admin thread at most ~2 s, then the next
	 * client is served. */
	t0 = pc_now_ms();
	idle = connect_to("127.0.0.1", NULL);
	expect(get("GET", "/healthz", "Bearer " TOKEN), "HTTP/1.1 200 OK\r\n", NULL);
	assert_true(pc_now_ms() - t0 >= READ_TIMEOUT_MS - 100);
	assert_true(pc_now_ms() - t0 < READ_TIMEOUT_MS + 1500);
	r = read_all(idle);
	assert_string_equal(r, "");	/* closed without an answer */
	free(r);
	(void)close(idle);
}

/* A non-loopback IPv4 address of this host, or 0 if there is none. */
static int
local_ip(char *out, size_t n)
{
	struct ifaddrs	*ifa, *i;
	int		 found = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)i->ifa_addr;

		if (sa == NULL || sa->sin_family != AF_INET ||
		    (ntohl(sa->sin_addr.s_addr) >> 24) == 127)
			continue;
		found = inet_ntop(AF_INET, &sa->sin_addr, out, (socklen_t)n) != NULL;
	}
	freeifaddrs(ifa);
	return found;
}

static void
test_no_token_loopback_only(void **state)
{
	char ip[INET_ADDRSTRLEN];

	(void)state;
	publish(NULL);
	/* No token: liveness only, on loopback; everything else is refused, not served. */
	expect(get("GET", "/healthz", NULL), "HTTP/1.1 200 OK\r\n", "{\"status\":\"ok\"}\n");
	expect(get("GET", "/metrics", NULL), "HTTP/1.1 403 Forbidden\r\n",
	    "{\"error\":\"Forbidden\",\"reason\":\"admin_token_not_configured\"}\n");
	expect(get("GET", "/metrics", "Bearer " TOKEN), "HTTP/1.1 403 ", NULL);
	expect(get("GET", "/nope", NULL), "HTTP/1.1 403 ", NULL);
	if (!local_ip(ip, sizeof(ip)))
		skip();
	pc_admin_stop();
	start_on("0.0.0.0");
	expect(exchange_from(ip, ip, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 34),
	    "HTTP/1.1 403 Forbidden\r\n",
	    "{\"error\":\"Forbidden\",\"reason\":\"admin_not_loopback\"}\n");
	/* The token, once configured, admits a remote client to what it protects. */
	publish(TOKEN);
	{
		static const char req[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n"
		    "Authorization: Bearer " TOKEN "\r\n\r\n";
		static const char bare[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";

		expect(exchange_from(ip, ip, req, sizeof(req) - 1), "HTTP/1.1 200 OK\r\n", NULL);
		expect(exchange_from(ip, ip, bare, sizeof(bare) - 1), "HTTP/1.1 401 ", NULL);
	}
	pc_admin_stop();
	start_on("127.0.0.1");
}

static void
test_peer_is_loopback(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "127.1.2.3", &s4->sin_addr), 1);
	assert_true(peer_is_loopback(&ss));
	assert_int_equal(inet_pton(AF_INET, "128.0.0.1", &s4->sin_addr), 1);
	assert_false(peer_is_loopback(&ss));
	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::1", &s6->sin6_addr), 1);
	assert_true(peer_is_loopback(&ss));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6->sin6_addr), 1);
	assert_true(peer_is_loopback(&ss));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.1", &s6->sin6_addr), 1);
	assert_false(peer_is_loopback(&ss));
	assert_int_equal(inet_pton(AF_INET6, "::2", &s6->sin6_addr), 1);
	assert_false(peer_is_loopback(&ss));
}

static void
test_token_equal(void **state)
{
	(void)state;
	assert_true(token_equal(PC_STR("abc"), "abc"));
	assert_false(token_equal(PC_STR("abd"), "abc"));
	assert_false(token_equal(PC_STR("ab"), "abc"));
	assert_false(token_equal(PC_STR("abcabc"), "abc"));	/* i % wlen must not repeat */
	assert_false(token_equal(PC_STR(""), "abc"));
	assert_false(token_equal(PC_STR(""), ""));
}

static void
test_bind_failures(void **state)
{
	struct pc_addr		a;
	char			text[32];
	struct sockaddr_in	sa = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sa);
	int			fd;

	(void)state;
	/* Already running. */
	make_addr("127.0.0.1", 0, &a);
	assert_int_equal(pc_admin_start(&a), -PC_EINVAL);
	/* A port some other listener (a proxy listener, say) holds: refused, not shared. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	{
		int one = 1;

		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	pc_admin_stop();
	(void)snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(pc_addr_parse(pc_str_c(text), &a), 0);	/* the config's own parser */
	assert_int_not_equal(pc_admin_start(&a), 0);
	assert_false(adm.running);
	(void)close(fd);
	/* And it starts again afterwards. */
	start_on("127.0.0.1");
	publish(TOKEN);
	expect(get("GET", "/healthz", "Bearer " TOKEN), "HTTP/1.1 200 OK\r\n", NULL);
}

static int
setup(void **state)
{
	(void)state;
	start_on("127.0.0.1");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pc_admin_stop();
	pc_admin_stop();	/* twice is harmless */
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_required),
		cmocka_unit_test(test_endpoints_with_token),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_no_token_loopback_only),
		cmocka_unit_test(test_peer_is_loopback),
		cmocka_unit_test(test_token_equal),
		cmocka_unit_test(test_bind_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
