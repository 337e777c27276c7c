/*
 * http/http.h - the public interface of http/: HTTP/1.1 message heads (RFC 9112), HTTP/2
 * request header lists (RFC 9113), chunked transfer coding, and path normalization.
 * Owns: bytes -> struct pc_msg and the normalized view of a request target.
 * Does not: touch sockets, allocate outside the caller's memory, or decide policy.
 */
#ifndef PC_HTTP_H
#define PC_HTTP_H

#include "core/core.h"

#define PC_HTTP_HDR_MAX	100	/* the hard ceiling; the configured count is <= this */

enum pc_method {
	PC_M_OTHER = 0,		/* a valid token we do not know: forwarded, never "safe" */
	PC_M_GET, PC_M_HEAD, PC_M_POST, PC_M_PUT, PC_M_DELETE, PC_M_PATCH, PC_M_OPTIONS,
	PC_M_TRACE, PC_M_CONNECT,
	PC_M_COUNT
};

struct pc_hdr {
	struct pc_str	 name;		/* as received (case kept); never empty */
	struct pc_str	 value;		/* OWS trimmed both ends */
};

/* Flags the parser sets from the framing and connection headers. */
#define PC_MSG_CHUNKED		0x01u	/* Transfer-Encoding: chunked (the only one allowed) */
#define PC_MSG_HAS_CL		0x02u	/* Content-Length present (content_length valid) */
#define PC_MSG_CONN_CLOSE	0x04u	/* Connection: close */
#define PC_MSG_CONN_KEEPALIVE	0x08u	/* Connection: keep-alive (matters for HTTP/1.0) */
#define PC_MSG_EXPECT_CONTINUE	0x10u	/* Expect: 100-continue */
#define PC_MSG_CONN_UPGRADE	0x20u	/* Connection: upgrade (not supported; logged) */

/*
 * One parsed message head. Every pc_str borrows from the buffer given to the parser, which
 * must outlive the message. Request fields are empty in a response and vice versa.
 */
struct pc_msg {
	/* request line */
	struct pc_str	 method;
	enum pc_method	 meth;
	struct pc_str	 target;	/* raw request-target, origin-form "/..." or "*" (OPTIONS) */
	/* status line */
	int		 status;	/* 100..599 */
	struct pc_str	 reason_phrase;
	/* both */
	int		 version_minor;	/* HTTP/1.<minor>: 0 or 1 */
	uint32_t	 flags;		/* PC_MSG_* */
	uint64_t	 content_length;/* valid iff PC_MSG_HAS_CL */
	struct pc_str	 host;		/* the Host field value (requests), trimmed */
	size_t		 head_len;	/* bytes of the head, including the final CRLF CRLF */
	uint16_t	 nhdrs;
	struct pc_hdr	 hdrs[PC_HTTP_HDR_MAX];
};

struct pc_h1_limits {
	size_t		 request_line_max;	/* bytes, excluding CRLF; over it: PC_R_LIMIT_URI */
	size_t		 head_max;		/* bytes of the whole header block: PC_R_LIMIT_HEADERS */
	unsigned	 hdr_count_max;		/* <= PC_HTTP_HDR_MAX: PC_R_LIMIT_HEADERS */
};

/*
 * Parses one request head from <buf>/<len> into <msg>; <msg> borrows from <buf>.
 * Streaming: call again with more bytes after -PC_EAGAIN (it re-parses from the start;
 * the caller may skip calls until "\r\n\r\n" has arrived).
 * Returns the head length (>0), -PC_EAGAIN if incomplete (already checked so far: a limit
 * that is already exceeded is reported at once, not after the whole head), or -PC_EPROTO /
 * -PC_ETOOBIG with *<reason> set to the PC_R_* that says why.
 */
PC_MUST_CHECK int pc_h1_parse_request(const char *buf, size_t len,
    const struct pc_h1_limits *lim, struct pc_msg *msg, enum pc_reason *reason);

/*
 * Parses one response head (status line + fields) from an upstream. Same contract as
 * pc_h1_parse_request(); 1xx responses are returned like any other (the caller loops).
 */
PC_MUST_CHECK int pc_h1_parse_response(const char *buf, size_t len,
    const struct pc_h1_limits *lim, struct pc_msg *msg, enum pc_reason *reason);

