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
#include "tls/tls.h"
#include "core/banned.h"

/*
 * The fields the gateway treats specially, found with one switch on the length and one
 * comparison, instead of comparing every field against every name (this runs for each
 * field of each request and response).
 */
enum hdr_kind {
	H_OTHER, H_HOP, H_HOST, H_CONTENT_LENGTH, H_EXPECT, H_REQUEST_ID, H_TRACEPARENT,
	H_TRACESTATE, H_XFF, H_XFP, H_SPOOFABLE, H_SERVER, H_POWERED_BY, H_DATE, H_HSTS,
	H_NOSNIFF, H_AUTHZ, H_IDENTITY,
};

/* The fields that carry the verified principal upstream: only the gateway writes them. */
#define IDENTITY_PREFIX	"X-Portcullis-"

static enum hdr_kind
hdr_kind(struct pc_str n)
{
#define IS(lit) pc_str_caseeq(n, PC_STR(lit))
	switch (n.len) {
	case 2:
		return IS("TE") ? H_HOP : H_OTHER;
	case 4:
		return IS("Host") ? H_HOST : IS("Date") ? H_DATE : H_OTHER;
	case 6:
		return IS("Expect") ? H_EXPECT : IS("Server") ? H_SERVER : H_OTHER;
	case 7:
		return IS("Trailer") || IS("Upgrade") ? H_HOP : H_OTHER;
	case 9:
		return IS("Forwarded") || IS("X-Real-IP") ? H_SPOOFABLE : H_OTHER;
	case 10:
		return IS("Connection") || IS("Keep-Alive") ? H_HOP :
		    IS("tracestate") ? H_TRACESTATE : H_OTHER;
	case 11:
		return IS("traceparent") ? H_TRACEPARENT : H_OTHER;
	case 12:
		return IS("X-Request-Id") ? H_REQUEST_ID :
		    IS("X-Powered-By") ? H_POWERED_BY : H_OTHER;
	case 13:
		return IS("Authorization") ? H_AUTHZ : H_OTHER;
	case 14:
		return IS("Content-Length") ? H_CONTENT_LENGTH : H_OTHER;
	case 15:
		return IS("X-Forwarded-For") ? H_XFF : H_OTHER;
	case 16:
		return IS("Proxy-Connection") ? H_HOP :
		    IS("X-Forwarded-Host") ? H_SPOOFABLE : H_OTHER;
	case 17:
		return IS("Transfer-Encoding") ? H_HOP : IS("X-Forwarded-Proto") ? H_XFP : H_OTHER;
	case 22:
		return IS("X-Content-Type-Options") ? H_NOSNIFF : H_OTHER;
	case 25:
		return IS("Strict-Transport-Security") ? H_HSTS : H_OTHER;
	default:
		if (n.len > sizeof(IDENTITY_PREFIX) - 1 && pc_str_caseeq(pc_str_make(n.ptr,
		    sizeof(IDENTITY_PREFIX) - 1), PC_STR(IDENTITY_PREFIX)))
			return H_IDENTITY;
		return H_OTHER;
	}
#undef IS
}

/* True if <msg>'s Connection field names fields beyond the usual close/keep-alive/upgrade:
 * only then must every other field be checked against it (RFC 9110 7.6.1). */
static bool
connection_lists_fields(const struct pc_msg *msg)
{
	const struct pc_hdr	*h = pc_msg_header(msg, PC_STR("Connection"));
	struct pc_str		 rest, tok;

	if (h == NULL)
		return false;
	rest = h->value;
	while (rest.len > 0) {
		rest = pc_str_split(rest, ',', &tok);
		tok = pc_str_trim_ows(tok);
		if (tok.len > 0 && !pc_str_caseeq(tok, PC_STR("close")) &&
		    !pc_str_caseeq(tok, PC_STR("keep-alive")) &&
		    !pc_str_caseeq(tok, PC_STR("upgrade")))
			return true;
	}
	return false;
}

