/*
 * http/http_int.h - private to http/: the character rules both message parsers (HTTP/1.1
 * heads and HTTP/2 header lists) apply, defined once in h1_parse.c.
 */
#ifndef PC_HTTP_INT_H
#define PC_HTTP_INT_H

#include "core/core.h"

bool	 pc_http__token_ok(struct pc_str s);	/* RFC 9110 5.6.2 token, non-empty */
bool	 pc_http__value_ok(struct pc_str v);	/* field-value bytes: VCHAR obs-text SP HTAB */
bool	 pc_http__target_ok(struct pc_str t);	/* request-target bytes: 0x21-0x7E but '#' */
bool	 pc_http__host_ok(struct pc_str h);	/* reg-name / IPv4 / [IPv6], optional :port */

#endif
