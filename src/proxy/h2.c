/*
 * proxy/h2.c - HTTP/2 client connections (RFC 9113) on libnghttp2: streams become
 * exchanges that run the same phases and reach the same HTTP/1.1 upstreams as HTTP/1.1
 * requests; flow control both ways; and the limits that keep one connection from costing
 * the gateway more than it should (concurrent streams, header list size, and the floods:
 * rapid reset, SETTINGS/PING/PRIORITY, empty frames, CONTINUATION).
 * Owns: the nghttp2 session of a connection and its streams. Does not: read or write the
 * socket (conn.c), decide policy (pipeline/), or judge a header list (http/h2_msg.c).
 *
 * nghttp2 parses and serializes frames and HPACK, and enforces the protocol; the flood
 * accounting is ours, so each limit is explicit, configurable and tested here rather than
 * a library default that changes between versions.
 */
#include <string.h>
#include <stdlib.h>

#include <nghttp2/nghttp2.h>

#include "observe/observe.h"
#include "proxy/proxy_int.h"
#include "core/banned.h"

#define FLOOD_WINDOW_MS		10000u	/* the limits count per this window */
#define CONTINUATIONS_MAX	32u	/* CONTINUATION frames in one header block */
#define CONN_WINDOW		(1u << 20)	/* connection-level receive window */
#define NV_MAX			(PC_HTTP_HDR_MAX + 16)

static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct h2conn {
	nghttp2_session	*s;
	struct conn	*c;
	struct h2stream	*streams;
	unsigned	 nstreams;
	uint64_t	 window_start_ms;
	uint32_t	 resets;	/* client RST_STREAM frames in this window */
	uint32_t	 control;	/* control and empty frames in this window */
	uint32_t	 continuations;	/* of the header block being received */
	size_t		 block_bytes;	/* encoded bytes of that header block */
	enum pc_reason	 calm;		/* a limit was crossed: GOAWAY ENHANCE_YOUR_CALM */
	bool		 closing;	/* GOAWAY written ourselves: flush, then close */
	bool		 seen_frame;	/* the preface and a first frame arrived */
	bool		 drained;	/* DATA took response bytes: upstreams may resume */
};

/* The header-list builder of a stream whose HEADERS are still arriving (in its arena). */
struct h2build {
	struct pc_msg	 msg;
	struct pc_h2_req req;
};

bool
pc_h2_preface(const uint8_t *p, size_t n, bool *complete)
{
	size_t want = sizeof(preface) - 1;

	*complete = n >= want;
	return memcmp(p, preface, n < want ? n : want) == 0;
}

static uint64_t
now_ms(const struct h2conn *h)
{
	return pc_loop_now_ms(h->c->w->loop);
}

/* A connection-level limit was crossed: a security event, then GOAWAY and close. */
static void
h2_event(struct h2conn *h, enum pc_reason reason)
{
	struct pc_log_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.wall_us = pc_wall_us();
	rec.client_ip = pc_str_c(h->c->ip);
	rec.phase = "http2";
	rec.reason = reason;
	rec.status = 0;
	pc_log_event(&rec);
}

/*
 * Writes GOAWAY straight into the connection's output (RFC 9113 6.8), without asking the
 * session: after a flood the session stopped mid-buffer and its state is not to be
 * trusted, and nothing more is read from this client anyway.
 */
static void
h2_goaway_close(struct h2conn *h, uint32_t error)
{
	struct conn	*c = h->c;
	int32_t		 last = nghttp2_session_get_last_proc_stream_id(h->s);
	uint8_t		 f[17] = { 0, 0, 8, NGHTTP2_GOAWAY, 0, 0, 0, 0, 0 };

	f[9] = (uint8_t)((uint32_t)last >> 24 & 0x7f);
	f[10] = (uint8_t)((uint32_t)last >> 16);
	f[11] = (uint8_t)((uint32_t)last >> 8);
	f[12] = (uint8_t)last;
	f[13] = (uint8_t)(error >> 24);
	f[14] = (uint8_t)(error >> 16);
	f[15] = (uint8_t)(error >> 8);
	f[16] = (uint8_t)error;
	if (pc_buf_add(&c->out, f, sizeof(f)) != 0) {
		pc_conn_close(c);
		return;
	}
	h->closing = true;
	c->flags |= C_CLOSING;
}

