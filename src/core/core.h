/*
 * core/core.h - the public interface of core/: errors, reason codes, bounded strings and
 * buffers, the request arena, numbers, time, and the event loop with its timers.
 * Owns: nothing that knows about HTTP, configuration meaning or policy.
 */
#ifndef PC_CORE_H
#define PC_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_VERSION	"0.1.0"

#define PC_MUST_CHECK	__attribute__((warn_unused_result))
#define PC_UNUSED	__attribute__((unused))
#define PC_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define PC_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- errors (libuv UV_ERRNO_MAP style: negative values, one list) ---- */
#define PC_ERRLIST(X)							\
	X(NOMEM, "out of memory")					\
	X(TOOBIG, "limit exceeded")					\
	X(AGAIN, "need more input")					\
	X(PROTO, "protocol violation")					\
	X(RANGE, "value out of range")					\
	X(IO, "i/o error")						\
	X(INVAL, "invalid argument")					\
	X(NOENT, "not found")						\
	X(TIMEDOUT, "timed out")					\
	X(CONNREFUSED, "connection refused")				\
	X(CLOSED, "connection closed")

enum pc_err {
	PC_EOK = 0,
#define PC_ERR_ENUM(n, s) PC_E##n,
	PC_ERRLIST(PC_ERR_ENUM)
#undef PC_ERR_ENUM
	PC_E_COUNT
};

const char	*pc_strerror(int err);		/* accepts -PC_E* or PC_E* */
int		 pc_err_errno(int errnum);	/* errno -> -PC_E* */

/* ---- impossible conditions (HAProxy bug.h): input errors are never asserts ---- */
void		 pc_panic(const char *file, int line, const char *what) __attribute__((noreturn));
#define PC_ASSERT(c)	do { if (!(c)) pc_panic(__FILE__, __LINE__, #c); } while (0)

