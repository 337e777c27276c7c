/*
 * admin/admin.c - the admin listener: one thread, one connection at a time, blocking
 * sockets bounded by poll(2) deadlines.
 * Owns: the admin socket, request reading (8 KiB, 2 s), authentication, the endpoints
 *     (/metrics, /healthz, /jwks.json).
 * Does not: keep connections alive, read request bodies, serve a proxy route, or log a
 *     token. Throughput is not a goal: a scraper and an operator are the only clients.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin/admin.h"
#include "http/http.h"
#include "observe/observe.h"
#include "core/banned.h"

#define REQ_MAX_BYTES	8192
#define READ_TIMEOUT_MS	2000	/* whole request head */
#define WRITE_TIMEOUT_MS 2000	/* whole response */
#define LINGER_MS	200	/* draining unread input before close, so no RST eats the reply */
#define METRICS_MAX	(8u << 20)
#define LOG_PATH_MAX	200	/* bytes of a client's target quoted in a log line */

static struct {
	int		 lfd;
	int		 stopfd;	/* eventfd: readable once pc_admin_stop() was called */
	pthread_t	 thread;
	bool		 running;
	char		 addr_text[64];
} adm = { -1, -1, 0, false, "" };

struct resp {
	int		 status;
	const char	*ctype;
	const char	*extra;		/* more header lines, each ending in CRLF, or "" */
	struct pc_buf	 body;
};