/* ---- streams ---- */

static struct h2stream *
stream_of(struct h2conn *h, int32_t id)
{
	return nghttp2_session_get_stream_user_data(h->s, id);
}

static void
stream_free(struct h2conn *h, struct h2stream *st)
{
	if (st->ex != NULL)
		pc_ex_end(st->ex);	/* client reset, or the connection went: logged 499 */
	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	h->nstreams--;
	pc_buf_give(h->c->w, &st->body);
	free(st);
}

void
pc_h2_ex_detach(struct exchange *ex)
{
	ex->st->ex = NULL;
	ex->st = NULL;
}

/* Gives request DATA back to the client's flow-control window once the upstream side has
 * room for it: the window is the only buffer a client can fill. */
static void
stream_consume(struct h2conn *h, struct h2stream *st)
{
	struct exchange *ex = st->ex;

	if (st->unconsumed == 0)
		return;
	if (ex != NULL && !ex->ended && ex->upout.len - ex->upout_off >= PC_UPOUT_HIGH)
		return;
	(void)nghttp2_session_consume(h->s, st->id, st->unconsumed);
	st->unconsumed = 0;
}

/* The data source of a response: body bytes as the upstream side produced them. */
static ssize_t
body_read_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
    nghttp2_data_source *src, void *arg)
{
	struct h2stream	*st = src->ptr;
	size_t		 avail = st->body.len - st->body_off;

	(void)s;
	(void)id;
	(void)arg;
	if (avail == 0) {
		if (st->body_eof) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			return 0;
		}
		st->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (len > avail)
		len = avail;
	memcpy(buf, st->body.data + st->body_off, len);
	st->body_off += len;
	st->h->drained = true;
	if (st->body_off == st->body.len) {
		st->body.len = st->body_off = 0;
		if (st->body_eof)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
	}
	return (ssize_t)len;
}

struct nvlist {
	nghttp2_nv	 nv[NV_MAX];
	size_t		 n;
	struct pc_arena	*arena;
	bool		 copy;	/* values are copied (see nv_add) */
};

/* Adds a field, lowercased (HTTP/2 field names are lowercase, RFC 9113 8.2.1). The list is
 * submitted after the producer returned: a gateway-made answer's producers build values in
 * stack buffers (a challenge), so those lists copy values; a response head's values point
 * into the upstream's buffer, which outlives the submit. */
