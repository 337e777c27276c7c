/*
 * proxy/proxy_int.h - private to proxy/: the worker, client connection, upstream
 * connection and exchange (one request/response) structures and the functions the files of
 * proxy/ share.
 */
#ifndef PC_PROXY_INT_H
#define PC_PROXY_INT_H

#include <netinet/in.h>
#include <pthread.h>

#include "pipeline/pipeline.h"
#include "proxy/proxy.h"

#define PC_OUT_HIGH		(256u * 1024u)	/* client output: stop reading the upstream */
#define PC_UPOUT_HIGH		(64u * 1024u)	/* upstream output: stop reading the client */
#define PC_READ_CHUNK		(16u * 1024u)
#define PC_RESP_HEAD_MAX	(64u * 1024u)
#define PC_BUF_STD		(16u * 1024u)	/* the size cached buffers have */
#define PC_CACHE_MAX		256u		/* cached buffers / arenas per worker */
#define PC_H2_BODY_HIGH		(64u * 1024u)	/* HTTP/2: unsent response bytes per stream */

/* A reference-counted view of one configuration inside one worker, so requests do not
 * touch the shared atomic reference count (no cache-line ping-pong between workers). */
struct confslot {
	struct pc_conf	*conf;
	unsigned	 users;		/* exchanges using it; the worker holds it while current */
	unsigned	*rr;		/* round-robin position per upstream */
	struct confslot	*next;		/* retired slots waiting for users == 0 */
};

/* One upstream target's state in one worker: passive health and the keep-alive pool. */
struct target {
	struct pc_addr	 addr;
	char		*pool_key;	/* a copy of the upstream's pool_key: "" plain, else the
					 * TLS settings (pools survive reloads, configs do not) */
	uint32_t	 fails;		/* consecutive failures */
	uint64_t	 ejected_until_ms;
	struct upconn	*idle;		/* pooled idle connections (LIFO) */
	uint32_t	 nidle;
	uint32_t	 max_idle;	/* keepalive_max of the last release */
};

struct worker {
	struct pc_server *srv;
	unsigned	 id;
	pthread_t	 thread;
	struct pc_loop	*loop;
	struct listener	*listeners;
	unsigned	 nlisteners;
	struct confslot	*cur;
	struct confslot	*retired;
	uint64_t	 conf_gen;
	struct target	**targets;
	unsigned	 ntargets, captargets;
	struct pc_defer	 trim_later;	/* pools over their size are trimmed at batch end */
	uint8_t		 trim_pass;	/* 0 idle, 1 queued, 2 re-queued behind the batch */
	struct conn	*conns;		/* every client connection (for drain) */
	unsigned	 nconns;
	bool		 draining;
	struct pc_timer	 drain_timer;
	/* Free lists, so the request path does not go through malloc for its usual
	 * buffers and arenas (bounded: at most PC_CACHE_MAX of each are kept). */
	void		*bufs[PC_CACHE_MAX];
	unsigned	 nbufs;
	struct pc_arena	*arenas[PC_CACHE_MAX];
	unsigned	 narenas;
	struct pc_msg	 msg;		/* parse scratch: valid only inside conn_start_exchange */
	struct pc_jwt_cache *jwt_cache;	/* verified tokens, this worker's (auth/jwt_cache.c) */
	/* Parked exchanges (a phase waits, or a deny is held back): see exchange.c. */
	struct exchange	*parked;
	unsigned	 nparked;
	uint64_t	 wake_gen;	/* bumped by every pc_server_wake() seen */
	int		 wake;		/* atomic: set by pc_server_wake(), any thread */
};

struct listener {
	struct pc_io	 io;
	struct worker	*w;
	unsigned	 idx;		/* in conf->listeners (stable: reload refuses changes) */
};