static bool
stop_requested(void)
{
	struct pollfd pfd = { .fd = adm.stopfd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/*
 * Waits until <fd> is ready for <events> or <deadline_ms> (pc_now_ms) passes; the stop
 * eventfd interrupts the wait. Returns 0 when ready, -PC_ETIMEDOUT, or -PC_ECLOSED on stop.
 */
static int
wait_fd(int fd, short events, uint64_t deadline_ms)
{
	struct pollfd	pfd[2];
	uint64_t	now;
	int		r;

	for (;;) {
		now = pc_now_ms();
		if (now >= deadline_ms)
			return -PC_ETIMEDOUT;
		pfd[0] = (struct pollfd){ .fd = fd, .events = events };
		pfd[1] = (struct pollfd){ .fd = adm.stopfd, .events = POLLIN };
		r = poll(pfd, 2, (int)(deadline_ms - now));
		if (r == -1 && errno != EINTR)
			return pc_err_errno(errno);
		if (r > 0 && pfd[1].revents != 0)
			return -PC_ECLOSED;
		if (r > 0 && pfd[0].revents != 0)
			return 0;
	}
}

static int
send_all(int fd, const uint8_t *p, size_t n, uint64_t deadline_ms)
{
	ssize_t	r;
	int	rc;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return pc_err_errno(errno);
			rc = wait_fd(fd, POLLOUT, deadline_ms);
			if (rc != 0)
				return rc;
			continue;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
send_resp(int fd, struct resp *r, bool head_only)
{
	uint8_t		hstore[1024];
	struct pc_buf	h = { hstore, 0, sizeof(hstore), sizeof(hstore) };	/* fixed */
	uint64_t	deadline = pc_now_ms() + WRITE_TIMEOUT_MS;

	if (pc_buf_printf(&h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s"
	    "Connection: close\r\n\r\n", r->status, pc_status_text(r->status), r->ctype,
	    r->body.len, r->extra) != 0)
		return;
	if (send_all(fd, h.data, h.len, deadline) != 0)
		return;
	if (!head_only && r->body.len > 0)
		(void)send_all(fd, r->body.data, r->body.len, deadline);	/* peer gone: nothing to do */
}

static void
json_error(struct resp *r, int status, const char *reason)
{
	r->status = status;
	r->ctype = "application/json";
	r->body.len = 0;
	if (pc_buf_printf(&r->body, "{\"error\":\"%s\",\"reason\":\"%s\"}\n",
	    pc_status_text(status), reason) != 0)
		r->body.len = 0;
}

/* Loopback peers only: 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, or a unix socket. */
static bool
peer_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;

	switch (ss->ss_family) {
	case AF_UNIX:
		return true;
	case AF_INET:
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127;
	default:
		return false;
	}
}

/*
 * Compares in time that depends only on the length of <got> (which the client already
 * knows), never on how many leading bytes are right (a timing oracle on the token).
 */
static bool
token_equal(struct pc_str got, const char *want)
{
	size_t		 wlen = strlen(want), i;
	size_t		 diff = got.len ^ wlen;
	unsigned char	 acc = 0;

	if (wlen == 0)
		return false;
	for (i = 0; i < got.len; i++)
		acc |= (unsigned char)((unsigned char)got.ptr[i] ^ (unsigned char)want[i % wlen]);
	return (diff | acc) == 0;
}

/* "Authorization: Bearer <token>" (RFC 6750 2.1; the scheme is case-insensitive). */
static bool
bearer_ok(const struct pc_msg *msg, const char *token)
{
	const struct pc_hdr	*h = pc_msg_header(msg, PC_STR("Authorization"));
	struct pc_str		 v, scheme;

	if (h == NULL)
		return false;
	v = pc_str_split(h->value, ' ', &scheme);
	if (!pc_str_caseeq(scheme, PC_STR("Bearer")))
		return false;
	return token_equal(pc_str_trim_ows(v), token);
}

static void
peer_text(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char	ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		(void)inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		(void)snprintf(out, n, "%s:%u", ip, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		(void)inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		(void)snprintf(out, n, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		(void)snprintf(out, n, "local");
	}
}

/* Decides the response to one parsed request from <peer>. */
static void
handle(const struct pc_msg *msg, const struct sockaddr_storage *peer, struct resp *r)
{
	struct pc_conf	*conf = pc_conf_acquire();
	struct pc_str	 path;
	char		 who[80];
	bool		 get = msg->meth == PC_M_GET || msg->meth == PC_M_HEAD;
	bool		 has_token, open_path;
	int		 rc;

	(void)pc_str_split(msg->target, '?', &path);
	peer_text(peer, who, sizeof(who));
	if (conf == NULL) {
		/* No configuration published yet: nothing says who may look. */
		json_error(r, 503, "admin_no_config");
		return;
	}
	has_token = conf->admin_token != NULL && conf->admin_token[0] != '\0';
	/*
	 * Everything but /healthz needs the bearer token, and no token configured means no
	 * access at all (the admin surface requires authentication; docs/decisions/0005).
	 * /healthz says only "ok", for liveness probes that cannot carry a token; without a
	 * token it is still refused to peers off loopback. /jwks.json holds public keys that
	 * every backend verifying minted tokens must fetch, and is no secret: the same rule
	 * (docs/decisions/0014).
	 */
	open_path = pc_str_eq(path, PC_STR("/healthz")) || pc_str_eq(path, PC_STR("/jwks.json"));
	if (open_path) {
		if (!has_token && !peer_is_loopback(peer)) {
			pc_log_error("admin: refused %s: no admin token configured and the peer "
			    "is not loopback", who);
			json_error(r, 403, "admin_not_loopback");
			goto out;
		}
	} else if (!has_token) {
		pc_log_error("admin: refused %s for %.*s: admin.token is not configured", who,
		    (int)(path.len < LOG_PATH_MAX ? path.len : LOG_PATH_MAX), path.ptr);
		json_error(r, 403, "admin_token_not_configured");
		goto out;
	} else if (!bearer_ok(msg, conf->admin_token)) {
		pc_log_error("admin: unauthorized request from %s for %.*s", who,
		    (int)(path.len < LOG_PATH_MAX ? path.len : LOG_PATH_MAX), path.ptr);
		json_error(r, 401, "admin_unauthorized");
		r->extra = "WWW-Authenticate: Bearer realm=\"portcullis-admin\"\r\n";
		goto out;
	}
	if ((!pc_str_eq(path, PC_STR("/metrics")) && !open_path) ||
	    (pc_str_eq(path, PC_STR("/jwks.json")) && conf->minter == NULL)) {
		json_error(r, 404, "admin_not_found");
		goto out;
	}
	if (!get) {
		json_error(r, 405, "admin_method_not_allowed");
		r->extra = "Allow: GET, HEAD\r\n";
		goto out;
	}
	r->status = 200;
	if (pc_str_eq(path, PC_STR("/healthz"))) {
		r->ctype = "application/json";
		rc = pc_buf_add_str(&r->body, PC_STR("{\"status\":\"ok\"}\n"));
	} else if (pc_str_eq(path, PC_STR("/jwks.json"))) {
		/* Public members only, made by auth/mint.c (RFC 7517 8.5.1 media type). */
		r->ctype = "application/jwk-set+json";
		rc = pc_buf_add_str(&r->body, pc_minter_jwks(conf->minter));
	} else {
		r->ctype = "text/plain; version=0.0.4; charset=utf-8";
		rc = pc_metrics_render(&r->body);
	}
	if (rc != 0) {
		pc_log_error("admin: cannot render %.*s: %s", PC_STR_FMT(path), pc_strerror(rc));
		json_error(r, 500, "internal_error");
	}
out:
	pc_conf_unref(conf);
}

/* Reads one request head from <fd> within READ_TIMEOUT_MS and answers it. */
static void
serve(int fd, const struct sockaddr_storage *peer)
{
	static const struct pc_h1_limits lim = { REQ_MAX_BYTES, REQ_MAX_BYTES, 64 };
	static struct pc_msg	 msg;	/* one admin thread; 3 KiB off its stack */
	char			 buf[REQ_MAX_BYTES];
	size_t			 len = 0;
	uint64_t		 deadline = pc_now_ms() + READ_TIMEOUT_MS;
	enum pc_reason		 reason = PC_R_NONE;
	struct resp		 r = { 0, "", "", { NULL, 0, 0, 0 } };
	ssize_t			 n;
	int			 rc = -PC_EAGAIN;

	pc_buf_init(&r.body, METRICS_MAX);
	while (rc == -PC_EAGAIN) {
		if (len == sizeof(buf)) {
			rc = -PC_ETOOBIG;
			reason = PC_R_LIMIT_HEADERS;
			break;
		}
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n == 0)
			goto out;	/* closed before a whole request: no one to answer */
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
			    wait_fd(fd, POLLIN, deadline) != 0)
				goto out;	/* slow or gone: the 2 s budget is the answer */
			continue;
		}
		len += (size_t)n;
		rc = pc_h1_parse_request(buf, len, &lim, &msg, &reason);
	}
	if (rc > 0) {
		handle(&msg, peer, &r);
	} else {
		json_error(&r, reason == PC_R_NONE ? 400 : pc_reason_status(reason),
		    reason == PC_R_NONE ? "http_bad_request_line" : pc_reason_name(reason));
	}
	send_resp(fd, &r, rc > 0 && msg.meth == PC_M_HEAD);
	/* Half-close, then drain briefly: closing with unread input would send a RST that can
	 * destroy the response before the client reads it (RFC 9112 9.6). */
	(void)shutdown(fd, SHUT_WR);
	deadline = pc_now_ms() + LINGER_MS;
	while (wait_fd(fd, POLLIN, deadline) == 0 && recv(fd, buf, sizeof(buf), 0) > 0)
		;
out:
	pc_buf_fini(&r.body);
}