static int
add_field(struct pc_buf *b, struct pc_str name, struct pc_str value)
{
	int rc = pc_buf_reserve(b, name.len + value.len + 4);

	if (rc != 0)
		return rc;
	/* Reserved above: the appends below cannot fail. */
	memcpy(b->data + b->len, name.ptr, name.len);
	b->len += name.len;
	b->data[b->len++] = ':';
	b->data[b->len++] = ' ';
	if (value.len)
		memcpy(b->data + b->len, value.ptr, value.len);
	b->len += value.len;
	b->data[b->len++] = '\r';
	b->data[b->len++] = '\n';
	return 0;
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

/* True if <name> is one of the configured names no client may send (the verified
 * identity headers): they are stripped before the gateway adds its own. */
static bool
stripped(const struct pc_conf *conf, struct pc_str name)
{
	unsigned i;

	for (i = 0; i < conf->nstrip_headers; i++)
		if (pc_str_caseeq(name, pc_str_c(conf->strip_headers[i])))
			return true;
	return false;
}

/* True if <name> carries an API key on route <r> (one of its stores' header:). */
static bool
key_header(const struct pc_conf_route *r, struct pc_str name)
{
	unsigned i;

	for (i = 0; i < r->napikeys; i++)
		if (pc_str_caseeq(name, pc_str_c(r->apikeys[i]->header)))
			return true;
	return false;
}

/*
 * The query for the upstream. On a route with api_keys stores, the parameters that carry
 * a key (a store's query_param, or any value that looks like a key) never leave: a key in
 * a URL ends up in the upstream's logs. What remains keeps its order and bytes.
 */
static int
add_query(struct pc_buf *b, const struct pc_conf_route *r, struct pc_str query)
{
	struct pc_str	rest = query, param, name, v;
	unsigned	i;
	bool		first = true;
	int		rc = 0;

	if (r->napikeys == 0) {
		rc |= pc_buf_addc(b, '?');
		return rc | pc_buf_add_str(b, query);
	}
	while (rest.len > 0) {
		rest = pc_str_split(rest, '&', &param);
		v = pc_str_split(param, '=', &name);
		for (i = 0; i < r->napikeys; i++)
			if (r->apikeys[i]->query_param != NULL &&
			    pc_str_eq(name, pc_str_c(r->apikeys[i]->query_param)))
				break;
		if (i < r->napikeys || pc_apikey_looks_like(v))
			continue;
		rc |= pc_buf_addc(b, first ? '?' : '&');
		rc |= pc_buf_add_str(b, param);
		first = false;
	}
	return rc;
}

/* The verified client certificate, forwarded when the route asks for it. Formatted once
 * per connection: keep-alive requests reuse it. */
static int
add_identity(struct pc_buf *b, const struct pc_conf_route *r, struct conn *c)
{
	struct pc_buf v;

	if (r->client_cert_header == NULL || c->peer == NULL)
		return 0;
	if (c->peer_hdr == NULL) {
		pc_buf_init(&v, 8192);
		if (pc_tls_peer_header(c->peer, &v) != 0 || pc_buf_addc(&v, '\0') != 0) {
			pc_buf_fini(&v);
			return -PC_EINVAL;
		}
		c->peer_hdr = (char *)v.data;	/* NUL-terminated above; owned by c now */
	}
	return add_field(b, pc_str_c(r->client_cert_header), pc_str_c(c->peer_hdr));
}

/*
 * One identity value: claims are the issuer's text, signed but not necessarily header-safe
 * (JSON strings may hold control bytes or UTF-8), so anything outside visible ASCII and
 * space, and '%' itself, is percent-encoded: nothing can start a new field.
 */
static int
add_safe(struct pc_buf *b, const char *name, struct pc_str v)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			i;
	int			rc = 0;

	rc |= pc_buf_add_str(b, pc_str_c(name));
	rc |= pc_buf_add_str(b, PC_STR(": "));
	for (i = 0; i < v.len && rc == 0; i++) {
		unsigned char ch = (unsigned char)v.ptr[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '%') {
			rc |= pc_buf_addc(b, (char)ch);
			continue;
		}
		rc |= pc_buf_addc(b, '%');
		rc |= pc_buf_addc(b, hex[ch >> 4]);
		rc |= pc_buf_addc(b, hex[ch & 15]);
	}
	rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	return rc;
}