#define C_RD_READY	0x01u
#define C_WR_READY	0x02u
#define C_EOF		0x04u	/* the client closed its side */
#define C_CLOSING	0x08u	/* close once the output is flushed */
#define C_CLOSED	0x10u
#define C_HEAD		0x20u	/* a request head has started arriving */
#define C_RUNNING	0x40u	/* conn_run is on the stack */
#define C_AGAIN		0x80u	/* something changed while it ran: go round again */
#define C_LINGER	0x100u	/* answered and half-closed: discarding input, then close */
#define C_HUP		0x200u	/* the peer's FIN or an error was seen: read to the end */
#define C_HANDSHAKE	0x400u	/* TLS handshake not finished yet */
#define C_RD_WANTS_WR	0x800u	/* TLS: a read waits for the socket to be writable */
#define C_WR_WANTS_RD	0x1000u	/* TLS: a write waits for the socket to be readable */
#define C_STEP_LATER	0x2000u	/* a conn_run is deferred to the end of this batch */

struct conn {
	struct pc_io	 io;
	struct pc_timer	 timer;
	struct pc_defer	 free_later;
	struct pc_defer	 step_later;	/* see pc_conn_kick_later() */
	struct worker	*w;
	struct conn	*prev, *next;
	struct pc_buf	 in;
	struct pc_buf	 out;
	size_t		 out_off;	/* bytes of <out> already written */
	struct exchange	*ex;
	uint32_t	 nreq;
	uint32_t	 linger_bytes;
	uint16_t	 flags;
	uint8_t		 family;
	uint8_t		 lidx;		/* index of the listener in the configuration */
	struct ssl_st	*ssl;		/* NULL: plain */
	struct pc_tls_server *tls;	/* the listener's TLS state, held while <ssl> lives */
	struct pc_tls_peer *peer;	/* verified client certificate, or NULL */
	char		*peer_hdr;	/* its header value, made on first use */
	struct h2conn	*h2;		/* HTTP/2 session (h2.c); NULL: HTTP/1.1 */
	const char	*tls_version;	/* static text, for the log; NULL: plain */
	uint8_t		 addr[16];	/* peer address, network order, for trusted_proxies */
	char		 ip[46];	/* peer address as text */
};

#define U_CONNECTING	0x01u
#define U_RD_READY	0x02u
#define U_WR_READY	0x04u
#define U_REUSED	0x08u
#define U_CLOSED	0x10u
#define U_HUP		0x80u	/* 0x20, 0x40: upstream.c's re-entrancy flags */
#define U_HANDSHAKE	0x100u	/* TLS handshake running (U_CONNECTING stays set) */
#define U_RD_WANTS_WR	0x200u
#define U_WR_WANTS_RD	0x400u

struct upconn {
	struct pc_io	 io;
	struct pc_timer	 timer;
	struct pc_defer	 free_later;
	struct worker	*w;
	struct target	*tgt;
	struct upconn	*next;		/* pool list */
	struct exchange	*ex;		/* NULL while pooled */
	struct pc_buf	 in;
	struct ssl_st	*ssl;		/* NULL: plain */
	uint16_t	 flags;
};