static void *
admin_main(void *arg)
{
	struct pollfd		pfd[2];
	struct sockaddr_storage	peer;
	socklen_t		plen;
	int			fd;

	(void)arg;
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = adm.lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = adm.stopfd, .events = POLLIN };
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			pc_log_error("admin: poll: %s", pc_strerror(pc_err_errno(errno)));
			break;
		}
		if (pfd[1].revents != 0)
			break;
		plen = sizeof(peer);
		memset(&peer, 0, sizeof(peer));
		fd = accept4(adm.lfd, (struct sockaddr *)&peer, &plen,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of descriptors: back off instead of spinning on the
				 * pending connection. */
				(void)poll(&pfd[1], 1, 100);
			}
			continue;
		}
		serve(fd, &peer);
		(void)close(fd);
		if (stop_requested())
			break;
	}
	pc_observe_flush();
	return NULL;
}

int
pc_admin_bind(const struct pc_addr *addr)
{
	int	one = 1, fd = -1, efd = -1, rc, errnum = 0;

	if (adm.running || adm.lfd != -1)
		return -PC_EINVAL;
	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		errnum = errno;
		goto fail;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (addr->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)) {
		errnum = errno;
		goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) == -1 ||
	    listen(fd, 16) == -1) {
		errnum = errno;
		goto fail;
	}
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd == -1) {
		errnum = errno;
		goto fail;
	}
	adm.lfd = fd;
	adm.stopfd = efd;
	(void)snprintf(adm.addr_text, sizeof(adm.addr_text), "%s", addr->text);
	return 0;
fail:
	/* The errno text: "Address already in use" tells an operator more than a PC_E code. */
	rc = pc_err_errno(errnum);
	pc_log_error("admin: cannot listen on %s: %s", addr->text,
	    strerrordesc_np(errnum) != NULL ? strerrordesc_np(errnum) : pc_strerror(rc));
	if (fd != -1)
		(void)close(fd);
	if (efd != -1)
		(void)close(efd);
	return rc;
}

int
pc_admin_run(void)
{
	sigset_t	all, old;
	int		rc;

	if (adm.running || adm.lfd == -1)
		return -PC_EINVAL;
	/* Signals belong to the main thread (sigwaitinfo there): the admin thread takes none. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&adm.thread, NULL, admin_main, NULL);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pc_log_error("admin: cannot start its thread: %s", strerror(rc));
		return pc_err_errno(rc);
	}
	adm.running = true;
	pc_log_info("admin listening on %s", adm.addr_text);
	return 0;
}

int
pc_admin_start(const struct pc_addr *addr)
{
	int rc = pc_admin_bind(addr);

	if (rc == 0 && (rc = pc_admin_run()) != 0)
		pc_admin_stop();
	return rc;
}

void
pc_admin_stop(void)
{
	uint64_t one = 1;

	if (adm.lfd == -1)
		return;	/* never bound */
	if (adm.running) {
		if (write(adm.stopfd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			PC_ASSERT(!"admin: cannot signal the admin thread");	/* eventfd */
		(void)pthread_join(adm.thread, NULL);
	}
	(void)close(adm.lfd);
	(void)close(adm.stopfd);
	adm.lfd = adm.stopfd = -1;
	adm.running = false;
	pc_log_info("admin listener on %s stopped", adm.addr_text);
}