/* ---- deny reasons: stable codes that appear in logs, metrics and error bodies ---- */
#define PC_REASONLIST(X)						\
	X(NONE, 0, "none")						\
	X(HTTP_BAD_REQUEST_LINE, 400, "http_bad_request_line")		\
	X(HTTP_BAD_METHOD, 400, "http_bad_method")			\
	X(HTTP_BAD_VERSION, 400, "http_bad_version")			\
	X(HTTP_BAD_TARGET, 400, "http_bad_target")			\
	X(HTTP_BAD_HEADER, 400, "http_bad_header")			\
	X(HTTP_OBS_FOLD, 400, "http_obs_fold")				\
	X(HTTP_BAD_CHAR, 400, "http_bad_char")				\
	X(HTTP_HOST_MISSING, 400, "http_host_missing")			\
	X(HTTP_HOST_DUP, 400, "http_host_duplicate")			\
	X(HTTP_HOST_BAD, 400, "http_host_invalid")			\
	X(HTTP_CL_TE, 400, "http_cl_and_te")				\
	X(HTTP_CL_BAD, 400, "http_content_length_invalid")		\
	X(HTTP_CL_DUP, 400, "http_content_length_duplicate")		\
	X(HTTP_TE_BAD, 400, "http_transfer_encoding_invalid")		\
	X(HTTP_CHUNK_BAD, 400, "http_chunk_invalid")			\
	X(HTTP_EXPECT_BAD, 417, "http_expect_unsupported")		\
	X(HTTP_BODY_TRUNCATED, 400, "http_body_truncated")		\
	X(HTTP2_PROTOCOL, 400, "http2_protocol_error")			\
	X(HTTP2_FLOOD, 400, "http2_flood")				\
	X(HTTP2_RAPID_RESET, 400, "http2_rapid_reset")			\
	X(LIMIT_URI, 414, "limit_request_line")				\
	X(LIMIT_HEADERS, 431, "limit_headers")				\
	X(LIMIT_BODY, 413, "limit_body")				\
	X(PATH_BAD_ENCODING, 400, "path_bad_encoding")			\
	X(PATH_ENCODED_SLASH, 400, "path_encoded_slash")		\
	X(PATH_BACKSLASH, 400, "path_backslash")			\
	X(PATH_NUL, 400, "path_nul")					\
	X(PATH_BAD_UTF8, 400, "path_bad_utf8")				\
	X(PATH_TRAVERSAL, 400, "path_traversal")			\
	X(PATH_BAD, 400, "path_invalid")				\
	X(ROUTE_NOT_FOUND, 404, "route_not_found")			\
	X(ROUTE_METHOD, 404, "route_method_not_allowed")		\
	X(ROUTE_NOT_PUBLIC, 401, "route_no_authentication")		\
	X(AUTH_MISSING, 401, "auth_missing")				\
	X(AUTH_MALFORMED, 401, "auth_token_malformed")			\
	X(AUTH_TOO_LARGE, 401, "auth_token_too_large")			\
	X(AUTH_ALG, 401, "auth_alg_not_allowed")			\
	X(AUTH_CRIT, 401, "auth_crit_unsupported")			\
	X(AUTH_KEY_UNKNOWN, 401, "auth_key_unknown")			\
	X(AUTH_SIGNATURE, 401, "auth_bad_signature")			\
	X(AUTH_ISSUER, 401, "auth_issuer_unknown")			\
	X(AUTH_AUDIENCE, 401, "auth_audience")				\
	X(AUTH_EXPIRED, 401, "auth_expired")				\
	X(AUTH_NOT_YET_VALID, 401, "auth_not_yet_valid")		\
	X(AUTH_LIFETIME, 401, "auth_lifetime_too_long")			\
	X(AUTH_TYP, 401, "auth_typ")					\
	X(AUTH_CLAIM_MISSING, 401, "auth_claim_missing")		\
	X(AUTH_CERT_BINDING, 401, "auth_cert_binding")			\
	X(AUTH_AMBIGUOUS, 401, "auth_credentials_ambiguous")		\
	X(AUTH_APIKEY_MALFORMED, 401, "auth_apikey_malformed")		\
	X(AUTH_APIKEY_UNKNOWN, 401, "auth_apikey_unknown")		\
	X(AUTH_APIKEY_EXPIRED, 401, "auth_apikey_expired")		\
	X(AUTH_APIKEY_DISABLED, 401, "auth_apikey_disabled")		\
	X(AUTH_APIKEY_IN_QUERY, 401, "auth_apikey_in_query")		\
	X(AUTH_INACTIVE, 401, "auth_token_inactive")			\
	X(AUTH_KEYS_UNAVAILABLE, 503, "auth_keys_unavailable")		\
	X(AUTH_INTROSPECTION, 503, "auth_introspection_unavailable")	\
	X(AUTH_LOCKED_OUT, 429, "auth_locked_out")			\
	X(AUTHZ_SCOPE, 403, "authz_insufficient_scope")			\
	X(TLS_CLIENT_CERT_REQUIRED, 403, "tls_client_cert_required")	\
	X(TLS_HANDSHAKE, 400, "tls_handshake_failed")			\
	X(REDIRECT_HTTPS, 308, "redirect_https")			\
	X(TIMEOUT_HEADER, 408, "timeout_request_header")		\
	X(TIMEOUT_BODY, 408, "timeout_request_body")			\
	X(UPSTREAM_CONNECT, 502, "upstream_connect_failed")		\
	X(UPSTREAM_CONNECT_TIMEOUT, 502, "upstream_connect_timeout")	\
	X(UPSTREAM_RESET, 502, "upstream_reset")			\
	X(UPSTREAM_BAD_RESPONSE, 502, "upstream_bad_response")		\
	X(UPSTREAM_TLS, 502, "upstream_tls_failed")			\
	X(UPSTREAM_UNAVAILABLE, 503, "upstream_unavailable")		\
	X(UPSTREAM_TIMEOUT, 504, "upstream_timeout")			\
	X(OVERLOAD, 503, "overload")					\
	X(INTERNAL, 500, "internal_error")

enum pc_reason {
#define PC_REASON_ENUM(n, st, s) PC_R_##n,
	PC_REASONLIST(PC_REASON_ENUM)
#undef PC_REASON_ENUM
	PC_R_COUNT
};

const char	*pc_reason_name(enum pc_reason r);
int		 pc_reason_status(enum pc_reason r);
const char	*pc_status_text(int status);	/* "Not Found"; "" if unknown */

/* ---- strings: borrowed views, NOT NUL-terminated (HAProxy ist) ---- */
struct pc_str {
	const char	*ptr;
	size_t		 len;
};
#define PC_STR(lit)		((struct pc_str){ (lit), sizeof(lit) - 1 })
#define PC_STR_INIT(lit)	{ (lit), sizeof(lit) - 1 }
#define PC_STR_NULL		((struct pc_str){ NULL, 0 })
#define PC_STR_FMT(s)		(int)(s).len, (s).ptr	/* printf("%.*s", PC_STR_FMT(s)) */

