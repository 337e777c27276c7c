/*
 * proxy/proxy.h - the public interface of proxy/: the server (worker threads, listeners),
 * client connections, upstream pools, forwarding and the response filter.
 * Owns: sockets and the bytes on them. Decisions come from the pipeline.
 */
#ifndef PC_PROXY_H
#define PC_PROXY_H

#include "config/config.h"

struct pc_server;

/*
 * Binds every listener of <conf> (SO_REUSEPORT, one socket per worker) and prepares the
 * workers, without starting them (privileges are dropped in between). <conf> must already
 * be published with pc_conf_publish(). Returns the server, or NULL with the reason in
 * <err> (e.g. "listen 127.0.0.1:80: Permission denied").
 */
struct pc_server *pc_server_start(const struct pc_conf *conf, char *err, size_t errlen);
/* Starts the worker threads: from here on connections are accepted. 0 or -PC_E*. */
PC_MUST_CHECK int pc_server_run(struct pc_server *srv, char *err, size_t errlen);
/* Tells every worker that a new configuration was published (after a reload). */
void		 pc_server_reload(struct pc_server *srv);
/* Thread-safe: every worker runs the phases of its parked requests again (something they
 * wait for, a key set or an introspection answer, has arrived). No-op when not running. */
void		 pc_server_wake(void);
/* Stops accepting, lets in-flight requests finish for up to <drain_ms>, joins the workers
 * and frees the server. */
void		 pc_server_stop(struct pc_server *srv, uint32_t drain_ms);

#endif
