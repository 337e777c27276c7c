/*
 * proxy/h1_out.c - fresh HTTP/1.1 serializations: the request head sent upstream, the
 * response head sent to the client, and the gateway's own error responses.
 * Owns: which headers cross the gateway and which it adds. Never forwards raw client bytes:
 * every head is rebuilt from the parsed message, so a parser differential cannot smuggle.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proxy/proxy_int.h"
#include "core/banned.h"

/* Fields the gateway always rewrites itself, on top of the hop-by-hop ones. */
static bool
request_field_dropped(struct pc_str n, bool trusted)
{
	static const struct pc_str always[] = {
		PC_STR_INIT("Host"), PC_STR_INIT("Content-Length"),
		PC_STR_INIT("Expect"), PC_STR_INIT("X-Request-Id"), PC_STR_INIT("traceparent"),
		PC_STR_INIT("tracestate"), PC_STR_INIT("X-Forwarded-For"),
		PC_STR_INIT("X-Forwarded-Proto"),
	};
	/* Client-asserted forwarding facts are only believed from trusted proxies. */
	static const struct pc_str untrusted[] = {
		PC_STR_INIT("X-Forwarded-Host"), PC_STR_INIT("Forwarded"), PC_STR_INIT("X-Real-IP"),
	};
	size_t i;

	for (i = 0; i < PC_NELEM(always); i++)
		if (pc_str_caseeq(n, always[i]))
			return true;
	if (!trusted)
		for (i = 0; i < PC_NELEM(untrusted); i++)
			if (pc_str_caseeq(n, untrusted[i]))
				return true;
	return false;
}