/* The verified principal for the upstream (identity_headers: true). */
static int
add_principal(struct pc_buf *b, const struct pc_principal *p)
{
	unsigned	i;
	int		rc = 0;

	rc |= add_safe(b, IDENTITY_PREFIX "Auth", pc_str_c(pc_principal_type_name(p->type)));
	rc |= add_safe(b, IDENTITY_PREFIX "Subject", p->id);
	rc |= add_safe(b, IDENTITY_PREFIX "Issuer", p->issuer);
	if (p->nscopes > 0) {
		rc |= pc_buf_add_str(b, PC_STR(IDENTITY_PREFIX "Scopes:"));
		for (i = 0; i < p->nscopes; i++) {
			/* Scope tokens are %x21 / %x23-5B / %x5D-7E (RFC 6749 3.3): checked
			 * anyway, a bad one is dropped rather than encoded. */
			size_t j;

			for (j = 0; j < p->scopes[i].len; j++) {
				unsigned char ch = (unsigned char)p->scopes[i].ptr[j];

				if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
					break;
			}
			if (j < p->scopes[i].len || p->scopes[i].len == 0)
				continue;
			rc |= pc_buf_addc(b, ' ');
			rc |= pc_buf_add_str(b, p->scopes[i]);
		}
		rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	}
	return rc;
}

/*
 * upstream_token: true: the gateway's own short-lived token for the verified principal,
 * to the upstream's audience (auth/mint.c, docs/decisions/0014); the client's credential
 * was left out above. Without a principal (report-only let a failed authentication
 * through) none is sent: the upstream sees an anonymous request, never a made-up identity.
 */
static int
add_upstream_token(struct pc_buf *b, const struct pc_req *req)
{
	const struct pc_conf	*conf = req->conf;
	struct pc_str		 aud;
	int			 rc = 0;

	if (req->principal == NULL || conf->minter == NULL)
		return 0;
	aud = pc_str_c(conf->upstreams[req->route->upstream].audience);
	rc |= pc_buf_add_str(b, PC_STR("Authorization: Bearer "));
	rc |= pc_mint_token(conf->minter, req->principal, aud, (int64_t)time(NULL), b);
	rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	return rc;
}