static int
nv_add(void *arg, struct pc_str name, struct pc_str value)
{
	struct nvlist	*l = arg;
	char		*lc, *vc = (char *)(uintptr_t)value.ptr;
	size_t		 i;

	if (l->n == NV_MAX)
		return -PC_ETOOBIG;
	lc = pc_arena_alloc(l->arena, name.len + 1);
	if (lc == NULL)
		return -PC_ENOMEM;
	if (l->copy) {
		if ((vc = pc_arena_alloc(l->arena, value.len + 1)) == NULL)
			return -PC_ENOMEM;
		if (value.len > 0)
			memcpy(vc, value.ptr, value.len);
	}
	for (i = 0; i < name.len; i++) {
		char ch = name.ptr[i];

		lc[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	l->nv[l->n].name = (uint8_t *)lc;
	l->nv[l->n].namelen = name.len;
	l->nv[l->n].value = (uint8_t *)vc;
	l->nv[l->n].valuelen = value.len;
	l->nv[l->n].flags = NGHTTP2_NV_FLAG_NONE;	/* nghttp2 copies both */
	l->n++;
	return 0;
}

static int
nv_status(struct nvlist *l, int status, char num[4])
{
	num[0] = (char)('0' + status / 100 % 10);
	num[1] = (char)('0' + status / 10 % 10);
	num[2] = (char)('0' + status % 10);
	num[3] = '\0';
	return nv_add(l, PC_STR(":status"), pc_str_make(num, 3));
}

static int
nv_length(struct nvlist *l, uint64_t n, char num[24])
{
	size_t	len = 0, i;
	char	tmp[24];

	do {
		tmp[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && len < sizeof(tmp));
	for (i = 0; i < len; i++)
		num[i] = tmp[len - 1 - i];
	return nv_add(l, PC_STR("content-length"), pc_str_make(num, len));
}

static int
submit(struct exchange *ex, struct nvlist *l, bool with_body)
{
	struct h2stream		*st = ex->st;
	nghttp2_data_provider	 dp;
	int			 rc;

	dp.source.ptr = st;
	dp.read_callback = body_read_cb;
	rc = nghttp2_submit_response(st->h->s, st->id, l->nv, l->n, with_body ? &dp : NULL);
	return rc == 0 ? 0 : -PC_ENOMEM;
}

int
pc_h2_ex_response_head(struct exchange *ex)
{
	const struct pc_msg	*m = ex->resp;
	struct nvlist		*l;
	char			 st[4], len[24];
	bool			 body;
	int			 rc = 0;

	l = pc_arena_alloc(ex->req.arena, sizeof(*l));
	if (l == NULL)
		return -PC_ENOMEM;
	l->n = 0;
	l->arena = ex->req.arena;
	l->copy = false;
	rc |= nv_status(l, m->status, st);
	rc |= pc_out_response_fields(ex, nv_add, l);
	if (ex->resp_body == BODY_LENGTH || (ex->resp_body == BODY_NONE &&
	    (m->flags & PC_MSG_HAS_CL)))
		rc |= nv_length(l, ex->resp_body == BODY_LENGTH ? ex->resp_left :
		    m->content_length, len);
	if (rc != 0)
		return -PC_ENOMEM;
	body = !(ex->resp_body == BODY_NONE || (ex->resp_body == BODY_LENGTH &&
	    ex->resp_left == 0));
	if (!body)
		ex->st->body_eof = true;
	return submit(ex, l, body);
}

void
pc_h2_ex_error(struct exchange *ex, int status, enum pc_reason reason)
{
	struct h2stream	*st = ex->st;
	struct nvlist	*l;
	char		 body[512], num[4], len[24];
	int		 n, rc = 0;

	if (!ex->req_done)
		st->rst_after = true;	/* the rest of the request body is unwanted */
	if (ex->resp_head_sent) {
		/* Part of a response went out: only a reset tells the client it is not whole. */
		(void)nghttp2_submit_rst_stream(st->h->s, NGHTTP2_FLAG_NONE, st->id,
		    NGHTTP2_INTERNAL_ERROR);
		return;
	}
	ex->resp_head_sent = true;
	n = pc_out_error_body(body, sizeof(body), &ex->req, status, reason);
	l = pc_arena_alloc(ex->req.arena, sizeof(*l));
	if (n < 0 || l == NULL)
		goto reset;
	l->n = 0;
	l->arena = ex->req.arena;
	l->copy = true;
	rc |= nv_status(l, status, num);
	rc |= pc_out_error_fields(&ex->req, reason, nv_add, l);
	rc |= nv_length(l, (uint64_t)n, len);
	st->body.len = st->body_off = 0;
	pc_buf_take(st->h->c->w, &st->body);
	rc |= pc_buf_add(&st->body, body, (size_t)n);
	if (rc != 0)
		goto reset;
	st->body_eof = true;
	ex->bytes_out += (uint64_t)n;
	if (submit(ex, l, true) == 0)
		return;
reset:
	(void)nghttp2_submit_rst_stream(st->h->s, NGHTTP2_FLAG_NONE, st->id,
	    NGHTTP2_INTERNAL_ERROR);
}

void
pc_h2_ex_kick(struct exchange *ex)
{
	struct h2stream *st = ex->st;

	if (st->deferred && (st->body.len > st->body_off || st->body_eof || ex->resp_done)) {
		st->deferred = false;
		(void)nghttp2_session_resume_data(st->h->s, st->id);
	}
}

/*
 * The response is whole in the stream's buffer: end the exchange now, so its upstream
 * connection is back in the pool for the next stream of this very batch of events (left
 * to the deferred step, new streams of the batch would each open a connection).
 */
static void
stream_resp_done(struct h2stream *st)
{
	struct exchange *ex = st->ex;

	st->body_eof = true;
	pc_h2_ex_kick(ex);
	if (!ex->req_done)	/* answered early: the rest of the body is unwanted */
		st->rst_after = true;
	pc_ex_done(ex);
}

void
pc_h2_ex_ready(struct exchange *ex)
{
	if (ex->resp_done)
		stream_resp_done(ex->st);
	else
		pc_h2_ex_kick(ex);
}

/* ---- receiving ---- */

/* Counts frames against the flood limits before their payload is even read. */
static int
on_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd, void *arg)
{
	struct h2conn		*h = arg;
	const struct pc_conf	*conf = h->c->w->cur->conf;
	uint64_t		 now = now_ms(h);

	(void)s;
	h->seen_frame = true;
	if (now - h->window_start_ms >= FLOOD_WINDOW_MS) {
		h->window_start_ms = now;
		h->resets = h->control = 0;
	}
	switch (hd->type) {
	case NGHTTP2_RST_STREAM:
		/* CVE-2023-44487: each reset stream may already have cost an upstream
		 * request; a client that resets too many is attacking, not browsing. */
		if (++h->resets > conf->http2.max_resets)
			h->calm = PC_R_HTTP2_RAPID_RESET;
		break;
	case NGHTTP2_SETTINGS:
	case NGHTTP2_PING:
		if (!(hd->flags & NGHTTP2_FLAG_ACK))
			h->control++;
		break;
	case NGHTTP2_PRIORITY:
		h->control++;
		break;
	case NGHTTP2_DATA:
		if (hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM))
			h->control++;	/* CVE-2019-9518: empty frames cost work, carry nothing */
		break;
	case NGHTTP2_HEADERS:
		h->continuations = 0;
		h->block_bytes = hd->length;
		if (hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM))
			h->control++;
		break;
	case NGHTTP2_CONTINUATION:
		/* CVE-2024-27316 and friends: an endless header block, bounded here by frame
		 * count and by encoded size before a byte of it is decoded. HPACK can expand
		 * a few characters to 30 bits, so the encoded block may exceed the decoded
		 * limit a little, never by a factor of four. */
		h->block_bytes += hd->length;
		if (++h->continuations > CONTINUATIONS_MAX ||
		    h->block_bytes > 4 * (size_t)conf->limits.header_max_bytes + 16384)
			h->calm = PC_R_LIMIT_HEADERS;
		if (hd->length == 0)
			h->control++;
		break;
	default:
		break;
	}
	if (h->calm == PC_R_NONE && h->control > conf->http2.max_control_frames)
		h->calm = PC_R_HTTP2_FLOOD;
	/* Stop reading at once: the rest of the buffer is more of the same. */
	return h->calm != PC_R_NONE ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static int
on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	struct h2conn		*h = arg;
	const struct pc_conf	*conf;
	struct h2stream		*st;
	struct exchange		*ex;
	struct h2build		*b;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;	/* trailers: their fields are dropped */
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (pc_ex_new(h->c, NULL, &ex) != 0) {
		free(st);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	conf = ex->req.conf;
	b = pc_arena_alloc(ex->req.arena, sizeof(*b));
	if (b == NULL) {
		pc_ex_end(ex);
		free(st);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	pc_h2_req_init(&b->req, &b->msg, ex->req.arena, conf->limits.header_max_bytes,
	    conf->limits.header_max_count);
	st->id = f->hd.stream_id;
	st->h = h;
	st->ex = ex;
	ex->st = st;
	ex->req.msg = &b->msg;
	ex->client_keepalive = true;
	pc_buf_init(&st->body, SIZE_MAX);
	/* The request body buffer holds what the client's window allows beyond the mark. */
	ex->upout.max = PC_UPOUT_HIGH + conf->http2.initial_window_bytes + PC_READ_CHUNK * 2;
	st->next = h->streams;
	if (h->streams != NULL)
		h->streams->prev = st;
	h->streams = st;
	h->nstreams++;
	(void)nghttp2_session_set_stream_user_data(s, st->id, st);
	return 0;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
	struct h2conn	*h = arg;
	struct h2stream	*st;
	struct h2build	*b;
	struct pc_str	 n = pc_str_make((const char *)name, namelen);
	struct pc_str	 v = pc_str_make((const char *)value, valuelen);
	struct pc_arena	*a;

	(void)s;
	(void)flags;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = stream_of(h, f->hd.stream_id);
	if (st == NULL || st->ex == NULL)
		return 0;
	a = st->ex->req.arena;
	b = (struct h2build *)(uintptr_t)st->ex->req.msg;
	/* Copied out of the HPACK decoder while the list is good; once it is bad (too big:
	 * an HPACK bomb) only sizes are counted, nothing is kept. */
	if (b->req.reason == PC_R_NONE) {
		n.ptr = pc_arena_strdup(a, n);
		v.ptr = pc_arena_strdup(a, v);
		if (n.ptr == NULL || v.ptr == NULL) {
			/* The arena is full: too big, whatever the list limit says. The field
			 * is still counted below, uncopied (the reason is set, so not kept). */
			b->req.reason = PC_R_LIMIT_HEADERS;
			n = pc_str_make((const char *)name, namelen);
			v = pc_str_make((const char *)value, valuelen);
		}
	}
	/* An error is kept in b->req.reason and answered once the list is complete. */
	(void)pc_h2_req_field(&b->req, n, v);
	return 0;
}

/* The request head is complete: the same start as HTTP/1.1 (pc_ex_start). */
static void
stream_start(struct h2conn *h, struct h2stream *st, bool end_stream)
{
	struct exchange	*ex = st->ex;
	struct h2build	*b = (struct h2build *)(uintptr_t)ex->req.msg;
	const struct pc_msg *msg = &b->msg;
	enum pc_reason	 reason;
	int		 rc;

	rc = pc_h2_req_finish(&b->req, end_stream);
	ex->bytes_in = b->req.list_bytes;
	if (rc != 0) {
		ex->method = pc_str_make(pc_arena_strdup(ex->req.arena, msg->method),
		    msg->method.len);
		ex->raw_target = pc_str_make(pc_arena_strdup(ex->req.arena, msg->target),
		    msg->target.len);
		if (pc_req_set_id(&ex->req, PC_STR_NULL) != 0)
			ex->req.id[0] = '\0';
		ex->req.deny_phase = "parse";
		ex->req.msg = NULL;
		if (b->req.reason == PC_R_LIMIT_HEADERS) {
			/* 431 on the stream, then the connection goes: the HTTP/1.1 answer to
			 * an oversized head, and the end of an HPACK bomb. */
			h->calm = PC_R_LIMIT_HEADERS;
		}
		pc_ex_deny(ex, b->req.reason, true);
		return;
	}
	if (end_stream) {
		ex->req_body = BODY_NONE;
		ex->req_done = true;
	} else if (msg->flags & PC_MSG_HAS_CL) {
		ex->req_body = BODY_LENGTH;
		ex->req_left = msg->content_length;
	} else {
		ex->req_body = BODY_CHUNKED;	/* to the upstream; DATA frames are the chunks */
	}
	reason = pc_ex_start(ex, msg);
	if (ex->parked)
		return;	/* the head stays in the arena; DATA is held in upout meanwhile */
	ex->req.msg = NULL;
	if (reason != PC_R_NONE)
		pc_ex_deny(ex, reason, true);
}

/* A parked stream's request was decided (exchange.c), outside any batch of frames: the
 * answer or the upstream's progress must be flushed by a step of its own. */
void
pc_h2_ex_resumed(struct exchange *ex, enum pc_reason reason)
{
	struct conn *c = ex->c;

	ex->req.msg = NULL;
	if (reason != PC_R_NONE) {
		pc_ex_deny(ex, reason, true);
		return;
	}
	stream_consume(ex->st->h, ex->st);
	pc_conn_kick_later(c);
}

/* The request body ended (END_STREAM on DATA or on trailers). */
static void
stream_body_end(struct h2stream *st)
{
	struct exchange *ex = st->ex;

	if (ex == NULL || ex->req_done)
		return;
	if (ex->req_body == BODY_CHUNKED &&
	    pc_buf_add_str(&ex->upout, PC_STR("0\r\n\r\n")) != 0) {
		pc_ex_deny(ex, PC_R_OVERLOAD, true);
		return;
	}
	if (ex->req_body == BODY_LENGTH && ex->req_left != 0) {
		/* nghttp2 checks content-length too; a short body never looks whole. */
		pc_ex_deny(ex, PC_R_HTTP_BODY_TRUNCATED, true);
		return;
	}
	ex->req_done = true;
}

static int
on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	struct h2conn	*h = arg;
	struct h2stream	*st;
	bool		 end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	(void)s;
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	st = stream_of(h, f->hd.stream_id);
	if (st == NULL || st->ex == NULL)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
		stream_start(h, st, end);
		return 0;
	}
	if (end)
		stream_body_end(st);
	return 0;
}

