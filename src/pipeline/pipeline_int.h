/*
 * pipeline/pipeline_int.h - private to pipeline/: the phases that live in their own files.
 */
#ifndef PC_PIPELINE_INT_H
#define PC_PIPELINE_INT_H

#include "pipeline/pipeline.h"

/* authn.c */
enum pc_verdict	 pc_authn_run(struct pc_req *req);
enum pc_verdict	 pc_authz_run(struct pc_req *req);

/* guard.c (docs/decisions/0013): the guard phase refuses a locked-out client address (429,
 * Retry-After) on routes with auth: or login: true. Every deny of the authenticate phase
 * goes through pc_guard_failed(): `return pc_guard_failed(req, reason);` counts the failure
 * against req->client_ip and req->claimed_id and returns the deny, delayed (PC_WAIT) past
 * the thresholds, or 429 when this failure starts a lockout. pc_guard_succeeded() forgets
 * the identity's failures once req->principal is set. */
enum pc_verdict	 pc_guard_run(struct pc_req *req);
enum pc_verdict	 pc_guard_failed(struct pc_req *req, enum pc_reason reason);
void		 pc_guard_succeeded(struct pc_req *req);

#endif
