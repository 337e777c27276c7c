/*
 * observe/observe.h - the public interface of observe/: the access log (one JSON line per
 * request), security events (one JSON line per deny or would_deny), and Prometheus metrics.
 * Owns: log sinks, line formats, counters. Read-only towards everything else; calls no one.
 * Thread model: any worker thread may call any function here; nothing takes a lock on the
 * request path (per-thread line buffers, relaxed atomics for counters).
 */
#ifndef PC_OBSERVE_H
#define PC_OBSERVE_H

#include "core/core.h"

/* Everything one access-log line says. Strings are borrowed for the duration of the call. */
struct pc_log_rec {
	uint64_t	 wall_us;	/* request start, CLOCK_REALTIME */
	struct pc_str	 request_id;
	struct pc_str	 client_ip;	/* the connection's peer (not X-Forwarded-For) */
	struct pc_str	 method;
	struct pc_str	 path;		/* normalized path (raw target if normalization failed) */
	struct pc_str	 route;		/* route name; empty if none matched */
	struct pc_str	 upstream;	/* target "ip:port"; empty if never forwarded */
	struct pc_str	 principal;	/* empty until authentication exists */
	struct pc_str	 http;		/* "1.1", "1.0" or "2" */
	struct pc_str	 tls;		/* "TLSv1.3" etc.; empty on plain connections */
	struct pc_str	 client_cert;	/* verified client certificate's SHA-256 (hex); or empty */
	struct pc_str	 client_subject;	/* its subject (RFC 2253); or empty */
	struct pc_str	 detail;	/* events: what failed, in a few words (never a secret) */
	int		 status;
	uint64_t	 bytes_in;	/* request head + body bytes read from the client */
	uint64_t	 bytes_out;	/* response bytes written to the client */
	int64_t		 upstream_us;	/* -1 if no upstream exchange */
	uint64_t	 total_us;
	const char	*phase;		/* deciding phase ("parse", "route", "forward", ...) or NULL */
	enum pc_reason	 reason;	/* PC_R_NONE if the request was not denied */
	enum pc_reason	 would_deny;	/* report-only: what would have denied it, or PC_R_NONE */
	const char	*would_deny_phase;
};

/*
 * Opens the sinks: <access> and <events> are "stdout", "off" or a file path (O_APPEND,
 * created 0640). Returns 0 or -PC_E* (nothing changed on error). Called at startup and reload.
 */
PC_MUST_CHECK int pc_observe_open(const char *access, const char *events);
/* Reopens the file sinks in place (SIGUSR1, log rotation): writers never see a closed fd. */
PC_MUST_CHECK int pc_observe_reopen(void);
void		 pc_observe_close(void);

void		 pc_log_access(const struct pc_log_rec *rec);
/* A security event for a deny (or would_deny) decided by <rec->phase>; written to events. */
void		 pc_log_event(const struct pc_log_rec *rec);
/* Operational messages ("listening on", "reload refused: ...") as JSON lines on stderr. */
void		 pc_log_info(const char *fmt, ...) PC_PRINTF(1, 2);
void		 pc_log_error(const char *fmt, ...) PC_PRINTF(1, 2);
/* Writes this thread's buffered lines; workers call it once per loop iteration. */
void		 pc_observe_flush(void);

/* Metrics. Route and upstream names are copied on first use (bounded table). */
void		 pc_metrics_request(struct pc_str route, int status, uint64_t total_us);
void		 pc_metrics_reject(enum pc_reason reason);
void		 pc_metrics_conn(int delta);	/* open client connections */
void		 pc_metrics_upstream_error(struct pc_str upstream, enum pc_reason reason);
/* Failed logins (pipeline/guard.c): every counted failure, every lockout started, every
 * failure answered late. */
enum pc_metric_auth { PC_METRIC_AUTH_FAILURE, PC_METRIC_AUTH_LOCKOUT, PC_METRIC_AUTH_DELAYED };
void		 pc_metrics_auth(enum pc_metric_auth what);
/* Appends the Prometheus text exposition (format 0.0.4) to <out>. */
PC_MUST_CHECK int pc_metrics_render(struct pc_buf *out);

#endif