static int
on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
    void *arg)
{
	struct h2conn	*h = arg;
	struct h2stream	*st = stream_of(h, id);
	struct exchange	*ex = st != NULL ? st->ex : NULL;
	int		 rc;

	(void)flags;
	if (ex == NULL || ex->req_done || ex->ended ||
	    (ex->up == NULL && !ex->connect_pending && !ex->parked)) {
		/* Nobody wants it (denied, answered, reset): give the window back. */
		(void)nghttp2_session_consume(s, id, len);
		return 0;
	}
	ex->req_seen += len;
	ex->bytes_in += len;
	/* A stream parked before routing (no phase does that today) has only the global
	 * limit to go by. */
	if (ex->req_seen > (ex->req.route != NULL ? ex->req.route->body_max_bytes :
	    ex->req.conf->limits.body_max_bytes) ||
	    (ex->req_body == BODY_LENGTH && len > ex->req_left)) {
		(void)nghttp2_session_consume(s, id, len);
		pc_ex_deny(ex, ex->req_body == BODY_LENGTH && len > ex->req_left ?
		    PC_R_HTTP_CL_BAD : PC_R_LIMIT_BODY, true);
		return 0;
	}
	if (ex->req_body == BODY_LENGTH) {
		ex->req_left -= len;
		rc = pc_buf_add(&ex->upout, data, len);
	} else {
		rc = pc_out_chunk(&ex->upout, (const char *)data, len);
	}
	if (rc != 0) {
		(void)nghttp2_session_consume(s, id, len);
		pc_ex_deny(ex, PC_R_OVERLOAD, true);
		return 0;
	}
	st->unconsumed += (uint32_t)len;
	stream_consume(h, st);
	return 0;
}