int
pc_out_request_head(struct exchange *ex, const struct pc_msg *msg, struct conn *c)
{
	const struct pc_req	*req = &ex->req;
	struct pc_buf		*b = &ex->upout;
	bool			 trusted = peer_trusted(req->conf, c);
	bool			 listed = connection_lists_fields(msg);
	const struct pc_hdr	*h;
	struct pc_str		 xfp = PC_STR_NULL, tp = PC_STR_NULL, ts = PC_STR_NULL;
	unsigned		 i, nxff = 0;
	int			 rc = 0;

	rc |= pc_buf_add_str(b, ex->method);
	rc |= pc_buf_addc(b, ' ');
	rc |= pc_buf_add(b, req->view.path, req->view.path_len);
	if (req->view.has_query)
		rc |= add_query(b, req->route, req->view.query);
	rc |= pc_buf_add_str(b, PC_STR(" HTTP/1.1\r\n"));
	rc |= add_field(b, PC_STR("Host"), msg->host.len ? msg->host :
	    pc_str_c(ex->tgt->addr.text));
	for (i = 0; i < msg->nhdrs; i++) {
		h = &msg->hdrs[i];
		/* forward_credential: false keeps API keys from the upstream too. */
		if (req->route->strip_credential && req->route->napikeys > 0 &&
		    key_header(req->route, h->name))
			continue;
		switch (hdr_kind(h->name)) {
		case H_OTHER:
			if (req->conf->nstrip_headers > 0 && stripped(req->conf, h->name))
				continue;
			if (listed && pc_h1_is_hop_header(msg, h->name))
				continue;
			rc |= add_field(b, h->name, h->value);
			continue;
		case H_SERVER:
		case H_POWERED_BY:
		case H_DATE:
		case H_HSTS:
		case H_NOSNIFF:
			if (listed && pc_h1_is_hop_header(msg, h->name))
				continue;
			rc |= add_field(b, h->name, h->value);
			continue;
		case H_XFF:
			nxff += trusted;	/* kept, in order, below */
			continue;
		case H_XFP:
			if (trusted)
				xfp = h->value;
			continue;
		case H_TRACEPARENT:
			tp = h->value;
			continue;
		case H_TRACESTATE:
			ts = h->value;
			continue;
		case H_SPOOFABLE:
			/* Client-asserted forwarding facts are only believed from trusted
			 * proxies. */
			if (trusted && !(listed && pc_h1_is_hop_header(msg, h->name)))
				rc |= add_field(b, h->name, h->value);
			continue;
		case H_AUTHZ:
			/* The client's credential, unless the route keeps it from the upstream. */
			if (req->route->strip_credential ||
			    (listed && pc_h1_is_hop_header(msg, h->name)))
				continue;
			rc |= add_field(b, h->name, h->value);
			continue;
		case H_HOP:
		case H_HOST:
		case H_CONTENT_LENGTH:
		case H_EXPECT:
		case H_REQUEST_ID:
		case H_IDENTITY:
			continue;	/* hop-by-hop, or written by the gateway only */
		}
	}
	/* Several X-Forwarded-For fields are one list (RFC 9110 5.3): keep them all, in
	 * order, then append the peer, as every proxy in the chain does. */
	rc |= pc_buf_add_str(b, PC_STR("X-Forwarded-For: "));
	for (i = 0; nxff > 0 && i < msg->nhdrs; i++) {
		h = &msg->hdrs[i];
		if (h->value.len == 0 || hdr_kind(h->name) != H_XFF)
			continue;
		rc |= pc_buf_add_str(b, h->value);
		rc |= pc_buf_add_str(b, PC_STR(", "));
	}
	rc |= pc_buf_add(b, c->ip, strlen(c->ip));
	rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	rc |= add_field(b, PC_STR("X-Forwarded-Proto"), xfp.len ? xfp :
	    c->ssl != NULL ? PC_STR("https") : PC_STR("http"));
	rc |= add_identity(b, req->route, c);
	if (req->route->identity_headers && req->principal != NULL)
		rc |= add_principal(b, req->principal);
	if (req->route->upstream_token)
		rc |= add_upstream_token(b, req);
	rc |= add_field(b, PC_STR("X-Request-Id"), pc_str_make(req->id, req->id_len));
	if (tp.len && traceparent_valid(tp)) {
		rc |= add_field(b, PC_STR("traceparent"), tp);
		if (ts.len)
			rc |= add_field(b, PC_STR("tracestate"), ts);
	}
	if (ex->req_body == BODY_LENGTH || (msg->flags & PC_MSG_HAS_CL)) {
		/* "Content-Length: 0" is kept: a POST without a length may get 411. */
		rc |= pc_buf_add_str(b, PC_STR("Content-Length: "));
		rc |= pc_buf_add_u64(b, msg->content_length);
		rc |= pc_buf_add_str(b, PC_STR("\r\n"));
	} else if (ex->req_body == BODY_CHUNKED) {
		rc |= pc_buf_add_str(b, PC_STR("Transfer-Encoding: chunked\r\n"));
	}
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
configured(const struct pc_conf *conf, struct pc_str name)
{
	unsigned i;

	for (i = 0; i < conf->nresponse_headers; i++)
		if (pc_str_caseeq(name, pc_str_c(conf->response_headers[i].name)))
			return true;
	return false;
}

/*
 * The gateway's security headers, on every response it sends: HSTS on TLS listeners (its
 * value replaces the upstream's: the gateway owns the TLS), nosniff unless the upstream
 * said it, and the configured response_headers (replacing the upstream's too).
 */
static int
add_security_headers(const struct pc_req *req, bool have_nosniff, pc_field_cb add, void *arg)
{
	const struct pc_conf	*conf = req->conf;
	unsigned		 i;
	int			 rc = 0;

	if (req->tls && req->listener != NULL && req->listener->hsts != NULL)
		rc |= add(arg, PC_STR("Strict-Transport-Security"), pc_str_c(req->listener->hsts));
	if (!have_nosniff)
		rc |= add(arg, PC_STR("X-Content-Type-Options"), PC_STR("nosniff"));
	for (i = 0; i < conf->nresponse_headers; i++)
		rc |= add(arg, pc_str_c(conf->response_headers[i].name),
		    pc_str_c(conf->response_headers[i].value));
	return rc;
}

/*
 * Every field of the response the client gets, framing aside (HTTP/1.1 adds Content-Length
 * or Transfer-Encoding and Connection; HTTP/2 frames the body itself): the upstream's
 * fields minus hop-by-hop ones and those the gateway replaces, then Date, X-Request-Id and
 * the security headers. One list for both protocols, so they cannot drift apart.
 */
int
pc_out_response_fields(struct exchange *ex, pc_field_cb add, void *arg)
{
	const struct pc_msg	*m = ex->resp;
	const struct pc_hdr	*h;
	bool			 listed = connection_lists_fields(m);
	bool			 drop = ex->req.conf->drop_server_header, date = false;
	bool			 nosniff = false;
	unsigned		 i;
	int			 rc = 0;

	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		switch (hdr_kind(h->name)) {
		case H_HOP:
		case H_CONTENT_LENGTH:
		case H_REQUEST_ID:
			continue;	/* framing and the request id are the gateway's */
		case H_SERVER:
		case H_POWERED_BY:
			if (drop)
				continue;	/* they tell an attacker what to target */
			break;
		case H_DATE:
			date = true;
			break;
		case H_HSTS:
			if (ex->req.tls && ex->req.listener != NULL &&
			    ex->req.listener->hsts != NULL)
				continue;	/* replaced by the gateway's */
			break;
		case H_NOSNIFF:
			nosniff = true;
			break;
		case H_OTHER:
			if (ex->req.conf->nresponse_headers > 0 &&
			    configured(ex->req.conf, h->name))
				continue;	/* replaced by the configured value */
			break;
		default:
			break;
		}
		if (listed && pc_h1_is_hop_header(m, h->name))
			continue;
		rc |= add(arg, h->name, h->value);
	}
	if (!date)
		rc |= add(arg, PC_STR("Date"), http_date());
	rc |= add(arg, PC_STR("X-Request-Id"), pc_str_make(ex->req.id, ex->req.id_len));
	rc |= add_security_headers(&ex->req, nosniff, add, arg);
	return rc;
}

