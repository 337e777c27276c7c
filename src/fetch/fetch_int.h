/*
 * fetch/fetch_int.h - private to fetch/ (and its unit tests).
 */
#ifndef PC_FETCH_INT_H
#define PC_FETCH_INT_H

#include "core/core.h"

/* The max-age of a Cache-Control field value <cc>, strictly (RFC 9111 5.2.2.1): seconds,
 * saturated at 2^31; 0 when absent, repeated or not plain delta-seconds. */
uint32_t	 pc_fetch__max_age(struct pc_str cc);

#endif
