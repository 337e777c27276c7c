/*
 * demo/demo_int.h - private to demo/: the seams between the HTTP server (upstream.c), the
 * rides API it serves (rides.c) and the JSON both use (json.c).
 */
#ifndef PC_DEMO_INT_H
#define PC_DEMO_INT_H

#include "core/core.h"
#include "http/http.h"

#define PC_DEMO_BODY_MAX	(64u * 1024)	/* request body, after chunked decoding */
#define PC_DEMO_RESP_MAX	(1024u * 1024)	/* one response body */

/* One API response: the server adds the framing and the demo's own headers. */
struct pc_demo_resp {
	int		 status;
	const char	*allow;		/* set with 405: the methods the path supports */
	char		 location[64];	/* set with 201: the new resource's path, else "" */
	struct pc_buf	 body;		/* JSON; the caller initializes and frees it */
};

/*
 * Answers one request: <meth> on <target> (origin-form, query allowed) with the decoded
 * request <body>. HEAD is answered as GET; the server drops the body. Thread-safe.
 * Returns 0 with <resp> filled in, or -PC_ENOMEM / -PC_ETOOBIG if the response did not
 * fit (the server then answers 500 itself).
 */
PC_MUST_CHECK int pc_demo__rides_handle(enum pc_method meth, struct pc_str target,
    struct pc_str body, struct pc_demo_resp *resp);

/* ---- json.c: JSON out, a writer with a sticky error so a handler checks once, at the end */

#define PC_DEMO_JW_DEPTH_MAX	8

struct pc_demo_jw {
	struct pc_buf	*b;
	int		 err;				/* first error; later calls do nothing */
	unsigned	 depth;
	bool		 more[PC_DEMO_JW_DEPTH_MAX];	/* a value already written at this level */
};

void		 pc_demo__jw_init(struct pc_demo_jw *w, struct pc_buf *b);
/* Each call writes one value: <key> names it inside an object and is NULL inside arrays. */
void		 pc_demo__jw_open(struct pc_demo_jw *w, const char *key, char brace);	/* { [ */
void		 pc_demo__jw_close(struct pc_demo_jw *w, char brace);
/* A JSON string; NULL or "" is written as null. Valid UTF-8 passes through unescaped. */
void		 pc_demo__jw_str(struct pc_demo_jw *w, const char *key, const char *v);
void		 pc_demo__jw_uint(struct pc_demo_jw *w, const char *key, uint64_t v);
void		 pc_demo__jw_tenths(struct pc_demo_jw *w, const char *key, unsigned x10);  /* 4.8 */

/* ---- json.c: JSON in, one flat object of scalars ---- */

#define PC_DEMO_JSON_FIELDS_MAX	16

enum pc_demo_jkind {
	PC_DEMO_J_STRING, PC_DEMO_J_NUMBER, PC_DEMO_J_TRUE, PC_DEMO_J_FALSE, PC_DEMO_J_NULL
};

struct pc_demo_jfield {
	struct pc_str		 key;	/* decoded, valid UTF-8 */
	enum pc_demo_jkind	 kind;
	struct pc_str		 val;	/* STRING: decoded, valid UTF-8, no NUL; NUMBER: as written */
};

struct pc_demo_jobj {
	struct pc_demo_jfield	 f[PC_DEMO_JSON_FIELDS_MAX];
	unsigned		 n;
	const char		*err;	/* why parsing failed, for the 400 body */
};

/*
 * Parses <body> as one JSON object whose values are scalars into <o>. Decoded strings are
 * written to <scratch> (body.len bytes suffice) and <o> borrows from it and from <body>.
 * Returns 0, or -PC_EPROTO with o->err saying why.
 */
PC_MUST_CHECK int pc_demo__json_object(struct pc_str body, char *scratch,
    struct pc_demo_jobj *o);
const struct pc_demo_jfield *pc_demo__json_get(const struct pc_demo_jobj *o, struct pc_str key);
bool		 pc_demo__utf8_valid(struct pc_str s);	/* RFC 3629: no overlongs, surrogates */

/* ---- upstream.c ---- */

/* The running upstream's bound address ("127.0.0.1:18080"), or NULL. */
const char	*pc_demo__upstream_text(void);

/* ---- rides.c ---- */

/* Forgets created trips and ratings: each start of the upstream begins from the seed data. */
void		 pc_demo__rides_reset(void);

#endif