static int
add_field_cb(void *arg, struct pc_str name, struct pc_str value)
{
	return add_field(arg, name, value);
}

int
pc_out_response_head(struct exchange *ex, struct pc_buf *out)
{
	const struct pc_msg	*m = ex->resp;
	int			 rc = 0;

	rc |= pc_buf_add_str(out, PC_STR("HTTP/1.1 "));
	rc |= pc_buf_add_u64(out, (uint64_t)m->status);
	rc |= pc_buf_addc(out, ' ');
	rc |= pc_buf_add_str(out, m->reason_phrase);
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	rc |= pc_out_response_fields(ex, add_field_cb, out);
	if (ex->resp_body == BODY_LENGTH || (ex->resp_body == BODY_NONE &&
	    (m->flags & PC_MSG_HAS_CL))) {
		/* HEAD and 304 keep the length the upstream announced. */
		rc |= pc_buf_add_str(out, PC_STR("Content-Length: "));
		rc |= pc_buf_add_u64(out, ex->resp_body == BODY_LENGTH ? ex->resp_left :
		    m->content_length);
		rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	} else if (ex->chunk_to_client) {
		rc |= pc_buf_add_str(out, PC_STR("Transfer-Encoding: chunked\r\n"));
	}
	if (!ex->client_keepalive)
		rc |= pc_buf_add_str(out, PC_STR("Connection: close\r\n"));
	else if (ex->client_v10)
		rc |= pc_buf_add_str(out, PC_STR("Connection: keep-alive\r\n"));
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	return rc == 0 ? 0 : -PC_ENOMEM;
}