static inline struct pc_str
pc_str_make(const char *p, size_t n)
{
	struct pc_str s = { p, n };
	return s;
}
struct pc_str	 pc_str_c(const char *cstr);		/* view of a C string; NULL -> empty */
bool		 pc_str_eq(struct pc_str a, struct pc_str b);
bool		 pc_str_caseeq(struct pc_str a, struct pc_str b);	/* ASCII case-insensitive */
bool		 pc_str_has_prefix(struct pc_str s, struct pc_str prefix);
/* Splits <s> at the first <sep>: <head> before it, returns the rest after it (or empty). */
struct pc_str	 pc_str_split(struct pc_str s, char sep, struct pc_str *head);
struct pc_str	 pc_str_trim_ows(struct pc_str s);	/* strips SP / HTAB both ends */

/* ---- numbers: digits only, no sign or space; overflow or > max -> -PC_ERANGE ---- */
PC_MUST_CHECK int pc_parse_u64(struct pc_str s, uint64_t max, uint64_t *out);

/* ---- owned growable buffer; fails past <max> (dynbuf) ---- */
struct pc_buf {
	uint8_t		*data;
	size_t		 len, cap, max;
};
void		 pc_buf_init(struct pc_buf *b, size_t max);
void		 pc_buf_fini(struct pc_buf *b);		/* frees, leaves b empty */
PC_MUST_CHECK int pc_buf_reserve(struct pc_buf *b, size_t extra);	/* 0 or -PC_ENOMEM/-PC_ETOOBIG */
PC_MUST_CHECK int pc_buf_add(struct pc_buf *b, const void *p, size_t n);
PC_MUST_CHECK int pc_buf_add_str(struct pc_buf *b, struct pc_str s);
PC_MUST_CHECK int pc_buf_addc(struct pc_buf *b, char c);
PC_MUST_CHECK int pc_buf_printf(struct pc_buf *b, const char *fmt, ...) PC_PRINTF(2, 3);
/* Decimal / lowercase hex without printf: these are on the per-request path. */
PC_MUST_CHECK int pc_buf_add_u64(struct pc_buf *b, uint64_t v);
PC_MUST_CHECK int pc_buf_add_hex(struct pc_buf *b, uint64_t v);
/* Appends <s> escaped as the inside of a JSON string (no quotes added). */
PC_MUST_CHECK int pc_buf_add_json_str(struct pc_buf *b, struct pc_str s);
void		 pc_buf_consume(struct pc_buf *b, size_t n);	/* drops n bytes from the front */

/* ---- base64url (RFC 4648 5), no padding; decoding is strict: no '=', no whitespace,
 * trailing bits must be zero (one text per byte string: RFC 7515 2, 7519) ---- */
#define PC_B64URL_ENCODED_LEN(n)	(((n) * 4 + 2) / 3)
#define PC_B64URL_DECODED_MAX(n)	((n) / 4 * 3 + 2)
/* Decodes <in> into <out> (<cap> bytes). 0 and *<outlen>, or -PC_EINVAL / -PC_ETOOBIG. */
PC_MUST_CHECK int pc_b64url_decode(struct pc_str in, uint8_t *out, size_t cap, size_t *outlen);
/* Encodes; returns the characters written (no NUL), 0 if <cap> is too small. */
size_t		 pc_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/* ---- arena: request/connection lifetime, hard cap, never aborts ---- */
struct pc_arena;
struct pc_arena	*pc_arena_new(size_t max_bytes);	/* NULL on OOM */
void		 pc_arena_free(struct pc_arena *a);	/* runs deferred cleanups; accepts NULL */
/* Runs the deferred cleanups and forgets every allocation, keeping one chunk for reuse. */
void		 pc_arena_reset(struct pc_arena *a);
void		*pc_arena_alloc(struct pc_arena *a, size_t n);	/* 16-aligned; NULL past the cap */
void		*pc_arena_zalloc(struct pc_arena *a, size_t n);
#define pc_arena_array(a, type, n) \
	((n) > SIZE_MAX / sizeof(type) ? NULL : (type *)pc_arena_zalloc((a), (n) * sizeof(type)))