/*
 * The whole response went out while the client was still sending its body: RST_STREAM
 * NO_ERROR tells it to stop (RFC 9113 8.1). Only now: a reset queued earlier would overtake
 * the response's DATA frames.
 */
static int
on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	struct h2conn	*h = arg;
	struct h2stream	*st;

	if ((f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	st = stream_of(h, f->hd.stream_id);
	if (st != NULL && st->goaway_after)
		(void)nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE,
		    nghttp2_session_get_last_proc_stream_id(s), NGHTTP2_NO_ERROR, NULL, 0);
	if (st != NULL && st->rst_after)
		(void)nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
	return 0;
}

static int
on_stream_close(nghttp2_session *s, int32_t id, uint32_t error, void *arg)
{
	struct h2conn	*h = arg;
	struct h2stream	*st = stream_of(h, id);

	if (st == NULL)
		return 0;
	if (st->ex != NULL && st->ex->method.ptr == NULL && error == NGHTTP2_PROTOCOL_ERROR) {
		/* nghttp2 refused the header list itself (its own RFC 9113 checks) before we
		 * saw it whole: log it as the malformed request it was. */
		st->ex->req.deny_reason = PC_R_HTTP2_PROTOCOL;
		st->ex->req.deny_phase = "parse";
		st->ex->status = 400;
	}
	(void)nghttp2_session_set_stream_user_data(s, id, NULL);
	stream_free(h, st);
	return 0;
}