static bool
hexdigits(struct pc_str s, size_t off, size_t n)
{
	size_t i;

	for (i = off; i < off + n; i++) {
		char c = s.ptr[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static bool
all_zero(struct pc_str s, size_t off, size_t n)
{
	size_t i;

	for (i = off; i < off + n; i++)
		if (s.ptr[i] != '0')
			return false;
	return true;
}

/* W3C Trace Context: "vv-<32 hex trace id>-<16 hex parent id>-<2 hex flags>", lowercase,
 * version ff and all-zero ids invalid. */
static bool
traceparent_valid(struct pc_str t)
{
	if (t.len != 55 || t.ptr[2] != '-' || t.ptr[35] != '-' || t.ptr[52] != '-')
		return false;
	if (!hexdigits(t, 0, 2) || !hexdigits(t, 3, 32) || !hexdigits(t, 36, 16) ||
	    !hexdigits(t, 53, 2))
		return false;
	if (t.ptr[0] == 'f' && t.ptr[1] == 'f')
		return false;
	return !all_zero(t, 3, 32) && !all_zero(t, 36, 16);
}

static bool
peer_trusted(const struct pc_conf *conf, const struct conn *c)
{
	struct sockaddr_storage	ss;
	unsigned		i;

	if (conf->ntrusted_proxies == 0)
		return false;
	memset(&ss, 0, sizeof(ss));
	if (c->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, c->addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, c->addr, 16);
	}
	for (i = 0; i < conf->ntrusted_proxies; i++)
		if (pc_cidr_contains(&conf->trusted_proxies[i], (struct sockaddr *)&ss))
			return true;
	return false;
}

int
pc_out_request_head(struct exchange *ex, const struct pc_msg *msg, const struct conn *c)
{
	const struct pc_req	*req = &ex->req;
	struct pc_buf		*b = &ex->fwd_head;
	bool			 trusted = peer_trusted(req->conf, c);
	const struct pc_hdr	*h;
	struct pc_str		 xfp = PC_STR_NULL, tp = PC_STR_NULL;
	struct pc_str		 ts = PC_STR_NULL;
	unsigned		 i, nxff = 0;
	int			 rc = 0;

	rc |= pc_buf_add_str(b, ex->method);
	rc |= pc_buf_addc(b, ' ');
	rc |= pc_buf_add(b, req->view.path, req->view.path_len);
	if (req->view.has_query) {
		rc |= pc_buf_addc(b, '?');
		rc |= pc_buf_add_str(b, req->view.query);
	}
	rc |= pc_buf_add_str(b, PC_STR(" HTTP/1.1\r\nHost: "));
	if (msg->host.len)
		rc |= pc_buf_add_str(b, msg->host);
	else
		rc |= pc_buf_add(b, ex->tgt->addr.text, strlen(ex->tgt->addr.text));
	rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	for (i = 0; i < msg->nhdrs; i++) {
		h = &msg->hdrs[i];
		if (pc_str_caseeq(h->name, PC_STR("X-Forwarded-For")) && trusted) {
			nxff++;	/* kept, in order, below */
			continue;
		}
		if (pc_str_caseeq(h->name, PC_STR("X-Forwarded-Proto")) && trusted) {
			xfp = h->value;
			continue;
		}
		if (pc_str_caseeq(h->name, PC_STR("traceparent"))) {
			tp = h->value;
			continue;
		}
		if (pc_str_caseeq(h->name, PC_STR("tracestate"))) {
			ts = h->value;
			continue;
		}
		if (pc_h1_is_hop_header(msg, h->name) || request_field_dropped(h->name, trusted))
			continue;
		rc |= pc_buf_add_str(b, h->name);
		rc |= pc_buf_add_str(b, PC_STR(": "));
		rc |= pc_buf_add_str(b, h->value);
		rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	}
	/* Several X-Forwarded-For fields are one list (RFC 9110 5.3): keep them all, in
	 * order, then append the peer, as every proxy in the chain does. */
	rc |= pc_buf_add_str(b, PC_STR("X-Forwarded-For: "));
	for (i = 0; nxff > 0 && i < msg->nhdrs; i++) {
		h = &msg->hdrs[i];
		if (!pc_str_caseeq(h->name, PC_STR("X-Forwarded-For")) || h->value.len == 0)
			continue;
		rc |= pc_buf_add_str(b, h->value);
		rc |= pc_buf_add_str(b, PC_STR(", "));
	}
	rc |= pc_buf_add(b, c->ip, strlen(c->ip));
	rc |= pc_buf_add_str(b, PC_STR("\r\nX-Forwarded-Proto: "));
	rc |= pc_buf_add_str(b, xfp.len ? xfp : PC_STR("http"));
	rc |= pc_buf_add_str(b, PC_STR("\r\nX-Request-Id: "));
	rc |= pc_buf_add(b, req->id, req->id_len);
	rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	if (tp.len && traceparent_valid(tp)) {
		rc |= pc_buf_add_str(b, PC_STR("traceparent: "));
		rc |= pc_buf_add_str(b, tp);
		rc |= pc_buf_add_str(b, PC_STR("\r\n"));
		if (ts.len) {
			rc |= pc_buf_add_str(b, PC_STR("tracestate: "));
			rc |= pc_buf_add_str(b, ts);
			rc |= pc_buf_add_str(b, PC_STR("\r\n"));
		}
	}
	if (ex->req_body == BODY_LENGTH)
		rc |= pc_buf_printf(b, "Content-Length: %llu\r\n",
		    (unsigned long long)msg->content_length);
	else if (ex->req_body == BODY_CHUNKED)
		rc |= pc_buf_add_str(b, PC_STR("Transfer-Encoding: chunked\r\n"));
	rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	/* The pc_buf calls return 0 or a negative code; OR-ing keeps "any failure" sticky. */
	return rc == 0 ? 0 : -PC_ENOMEM;
}

/*
 * The IMF-fixdate for now (RFC 9110 5.6.7), formatted once per second per thread: every
 * response gets a Date (a proxy adds one if the origin did not, RFC 9110 6.6.1).
 */
static struct pc_str
http_date(void)
{
	static const char	 days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char	 mons[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	static __thread char	 buf[32];
	static __thread time_t	 cached = -1;
	static __thread size_t	 len;
	time_t			 now = time(NULL);
	struct tm		 tm;
	int			 n;

	if (now != cached && gmtime_r(&now, &tm) != NULL) {
		n = snprintf(buf, sizeof(buf), "%s, %02u %s %04u %02u:%02u:%02u GMT",
		    days[(unsigned)tm.tm_wday % 7u], (unsigned)tm.tm_mday % 100u,
		    mons[(unsigned)tm.tm_mon % 12u], (unsigned)(tm.tm_year + 1900) % 10000u,
		    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		    (unsigned)tm.tm_sec % 100u);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			len = (size_t)n;
			cached = now;
		}
	}
	return pc_str_make(buf, len);
}

static bool
response_field_dropped(const struct exchange *ex, struct pc_str n)
{
	if (pc_str_caseeq(n, PC_STR("Content-Length")) ||
	    pc_str_caseeq(n, PC_STR("X-Request-Id")))
		return true;
	if (ex->req.conf->drop_server_header &&
	    (pc_str_caseeq(n, PC_STR("Server")) || pc_str_caseeq(n, PC_STR("X-Powered-By"))))
		return true;
	return false;
}

int
pc_out_response_head(struct exchange *ex, struct pc_buf *out)
{
	const struct pc_msg	*m = ex->resp;
	const struct pc_hdr	*h;
	unsigned		 i;
	int			 rc = 0;

	rc |= pc_buf_printf(out, "HTTP/1.1 %d ", m->status);
	rc |= pc_buf_add_str(out, m->reason_phrase);
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	if (pc_msg_header(m, PC_STR("Date")) == NULL) {
		rc |= pc_buf_add_str(out, PC_STR("Date: "));
		rc |= pc_buf_add_str(out, http_date());
		rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	}
	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		if (pc_h1_is_hop_header(m, h->name) || response_field_dropped(ex, h->name))
			continue;
		rc |= pc_buf_add_str(out, h->name);
		rc |= pc_buf_add_str(out, PC_STR(": "));
		rc |= pc_buf_add_str(out, h->value);
		rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	}
	rc |= pc_buf_add_str(out, PC_STR("X-Request-Id: "));
	rc |= pc_buf_add(out, ex->req.id, ex->req.id_len);
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	if (ex->resp_body == BODY_LENGTH)
		rc |= pc_buf_printf(out, "Content-Length: %llu\r\n",
		    (unsigned long long)ex->resp_left);
	else if (ex->chunk_to_client)
		rc |= pc_buf_add_str(out, PC_STR("Transfer-Encoding: chunked\r\n"));
	else if (ex->resp_body == BODY_NONE && (m->flags & PC_MSG_HAS_CL))
		rc |= pc_buf_printf(out, "Content-Length: %llu\r\n",
		    (unsigned long long)m->content_length);	/* HEAD / 304 keep it */
	if (!ex->client_keepalive)
		rc |= pc_buf_add_str(out, PC_STR("Connection: close\r\n"));
	else if (ex->client_v10)
		rc |= pc_buf_add_str(out, PC_STR("Connection: keep-alive\r\n"));
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	return rc == 0 ? 0 : -PC_ENOMEM;
}

int
pc_out_error(struct pc_buf *out, const struct pc_req *req, int status, enum pc_reason reason,
    bool close)
{
	char	body[512];
	int	n, rc = 0;

	/* Reason names and request ids are [a-z0-9_.-] only: no escaping is needed. */
	n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"reason\":\"%s\",\"request_id\":\"%s\"}\n",
	    pc_status_text(status), pc_reason_name(reason), req->id);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -PC_ERANGE;
	rc |= pc_buf_printf(out, "HTTP/1.1 %d %s\r\nDate: %.*s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\nX-Request-Id: %s\r\n"
	    "Cache-Control: no-store\r\n%s\r\n", status, pc_status_text(status),
	    PC_STR_FMT(http_date()), n, req->id, close ? "Connection: close\r\n" : "");
	rc |= pc_buf_add(out, body, (size_t)n);
	return rc == 0 ? 0 : -PC_ENOMEM;
}

int
pc_out_chunk(struct pc_buf *out, const char *data, size_t len)
{
	int rc = 0;

	if (len == 0)
		return 0;
	rc |= pc_buf_printf(out, "%zx\r\n", len);
	rc |= pc_buf_add(out, data, len);
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	return rc == 0 ? 0 : -PC_ENOMEM;
}
