/*
 * proxy/proxy.h - the public interface of proxy/: routing, client connections, upstream
 * pools, forwarding and the response filter.
 */
#ifndef PC_PROXY_H
#define PC_PROXY_H

#include "config/config.h"
#include "http/http.h"

#include "route/route.h"

#endif
