/*
 * observe/observe_int.h - private to observe/: what log.c and metrics.c need of each other.
 */
#ifndef PC_OBSERVE_INT_H
#define PC_OBSERVE_INT_H

#include "observe/observe.h"

/* metrics.c: counts a request that report-only mode let through although <reason> denies it. */
void		 pc_observe__count_would_deny(enum pc_reason reason);

/* log.c: lines lost on sink <sink> (0 access, 1 events) since start, for the metrics page. */
uint64_t	 pc_observe__log_dropped(unsigned sink);

#endif
