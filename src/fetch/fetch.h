/*
 * fetch/fetch.h - the public interface of fetch/: HTTPS requests the gateway makes itself
 * (JWK Sets, OIDC discovery documents, token introspection), made on one background thread
 * with libcurl, never on a worker's event loop.
 * Owns: the transport (TLS verification, timeouts, size limits, the queue). Does not: know
 * what the bytes mean (auth/ parses them) or touch requests (a completion callback and a
 * wake-up of the workers are all the proxy sees).
 */
#ifndef PC_FETCH_H
#define PC_FETCH_H

#include "core/core.h"

#define PC_FETCH_MAX_BYTES_DEFAULT	(1024 * 1024)

struct pc_fetch_result {
	int		 status;	/* HTTP status, 0 if no response (see error) */
	const char	*body;		/* NUL-terminated; valid during the callback only */
	size_t		 len;
	const char	*error;		/* NULL on a response; else why there is none (static
					 * or valid during the callback; never holds a secret) */
	uint32_t	 max_age_s;	/* Cache-Control max-age of the response, 0 if none */
};

struct pc_fetch_req {
	const char	*url;		/* https:// only */
	const char	*ca_file;	/* trust anchors; NULL: the system store */
	const char	*body;		/* NULL: GET; else POST application/x-www-form-urlencoded */
	size_t		 body_len;
	const char	*basic_user;	/* HTTP Basic (client_secret_basic), or NULL */
	const char	*basic_pass;
	uint32_t	 timeout_ms;	/* whole request; 0: 5000 */
	size_t		 max_bytes;	/* response body limit; 0: PC_FETCH_MAX_BYTES_DEFAULT */
	/* Called once, on the fetch thread, with the outcome. Must not block. */
	void		(*done)(void *arg, const struct pc_fetch_result *res);
	void		*arg;
};

/* Starts the fetch thread (once per process; 0 or -PC_E*). */
PC_MUST_CHECK int pc_fetch_start(void);
/* Stops it: queued requests complete with error "stopping". Idempotent. */
void		 pc_fetch_stop(void);
/* Queues a request; every string is copied. -PC_EAGAIN if the queue is full (bounded), or
 * -PC_EINVAL if the URL is not https://. <done> is called exactly once if 0 is returned. */
PC_MUST_CHECK int pc_fetch_submit(const struct pc_fetch_req *req);
/* The same, synchronously on the caller's thread (configuration load, `check`): <done> is
 * called on the caller's thread before it returns 0. Needs no running fetch thread. */
PC_MUST_CHECK int pc_fetch_sync(const struct pc_fetch_req *req);

/* Registers what wakes the workers after a completion (the proxy's pc_server_wake); the
 * fetch thread calls it after every <done>. */
void		 pc_fetch_on_complete(void (*wake)(void));
/* Registers a function the fetch thread calls about once a second with pc_now_ms() (the
 * key rings' refresh schedule, auth/keyring.c). It runs on the fetch thread, may submit,
 * must not block. */
void		 pc_fetch_on_tick(void (*tick)(uint64_t now_ms));

#endif