/* ---- the connection ---- */

int
pc_h2_start(struct conn *c)
{
	const struct pc_conf	 *conf = c->w->cur->conf;
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_option		 *opt = NULL;
	struct h2conn		 *h;
	nghttp2_settings_entry	  iv[5];
	int			  rc = -1;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -PC_ENOMEM;
	h->c = c;
	h->window_start_ms = pc_loop_now_ms(c->w->loop);
	if (nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0)
		goto out;
	nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, on_begin_frame);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	/* Flow control is ours: a window is returned only once the upstream took the data. */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_no_closed_streams(opt, 1);
	nghttp2_option_set_max_settings(opt, 16);
	/* Second lines behind our own counting (on_begin_frame), set looser so ours decide
	 * (and say why in the event log). */
	nghttp2_option_set_max_continuations(opt, 2 * CONTINUATIONS_MAX);
	nghttp2_option_set_stream_reset_rate_limit(opt, 2 * (uint64_t)conf->http2.max_resets,
	    conf->http2.max_resets / 5 + 1);
	if (nghttp2_session_server_new2(&h->s, cbs, h, opt) != 0)
		goto out;
	iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	iv[0].value = conf->http2.max_concurrent_streams;
	iv[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	iv[1].value = conf->http2.initial_window_bytes;
	iv[2].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE;
	iv[2].value = conf->limits.header_max_bytes;
	iv[3].settings_id = NGHTTP2_SETTINGS_ENABLE_PUSH;
	iv[3].value = 0;
	iv[4].settings_id = NGHTTP2_SETTINGS_MAX_FRAME_SIZE;
	iv[4].value = 16384;
	if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, PC_NELEM(iv)) != 0 ||
	    nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0,
	    (int32_t)CONN_WINDOW) != 0)
		goto out;
	c->h2 = h;
	/* The client must get its preface and first frames in within the head timeout. */
	pc_timer_arm(c->w->loop, &c->timer, conf->limits.header_timeout_ms);
	rc = 0;