enum body_kind { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

/*
 * One HTTP/2 stream (h2.c). It outlives its exchange: the exchange ends (and is logged) once
 * the whole response is in <body>, and the stream keeps the bytes until DATA frames took
 * them and the stream closed.
 */
struct h2stream {
	int32_t		 id;
	struct h2conn	*h;
	struct exchange	*ex;		/* NULL once the exchange ended */
	struct h2stream	*prev, *next;	/* the connection's streams */
	struct pc_buf	 body;		/* response body for DATA frames */
	size_t		 body_off;
	uint32_t	 unconsumed;	/* request DATA bytes not yet returned to flow control */
	bool		 body_eof;	/* <body> holds the end of the response */
	bool		 deferred;	/* the data source said "later": resume when bytes come */
	bool		 rst_after;	/* reset (NO_ERROR) once the response's END_STREAM is out */
	bool		 goaway_after;	/* GOAWAY (NO_ERROR) then, too: req->close_after */
};

struct exchange {
	struct pc_req	 req;
	struct conn	*c;
	struct h2stream	*st;		/* HTTP/2: the stream; NULL: HTTP/1.1 (c->ex) */
	struct upconn	*up;
	struct target	*tgt;
	struct confslot	*slot;
	const struct pc_conf_upstream *ups;
	struct pc_str	 method;	/* copies in the arena: the head buffer is reused */
	struct pc_str	 raw_target;
	enum pc_method	 meth;
	/* request */
	struct pc_buf	 upout;		/* bytes waiting to be written to the upstream; with no
					 * body, the head stays here until the exchange ends, so a
					 * stale pooled connection can be retried */
	size_t		 upout_off;
	enum body_kind	 req_body;
	uint64_t	 req_left;	/* BODY_LENGTH: bytes still to read */
	uint64_t	 req_seen;	/* body bytes read so far */
	struct pc_chunked req_chunked;
	bool		 req_done;	/* whole request is in upout (or written) */
	bool		 expect;	/* client sent Expect: 100-continue */
	bool		 client_keepalive;
	bool		 client_v10;
	bool		 head_method;
	uint8_t		 tries;
	/* response */
	struct pc_msg	*resp;		/* in the arena */
	int		 status;
	enum body_kind	 resp_body;
	uint64_t	 resp_left;
	struct pc_chunked resp_chunked;
	bool		 resp_head_sent;
	bool		 resp_done;
	bool		 chunk_to_client;	/* re-encode the body as chunked for the client */
	bool		 up_keepalive;
	bool		 got_resp_byte;
	uint64_t	 bytes_in, bytes_out;
	uint64_t	 up_start_us, up_end_us;
	uint64_t	 deadline_ms;	/* total timeout */
	bool		 ended;		/* logged and detached; freed after this batch */
	bool		 connect_pending;	/* upstream connect deferred to the batch's end */
	/* Parking (exchange.c): the pipeline returned PC_WAIT. The request head is kept
	 * (ex->req.msg points at a copy in the arena; on HTTP/1.1 its bytes stay at the
	 * start of c->in, which is not read while parked), nothing goes upstream. */
	bool		 parked;
	unsigned	 park_phase;	/* the phase that parked, and until when it may */
	uint64_t	 park_deadline_ms;
	uint64_t	 park_gen;	/* worker wake_gen when parked: woken once per wake */
	size_t		 head_len;	/* HTTP/1.1: head bytes still at the start of c->in */
	struct pc_timer	 park_timer;
	struct exchange	*park_prev, *park_next;
	struct pc_defer	 connect_later;
	struct pc_defer	 free_later;
};

/* exchange.c */
PC_MUST_CHECK int pc_ex_new(struct conn *c, const struct pc_msg *msg, struct exchange **out);
void		 pc_ex_end(struct exchange *ex);
enum pc_reason	 pc_ex_start(struct exchange *ex, const struct pc_msg *msg);
void		 pc_ex_resume(struct exchange *ex);
void		 pc_ex_wake_parked(struct worker *w);	/* something a phase waits for came */
void		 pc_ex_done(struct exchange *ex);
void		 pc_ex_deny(struct exchange *ex, enum pc_reason reason, bool close);
struct pc_buf	*pc_ex_out(struct exchange *ex);
bool		 pc_ex_out_full(const struct exchange *ex);
PC_MUST_CHECK int pc_ex_response_head(struct exchange *ex);

/* h2.c */
PC_MUST_CHECK int pc_h2_start(struct conn *c);	/* after ALPN h2 or the h2c preface */
void		 pc_h2_step(struct conn *c);
void		 pc_h2_free(struct conn *c);
void		 pc_h2_drain(struct conn *c);
void		 pc_h2_ex_detach(struct exchange *ex);
void		 pc_h2_ex_error(struct exchange *ex, int status, enum pc_reason reason);
PC_MUST_CHECK int pc_h2_ex_response_head(struct exchange *ex);
void		 pc_h2_ex_kick(struct exchange *ex);
void		 pc_h2_ex_ready(struct exchange *ex);	/* upstream progress; may end <ex> */
void		 pc_h2_ex_resumed(struct exchange *ex, enum pc_reason reason);	/* unparked */
void		 pc_h2_ex_goaway(struct exchange *ex);	/* no more streams on this connection */
bool		 pc_h2_preface(const uint8_t *p, size_t n, bool *complete);

/* conn.c */
void		 pc_conn_accept(struct worker *w, unsigned lidx, int fd,
    const struct sockaddr_storage *ss);
void		 pc_conn_close(struct conn *c);
void		 pc_conn_linger(struct conn *c);	/* output flushed: half-close, drain, close */
ssize_t		 pc_conn_read(struct conn *c, size_t want);
PC_MUST_CHECK int pc_conn_flush(struct conn *c);
void		 pc_conn_drain(struct worker *w);
/* Called by the upstream side when it made progress the client side must see. */
void		 pc_conn_kick(struct conn *c);
/* The same, once, after the current batch of events: what several upstreams produced in
 * one batch leaves in one write (HTTP/2: many streams, one TLS record). */
void		 pc_conn_kick_later(struct conn *c);
void		 pc_conn_ex_resumed(struct exchange *ex, enum pc_reason reason);	/* unparked */
void		 pc_exchange_fail(struct exchange *ex, enum pc_reason reason);
void		 pc_exchange_resp_ready(struct exchange *ex);

/* upstream.c */
PC_MUST_CHECK int pc_up_start(struct exchange *ex);	/* pick a target, connect or reuse */
void		 pc_up_drive(struct upconn *up);
void		 pc_up_release(struct exchange *ex, bool reusable);
void		 pc_up_worker_fini(struct worker *w);
struct target	*pc_up_target(struct worker *w, const struct pc_addr *addr, const char *pool_key);

/* h1_out.c; a field callback returns 0 or a negative PC_E* */
typedef int	(*pc_field_cb)(void *arg, struct pc_str name, struct pc_str value);
PC_MUST_CHECK int pc_out_response_fields(struct exchange *ex, pc_field_cb add, void *arg);
PC_MUST_CHECK int pc_out_error_fields(const struct pc_req *req, enum pc_reason reason,
    pc_field_cb add, void *arg);
int		 pc_out_error_body(char *body, size_t size, const struct pc_req *req, int status,
    enum pc_reason reason);
PC_MUST_CHECK int pc_out_request_head(struct exchange *ex, const struct pc_msg *msg,
    struct conn *c);
PC_MUST_CHECK int pc_out_response_head(struct exchange *ex, struct pc_buf *out);
PC_MUST_CHECK int pc_out_error(struct pc_buf *out, const struct pc_req *req, int status,
    enum pc_reason reason, bool close);
PC_MUST_CHECK int pc_out_chunk(struct pc_buf *out, const char *data, size_t len);

/* sockio.c */
#define PC_SOCK_ERROR	(-1)
#define PC_SOCK_AGAIN	(-2)
ssize_t		 pc_sock_read(int fd, struct ssl_st *ssl, void *buf, size_t len,
    unsigned *wait);
PC_MUST_CHECK int pc_send_pending(int fd, struct ssl_st *ssl, const struct pc_buf *b,
    size_t *off, unsigned *wait);

/* bufcache.c */
void		 pc_buf_take(struct worker *w, struct pc_buf *b);
void		 pc_buf_give(struct worker *w, struct pc_buf *b);
struct pc_arena	*pc_arena_take(struct worker *w, size_t max);
void		 pc_arena_give(struct worker *w, struct pc_arena *a);
void		 pc_cache_fini(struct worker *w);

/* server.c */
void		 pc_worker_conf_release(struct worker *w, struct confslot *slot);
void		 pc_worker_conn_closed(struct worker *w);

#endif