/* The JSON body of a gateway-made answer, into <body>; its length, or -1. */
int
pc_out_error_body(char *body, size_t size, const struct pc_req *req, int status,
    enum pc_reason reason)
{
	int n;

	/* Reason names and request ids are [a-z0-9_.-] only: no escaping is needed. */
	n = snprintf(body, size, "{\"error\":\"%s\",\"reason\":\"%s\",\"request_id\":\"%s\"}\n",
	    pc_status_text(status), pc_reason_name(reason), req->id);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/*
 * RFC 6750 3: every 401 says how to authenticate; no error code when no credentials came
 * (3.1), "invalid_token" for any bad token without saying what was wrong with it (the log
 * does), and "insufficient_scope" with the scopes the route needs.
 */
static bool
key_reason(enum pc_reason reason)
{
	return reason == PC_R_AUTH_APIKEY_MALFORMED || reason == PC_R_AUTH_APIKEY_UNKNOWN ||
	    reason == PC_R_AUTH_APIKEY_EXPIRED || reason == PC_R_AUTH_APIKEY_DISABLED ||
	    reason == PC_R_AUTH_APIKEY_IN_QUERY;
}

/*
 * A route that takes API keys says so on every 401 (RFC 9110 11.6.1 requires a challenge):
 * `APIKey realm="portcullis", header="X-API-Key"` (no registered scheme exists; see
 * docs/config.md), next to the Bearer one when the route takes tokens too. A Bearer
 * challenge never says invalid_token about a key, and invalid_request for two credentials
 * (RFC 6750 3.1).
 */
static int
add_key_challenge(const struct pc_req *req, enum pc_reason reason, pc_field_cb add, void *arg)
{
	const struct pc_conf_route	*r = req->route;
	char				 v[256];
	int				 n, rc = 0;

	if (pc_reason_status(reason) != 401)
		return 0;
	if (r->nauth > 0) {
		if (reason == PC_R_AUTH_AMBIGUOUS)
			rc |= add(arg, PC_STR("WWW-Authenticate"), PC_STR("Bearer "
			    "realm=\"portcullis\", error=\"invalid_request\""));
		else if (key_reason(reason))
			rc |= add(arg, PC_STR("WWW-Authenticate"),
			    PC_STR("Bearer realm=\"portcullis\""));
	}
	/* Header names are RFC 9110 tokens (config/headers.c): nothing to escape. */
	n = snprintf(v, sizeof(v), "APIKey realm=\"portcullis\", header=\"%s\"",
	    r->apikeys[0]->header);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -PC_ERANGE;
	return rc | add(arg, PC_STR("WWW-Authenticate"), pc_str_make(v, (size_t)n));
}

static int
add_challenge(const struct pc_req *req, enum pc_reason reason, pc_field_cb add, void *arg)
{
	char	v[4200];
	int	n, rc = 0;

	if (req->route != NULL && req->route->napikeys > 0) {
		if (reason != PC_R_AUTHZ_SCOPE)
			rc = add_key_challenge(req, reason, add, arg);
		/* Bearer below only for a token's own failures on a route that takes both. */
		if (req->route->nauth == 0 || key_reason(reason) || reason == PC_R_AUTH_AMBIGUOUS)
			return rc;
	}
	if (reason == PC_R_AUTHZ_SCOPE && req->route != NULL && req->route->scope_text != NULL)
		n = snprintf(v, sizeof(v), "Bearer realm=\"portcullis\", "
		    "error=\"insufficient_scope\", scope=\"%s\"", req->route->scope_text);
	else if (reason == PC_R_AUTH_MISSING || reason == PC_R_ROUTE_NOT_PUBLIC)
		n = snprintf(v, sizeof(v), "Bearer realm=\"portcullis\"");
	else if (pc_reason_status(reason) == 401)
		n = snprintf(v, sizeof(v), "Bearer realm=\"portcullis\", error=\"invalid_token\"");
	else
		return 0;
	if (n < 0 || (size_t)n >= sizeof(v))
		return -PC_ERANGE;
	return rc | add(arg, PC_STR("WWW-Authenticate"), pc_str_make(v, (size_t)n));
}

/* RFC 9110 10.2.3: Retry-After in delay-seconds, on a 429 lockout (docs/decisions/0013).
 * The digits live in the request arena: HTTP/2 field lists keep the pointer until the
 * answer is submitted, after this returns. */
static int
add_retry_after(const struct pc_req *req, pc_field_cb add, void *arg)
{
	char	*v = pc_arena_alloc(req->arena, 16);
	int	 n;

	if (v == NULL)
		return -PC_ENOMEM;
	n = snprintf(v, 16, "%u", (unsigned)req->retry_after_s);
	if (n < 0 || n >= 16)
		return -PC_ERANGE;
	return add(arg, PC_STR("Retry-After"), pc_str_make(v, (size_t)n));
}

/*
 * The fields of a gateway-made answer, framing aside. Cache-Control: no-store on every one:
 * a cache between must not keep a 401 or 403 (RFC 6750 5.3) or serve one to someone else.
 */
int
pc_out_error_fields(const struct pc_req *req, enum pc_reason reason, pc_field_cb add,
    void *arg)
{
	int rc = 0;

	rc |= add(arg, PC_STR("Date"), http_date());
	rc |= add(arg, PC_STR("Content-Type"), PC_STR("application/json"));
	rc |= add(arg, PC_STR("X-Request-Id"), pc_str_make(req->id, req->id_len));
	rc |= add(arg, PC_STR("Cache-Control"), PC_STR("no-store"));
	if (req->retry_after_s > 0)
		rc |= add_retry_after(req, add, arg);
	if (reason == PC_R_REDIRECT_HTTPS && req->location.len > 0)
		rc |= add(arg, PC_STR("Location"), req->location);
	rc |= add_challenge(req, reason, add, arg);
	if (req->conf != NULL)
		rc |= add_security_headers(req, false, add, arg);
	return rc;
}

int
pc_out_error(struct pc_buf *out, const struct pc_req *req, int status, enum pc_reason reason,
    bool close)
{
	char	body[512];
	int	n, rc = 0;

	n = pc_out_error_body(body, sizeof(body), req, status, reason);
	if (n < 0)
		return -PC_ERANGE;
	rc |= pc_buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n%s", status,
	    pc_status_text(status), n, close ? "Connection: close\r\n" : "");
	rc |= pc_out_error_fields(req, reason, add_field_cb, out);
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	rc |= pc_buf_add(out, body, (size_t)n);
	return rc == 0 ? 0 : -PC_ENOMEM;
}

int
pc_out_chunk(struct pc_buf *out, const char *data, size_t len)
{
	int rc = 0;

	if (len == 0)
		return 0;
	rc |= pc_buf_add_hex(out, len);
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	rc |= pc_buf_add(out, data, len);
	rc |= pc_buf_add_str(out, PC_STR("\r\n"));
	return rc == 0 ? 0 : -PC_ENOMEM;
}
