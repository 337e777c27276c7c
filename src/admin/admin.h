/*
 * admin/admin.h - the public interface of admin/: the admin API on its own listener
 * (GET /metrics, GET /healthz), with its own authentication.
 * Owns: the admin socket and the one thread that serves it.
 * Does not: share a socket, a port or a code path with the proxy listeners, or change the
 *     configuration (read-only endpoints only, for now).
 */
#ifndef PC_ADMIN_H
#define PC_ADMIN_H

#include "config/config.h"

/*
 * Binds <addr> (SO_REUSEADDR, never SO_REUSEPORT: it can never share a port with a proxy
 * listener) and starts the admin thread, which serves one connection at a time.
 * Authentication is read from the current pc_conf_acquire() snapshot on every request:
 * with admin_token set, "Authorization: Bearer <token>" is required (else 401); without,
 * only loopback peers are served (else 403).
 * Returns 0, or -PC_E* with the reason logged (bind failure, already started).
 */
PC_MUST_CHECK int pc_admin_start(const struct pc_addr *addr);
/* pc_admin_start() in two steps, so privileges can be dropped in between: bind (may need
 * privilege), then start the thread (serves from then on). Each returns 0 or -PC_E*. */
PC_MUST_CHECK int pc_admin_bind(const struct pc_addr *addr);
PC_MUST_CHECK int pc_admin_run(void);
/* Stops the admin thread, joins it and closes the socket. Accepts "never started" and
 * "bound but never run". */
void		 pc_admin_stop(void);

#endif
