/*
 * pipeline/pipeline_int.h - private to pipeline/: the phases that live in their own files.
 */
#ifndef PC_PIPELINE_INT_H
#define PC_PIPELINE_INT_H

#include "pipeline/pipeline.h"

/* authn.c */
enum pc_verdict	 pc_authn_run(struct pc_req *req);
enum pc_verdict	 pc_authz_run(struct pc_req *req);

#endif