char		*pc_arena_strdup(struct pc_arena *a, struct pc_str s);	/* NUL-terminated copy */
PC_MUST_CHECK int pc_arena_defer(struct pc_arena *a, void (*fn)(void *), void *arg);
size_t		 pc_arena_used(const struct pc_arena *a);	/* high-water mark, bytes */

/* ---- memory: secrets are wiped before free ---- */
void		 pc_secret_free(void *p, size_t n);
#define pc_free_null(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

/* ---- time ---- */
uint64_t	 pc_now_ms(void);	/* CLOCK_MONOTONIC, milliseconds */
uint64_t	 pc_now_us(void);	/* CLOCK_MONOTONIC, microseconds */
uint64_t	 pc_wall_us(void);	/* CLOCK_REALTIME, microseconds since the epoch */
/* Writes an RFC 3339 UTC timestamp with milliseconds, NUL-terminated, into out[32]. */
void		 pc_wall_format(uint64_t wall_us, char out[32]);

/* ---- random: from getrandom(2); fails closed ---- */
PC_MUST_CHECK int pc_random_bytes(void *out, size_t n);

/* ---- event loop: one per worker thread, edge-triggered epoll, min-heap timers ---- */
struct pc_loop;
struct pc_io;
struct pc_timer;
#define PC_IO_READ	0x1u
#define PC_IO_WRITE	0x2u
#define PC_IO_HUP	0x4u	/* peer closed or error: the handler should read to find out */
typedef void	(*pc_io_cb)(struct pc_loop *loop, struct pc_io *io, unsigned events);
typedef void	(*pc_timer_cb)(struct pc_loop *loop, struct pc_timer *t);

/* Embedded in the owner (connection, listener); the loop borrows it while registered. */
struct pc_io {
	int		 fd;
	pc_io_cb	 cb;
};
/* Embedded in the owner; idx is the heap slot (0 = not armed). */
struct pc_timer {
	uint64_t	 deadline_ms;
	uint32_t	 idx;
	pc_timer_cb	 cb;
};

struct pc_loop	*pc_loop_new(void);		/* NULL on failure */
void		 pc_loop_free(struct pc_loop *loop);
/* Registers <io> edge-triggered for read and write readiness; the callback gets every edge. */
PC_MUST_CHECK int pc_loop_add(struct pc_loop *loop, struct pc_io *io);
void		 pc_loop_del(struct pc_loop *loop, struct pc_io *io);	/* does not close fd */
void		 pc_timer_arm(struct pc_loop *loop, struct pc_timer *t, uint64_t delay_ms);
void		 pc_timer_disarm(struct pc_loop *loop, struct pc_timer *t);
static inline bool
pc_timer_armed(const struct pc_timer *t)
{
	return t->idx != 0;
}
/* Runs until pc_loop_stop(); returns 0, or -PC_E* if epoll itself failed. */
PC_MUST_CHECK int pc_loop_run(struct pc_loop *loop);
void		 pc_loop_stop(struct pc_loop *loop);	/* from the loop's own thread */
/* Thread-safe: wakes the loop and makes it call <cb>(<arg>) on its own thread (eventfd). */
void		 pc_loop_notify(struct pc_loop *loop);
void		 pc_loop_on_notify(struct pc_loop *loop, void (*cb)(struct pc_loop *, void *),
		    void *arg);
/* Calls <cb>(<arg>) after each batch of events and timers (log flushing, deferred frees). */
void		 pc_loop_on_iteration(struct pc_loop *loop, void (*cb)(struct pc_loop *, void *),
		    void *arg);
/* A deferred call; embedded in the object it frees, so deferring never allocates. */
struct pc_defer {
	struct pc_defer	*next;
	void		(*fn)(void *);
	void		*arg;
};
/*
 * Runs <fn>(<arg>) after the current batch of events: an owner closing an object from inside
 * a callback frees it this way, so a later event of the same batch never sees freed memory.
 * The owner sets io->fd = -1 when it closes the fd; events for such an io are skipped.
 * <d> (usually embedded in the object) must not be deferred again before it has run.
 * Deferred calls run in order; pc_loop_free() runs those still pending.
 */
void		 pc_loop_defer(struct pc_loop *loop, struct pc_defer *d, void (*fn)(void *),
		    void *arg);
uint64_t	 pc_loop_now_ms(const struct pc_loop *loop);	/* cached once per iteration */
void		*pc_loop_data(const struct pc_loop *loop);	/* owner's pointer */
void		 pc_loop_set_data(struct pc_loop *loop, void *data);

#endif