/*
 * An HTTP/2 request's header list -> <msg> (RFC 9113 8.2, 8.3): init, one call per field in
 * the order received (names and values must outlive <msg>: the caller copies them out of
 * the HPACK decoder), then finish once the list is complete. Each returns 0, -PC_EPROTO
 * (malformed) or -PC_ETOOBIG (over <list_max> bytes counted as RFC 9113 6.5.2 does, or over
 * <count_max> fields), with r->reason the first PC_R_* that applied, except that crossing
 * <list_max> always makes it PC_R_LIMIT_HEADERS (an oversized list is an attack whatever
 * else is wrong with it); after an error the list must still be fed to the end (only its
 * size is counted), so the HPACK state stays in step. <msg>: method, meth, target (:path), host (:authority, else host), flags/
 * content_length, version_minor 1, and the regular fields (cookies joined, te/host/
 * content-length/expect left out).
 */
struct pc_h2_req {
	struct pc_msg	*msg;
	struct pc_arena	*arena;		/* for the joined Cookie */
	struct pc_str	 authority, host;
	size_t		 list_bytes, list_max, cookie_bytes;
	unsigned	 count_max, ncookies;
	unsigned	 pseudo;	/* which pseudo-header fields were seen */
	bool		 regular_seen;
	enum pc_reason	 reason;
};
void		 pc_h2_req_init(struct pc_h2_req *r, struct pc_msg *msg, struct pc_arena *a,
    size_t list_max, unsigned count_max);
int		 pc_h2_req_field(struct pc_h2_req *r, struct pc_str name, struct pc_str value);
PC_MUST_CHECK int pc_h2_req_finish(struct pc_h2_req *r, bool end_stream);

/* Case-insensitive lookup of the first field named <name>; NULL if absent. */
const struct pc_hdr *pc_msg_header(const struct pc_msg *msg, struct pc_str name);
enum pc_method	 pc_method_from_str(struct pc_str m);
const char	*pc_method_name(enum pc_method m);	/* "GET"...; "" for PC_M_OTHER */
bool		 pc_method_is_idempotent(enum pc_method m);	/* RFC 9110 9.2.2 */
/* True if the field is hop-by-hop (RFC 9110 7.6.1) or named in <msg>'s Connection field. */
bool		 pc_h1_is_hop_header(const struct pc_msg *msg, struct pc_str name);
/* Checks the invariants the fuzzers assert: bounds inside buf, counts, flags consistent. */
bool		 pc_msg_invariants_ok(const struct pc_msg *msg, const char *buf, size_t len);

/*
 * Streaming chunked decoder (RFC 9112 7.1). Feed it bytes; it hands back the data parts.
 * Chunk extensions are parsed and dropped; trailer fields are parsed and dropped.
 */
struct pc_chunked {
	uint64_t	 remaining;	/* data bytes left in the current chunk */
	uint32_t	 line_len;	/* bytes of the current size/trailer line so far */
	uint8_t		 state;		/* private */
	uint8_t		 ndigits;
	uint16_t	 ntrailers;
};
void		 pc_chunked_init(struct pc_chunked *c);
/*
 * Decodes from <in>/<len>. On return *<consumed> bytes of <in> were used, and if
 * *<data_len> > 0 then <in> + *<data_off> .. + *<data_len> is body data (always inside the
 * consumed part). Call again with the rest. Returns 1 when the final chunk and trailers have
 * been consumed (message complete), 0 to continue, -PC_EPROTO (bad size, sign, "0x",
 * overflow, missing CRLF, bare CR/LF) or -PC_ETOOBIG (a size line or trailer over the limits).
 */
PC_MUST_CHECK int pc_chunked_decode(struct pc_chunked *c, const char *in, size_t len,
    size_t *consumed, size_t *data_off, size_t *data_len);
bool		 pc_chunked_done(const struct pc_chunked *c);

/*
 * The normalized view of a request target (RFC 3986 6.2.2): what routing, authorization and
 * the upstream all see.
 */
struct pc_path {
	char		*path;		/* NUL-terminated, starts with '/' */
	size_t		 path_len;
	struct pc_str	 query;		/* raw query without '?', borrowed from the target; may be empty */
	bool		 has_query;	/* a '?' was present (even if the query is empty) */
};

/*
 * Normalizes origin-form <target> into <out>: decodes percent-encoded unreserved characters
 * (and re-encodes nothing else), uppercases remaining percent-encoding hex digits, resolves
 * "." and ".." segments, and merges nothing else ("//" stays: it is meaningful upstream).
 * <out->path> is written into <dst> (capacity <dst_cap>, at least target.len + 1 suffices).
 * Returns 0, or -PC_EPROTO with *<reason> one of PC_R_PATH_*: encoded '/', '\\' or NUL,
 * raw backslash, invalid percent-encoding, invalid/overlong UTF-8 (raw or decoded), control
 * characters, ".." above the root, a target that is not origin-form.
 */
PC_MUST_CHECK int pc_path_normalize(struct pc_str target, char *dst, size_t dst_cap,
    struct pc_path *out, enum pc_reason *reason);

#endif