out:
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0) {
		if (h->s != NULL)
			nghttp2_session_del(h->s);
		free(h);
	}
	return rc;
}

void
pc_h2_free(struct conn *c)
{
	struct h2conn *h = c->h2;

	if (h == NULL)
		return;
	/* Deleting the session closes every stream (on_stream_close ends the exchanges). */
	nghttp2_session_del(h->s);
	while (h->streams != NULL)
		stream_free(h, h->streams);
	c->h2 = NULL;
	free(h);
}

/* The HTTP/2 form of "no keep-alive after this answer" (req->close_after): once the
 * answer's END_STREAM is out (not before: some clients drop their state on GOAWAY), a
 * GOAWAY, so the client opens no more streams here; those in flight finish, then the
 * connection closes. */
void
pc_h2_ex_goaway(struct exchange *ex)
{
	if (ex->st != NULL)
		ex->st->goaway_after = true;
}

void
pc_h2_drain(struct conn *c)
{
	struct h2conn *h = c->h2;

	(void)nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(h->s), NGHTTP2_NO_ERROR, NULL, 0);
	pc_h2_step(c);
}

/* Feeds what was read to the session. Returns false if the connection is done for. */
static bool
h2_recv(struct h2conn *h)
{
	struct conn	*c = h->c;
	ssize_t		 n;

	n = nghttp2_session_mem_recv(h->s, c->in.data, c->in.len);
	if (n >= 0 && h->calm == PC_R_NONE) {
		c->in.len = 0;
		return true;
	}
	c->in.len = 0;
	if (h->calm != PC_R_NONE) {
		h2_event(h, h->calm);
		h2_goaway_close(h, NGHTTP2_ENHANCE_YOUR_CALM);
	} else {
		/* A protocol error nghttp2 found (bad preface, a frame out of place, its own
		 * flood guards): it queued GOAWAY when it could; add ours if not. */
		h2_event(h, n == NGHTTP2_ERR_FLOODED ? PC_R_HTTP2_FLOOD : PC_R_HTTP2_PROTOCOL);
		h2_goaway_close(h, n == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM :
		    NGHTTP2_PROTOCOL_ERROR);
	}
	return false;
}

