/*
 * pipeline/pipeline.h - the public interface of pipeline/: the request (struct pc_req), the
 * ordered table of phases that decide about it, verdicts and denies.
 * Owns: the ORDER of phases and the report-only rule. Each decision lives in its phase's
 * module; the proxy owns the sockets and runs the pipeline once a request head is parsed.
 */
#ifndef PC_PIPELINE_H
#define PC_PIPELINE_H

#include "config/config.h"
#include "http/http.h"
#include "route/route.h"

#define PC_REQ_ID_MAX	128

enum pc_verdict {
	PC_NEXT,	/* go on to the next phase */
	PC_WAIT,	/* parked: pc_req_wait() or pc_req_deny_after(); the proxy resumes it */
	PC_DENY,	/* stop: req->deny_* say why; log runs anyway */
};

/*
 * One request. Every field has one writing phase, named in its comment; everyone else reads.
 */
struct pc_req {
	struct pc_arena	*arena;		/* owns everything below that is not borrowed */
	const struct pc_conf *conf;	/* snapshot for the whole request (reload-safe) */
	const struct pc_msg *msg;	/* set by: parse (borrowed from the connection buffer) */
	struct pc_path	 view;		/* set by: normalize; read by: route, authz, forward, log */
	const struct pc_conf_route *route;	/* set by: route; read by: all later phases, log */
	struct pc_route_params params;	/* set by: route */
	enum pc_reason	 deny_reason;	/* set by: the runner, from the denying phase */
	int		 deny_status;
	const char	*deny_phase;
	const char	*detail;	/* set by: the denier, optional: what failed (static text) */
	enum pc_reason	 would_deny;	/* set by: the runner, report-only */
	const char	*would_deny_phase;
	struct pc_str	 client_ip;	/* set by: accept (connection), read by: log, forward */
	const struct pc_conf_listener *listener;	/* set by: accept; in <conf> */
	const struct pc_tls_peer *peer;	/* set by: TLS handshake (borrowed from the
					 * connection): the verified client certificate, or NULL */
	bool		 tls;		/* set by: accept: the request came over TLS */
	struct pc_principal *principal;	/* set by: authenticate; read by: authorize, log */
	struct pc_jwt_cache *jwt_cache;	/* set by: accept (the worker's); read by: authenticate */
	struct pc_str	 location;	/* set by: redirect; the 308 target */
	char		 id[PC_REQ_ID_MAX + 1];	/* set by: parse (kept if valid, else generated) */
	size_t		 id_len;
	uint64_t	 start_us;	/* monotonic */
	uint64_t	 wall_us;	/* realtime, for the log */
	unsigned	 next_phase;	/* runner state */
	/* Parking (pc_req_wait, pc_req_deny_after): read by the proxy, which arms a timer and
	 * runs the pipeline again from the parked phase when woken or when the time is up. */
	uint32_t	 wait_ms;	/* set by: the parking phase */
	bool		 wait_expired;	/* set by: the proxy: the phase runs again after its
					 * time ran out (it must decide now: no second wait) */
	bool		 deny_pending;	/* set by: pc_req_deny_after: the runner returns the
					 * recorded deny on resume without running anything */
	uint32_t	 retry_after_s;	/* set by: a denying phase: Retry-After on the answer */
	bool		 close_after;	/* set by: a denying phase: no keep-alive after the
					 * answer (HTTP/1.1: each new try costs a connection) */
	struct pc_str	 claimed_id;	/* set by: authenticate: who a failed credential claimed
					 * to be (unverified; for failure counting, never trusted) */
};

struct pc_phase {
	const char	*name;
	enum pc_verdict	(*run)(struct pc_req *req);
	bool		 may_report_only;	/* parse/normalize/route: never */
};

/* Records a deny on <req> and returns PC_DENY: `return pc_req_deny(req, PC_R_X);` */
enum pc_verdict	 pc_req_deny(struct pc_req *req, enum pc_reason reason);

/*
 * Parks the request: `return pc_req_wait(req, 2000);`. The proxy stops reading the
 * request, arms a timer of <max_ms> and runs the SAME phase again when pc_server_wake()
 * is called (any thread: something the phase waits for arrived) or when the time is up
 * (req->wait_expired is then true: the phase must decide, PC_NEXT or a deny). While parked
 * nothing is forwarded; a client that goes away ends the exchange as usual.
 */
enum pc_verdict	 pc_req_wait(struct pc_req *req, uint32_t max_ms);
/*
 * Records a deny whose answer leaves only after <delay_ms> (failed logins are slowed
 * down, STYLE: never by holding a worker). Returns PC_WAIT; on resume the runner returns
 * PC_DENY with the recorded reason. delay_ms 0 is pc_req_deny.
 */
enum pc_verdict	 pc_req_deny_after(struct pc_req *req, enum pc_reason reason,
    uint32_t delay_ms);

/*
 * Runs the phases from req->next_phase on. A deny from a phase that may run report-only,
 * while report-only is on (globally or for the route), is recorded as would_deny and the
 * request goes on. Returns PC_NEXT when every phase passed, PC_DENY (req->deny_* set), or
 * PC_WAIT.
 */
enum pc_verdict	 pc_pipeline_run(struct pc_req *req);
/* The same over an explicit table (unit tests of the runner). */
enum pc_verdict	 pc_pipeline_run_table(struct pc_req *req, const struct pc_phase *tab,
    unsigned n);

/* Sets req->id from a client X-Request-Id if valid ([A-Za-z0-9._-]{1,128}), else generates
 * 32 hex characters. Returns 0 or -PC_E* (no randomness: the caller denies with 500). */
PC_MUST_CHECK int pc_req_set_id(struct pc_req *req, struct pc_str client_id);
bool		 pc_req_id_is_valid(struct pc_str id);

/* pipeline/guard.c: the upstream answered <status> to <req>. On a route with login: true, a
 * 401 or 403 counts as a failed login of the client address (docs/decisions/0013). */
void		 pc_guard_login_status(struct pc_req *req, int status);

#endif
