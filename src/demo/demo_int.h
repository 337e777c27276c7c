/*
 * demo/demo_int.h - private to demo/: the seam between the HTTP server (upstream.c) and
 * the rides API it serves (rides.c).
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

/* upstream.c: the running upstream's bound address ("127.0.0.1:18080"), or NULL. */
const char	*pc_demo__upstream_text(void);

/* Forgets created trips and ratings: each start of the upstream begins from the seed data. */
void		 pc_demo__rides_reset(void);

#endif