/* Serializes what the session has to send into the connection's output, up to the mark. */
static bool
h2_send(struct h2conn *h)
{
	struct conn	*c = h->c;
	const uint8_t	*data;
	ssize_t		 n;

	while (c->out.len - c->out_off < PC_OUT_HIGH && nghttp2_session_want_write(h->s)) {
		n = nghttp2_session_mem_send(h->s, &data);
		if (n < 0)
			return false;
		if (n == 0)
			break;
		pc_buf_take(c->w, &c->out);
		if (pc_buf_add(&c->out, data, (size_t)n) != 0)
			return false;
	}
	return true;
}

/*
 * Moves every stream along after I/O: exchanges whose response is complete end (logged),
 * upstreams held back by backpressure resume, request bodies the upstream side now has
 * room for give their window back.
 */
static void
h2_streams(struct h2conn *h)
{
	struct h2stream	*st, *next;
	struct exchange	*ex;

	for (st = h->streams; st != NULL; st = next) {
		next = st->next;
		ex = st->ex;
		if (ex == NULL)
			continue;
		if (ex->resp_done) {
			stream_resp_done(st);
			continue;
		}
		stream_consume(h, st);
		if (ex->up != NULL && !pc_ex_out_full(ex) &&
		    (ex->up->in.len > 0 || (ex->up->flags & U_RD_READY) ||
		    ex->upout.len > ex->upout_off))
			pc_up_drive(ex->up);
	}
}

void
pc_h2_step(struct conn *c)
{
	struct h2conn		*h = c->h2;
	const struct pc_conf	*conf = c->w->cur->conf;
	ssize_t			 n;

	for (;;) {
		if (c->flags & C_CLOSED)
			return;
		if (!h->closing) {
			h2_streams(h);
			if (c->flags & C_CLOSED)
				return;
			if (!h2_send(h)) {
				pc_conn_close(c);
				return;
			}
		}
		if (c->out.len > c->out_off && pc_conn_flush(c) != 0) {
			pc_conn_close(c);
			return;
		}
		if (h->drained && !h->closing) {
			/* Room in some stream's buffer: its upstream may read again. */
			h->drained = false;
			continue;
		}
		if (h->closing || (!nghttp2_session_want_read(h->s) &&
		    !nghttp2_session_want_write(h->s))) {
			/* GOAWAY out (ours, or the session's after a drain or an error). */
			c->flags |= C_CLOSING;
			if (c->out.len == c->out_off)
				pc_conn_linger(c);
			return;
		}
		if (c->out.len - c->out_off >= PC_OUT_HIGH)
			break;	/* a client that does not read gets nothing more read either */
		if (c->in.len > 0) {
			/* What was read (or came with the h2c preface, before the session
			 * existed) goes to the session; a GOAWAY it causes is flushed above. */
			(void)h2_recv(h);
			continue;
		}
		if (!(c->flags & C_RD_READY))
			break;
		n = pc_conn_read(c, PC_READ_CHUNK);
		if (n < 0) {
			pc_conn_close(c);
			return;
		}
		if (n == 0)
			break;
	}
	/* Idle (no stream) or still waiting for the preface: the connection's clock runs. */
	if (h->nstreams == 0) {
		if (!pc_timer_armed(&c->timer))
			pc_timer_arm(c->w->loop, &c->timer, h->seen_frame ?
			    conf->limits.idle_timeout_ms : conf->limits.header_timeout_ms);
	} else {
		pc_timer_disarm(c->w->loop, &c->timer);
	}
}
