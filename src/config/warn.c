/*
 * config/warn.c - risk warnings about a loaded configuration (pc_conf_warnings).
 * Owns: what is worth a warning: plaintext or exposed listeners, upstreams whose TLS
 *     certificates are not verified, a read-only admin API, open trusted proxies,
 *     report-only mode, routes requiring a client certificate no listener asks for, public
 *     routes without a rate limit.
 * Does not: refuse a configuration; a warning never changes what is loaded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config/config_int.h"
#include "core/banned.h"

static bool
is_loopback(const struct pc_addr *a)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)(const void *)&a->ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)(const void *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && sin6->sin6_addr.s6_addr[12] == 127);
	return false;
}

static unsigned PC_PRINTF(5, 6)
warn(const struct pc_conf *c, int line, void (*cb)(void *, const char *), void *arg,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;
	int	n;

	n = snprintf(msg, sizeof(msg), "%s:%d: warning: ", c->path, line);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	(void)vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (cb != NULL)
		cb(arg, msg);
	return 1;
}

unsigned
pc_conf_warnings(const struct pc_conf *conf, void (*cb)(void *arg, const char *msg), void *arg)
{
	const struct pc_conf_impl	*ci = (const struct pc_conf_impl *)(const void *)conf;
	const struct pc_conf_route	*r;
	unsigned			 i, j, n = 0;

	for (i = 0; i < ci->nload_warnings; i++)
		n += warn(conf, ci->load_warnings[i].line, cb, arg, "%s", ci->load_warnings[i].msg);
	for (i = 0; i < conf->nlisteners; i++) {
		const struct pc_conf_listener *l = &conf->listeners[i];

		/* A redirecting listener carries no request anywhere: it only answers 308. */
		if (l->tls == NULL && l->redirect_https == 0 && !is_loopback(&l->addr))
			n += warn(conf, l->line, cb, arg, "listener %s is not on loopback and has "
			    "no TLS: its traffic is plaintext", l->addr.text);
	}
	for (i = 0; i < conf->nupstreams; i++)
		if (conf->upstreams[i].tls != NULL && !conf->upstreams[i].tls_verify)
			n += warn(conf, conf->upstreams[i].line, cb, arg, "upstream '%s' does not "
			    "verify its TLS certificates (tls.verify: false): anyone on the path can "
			    "read and change its traffic", conf->upstreams[i].name);
	if (conf->admin_enabled && !is_loopback(&conf->admin_addr))
		n += warn(conf, ci->admin_line ? ci->admin_line : 1, cb, arg, "admin listener %s "
		    "is not on loopback", conf->admin_addr.text);
	if (conf->admin_enabled && conf->admin_token == NULL)
		n += warn(conf, ci->admin_line ? ci->admin_line : 1, cb, arg, "admin API enabled "
		    "without admin.token: only /healthz is served");
	if (ci->open_proxy_line != 0)
		n += warn(conf, ci->open_proxy_line, cb, arg, "trusted_proxies contains %s: "
		    "every client can choose the address it is logged and limited as",
		    ci->open_proxy_text);
	if (conf->report_only)
		n += warn(conf, ci->report_only_line, cb, arg, "report_only is true: requests "
		    "that should be denied are logged and let through");
	for (i = 0; i < conf->napikeys; i++)
		if (conf->apikeys[i].query_param != NULL)
			n += warn(conf, conf->apikeys[i].line, cb, arg, "api_keys.%s reads keys "
			    "from the query (query_param): URLs end up in browser histories, "
			    "Referer headers and other servers' logs; prefer the header",
			    conf->apikeys[i].name);
	/* Routes in file order, which is how their author reads them. */
	for (j = 0; j < conf->nroutes; j++) {
		for (i = 0, r = NULL; i < conf->nroutes; i++)
			if (conf->routes[i].order == j)
				r = &conf->routes[i];
		if (r == NULL)
			continue;
		if (r->report_only)
			n += warn(conf, r->line, cb, arg, "route '%s' has report_only: true: "
			    "requests that should be denied are logged and let through", r->name);
		if ((r->client_cert || (r->auth_cert && r->nauth == 0 && r->napikeys == 0)) &&
		    !ci->client_cert_asked)
			n += warn(conf, r->line, cb, arg, "route '%s' requires a client "
			    "certificate but no listener asks for one (tls.client_cert): every "
			    "request to it is denied", r->name);
		if (r->upstream_token && !conf->admin_enabled)
			n += warn(conf, r->line, cb, arg, "route '%s' sends minted tokens "
			    "(upstream_token) but the admin listener is off: upstreams cannot "
			    "fetch the gateway's keys from /jwks.json", r->name);
		if (r->public_)
			n += warn(conf, r->line, cb, arg, "route '%s' is public and has no rate "
			    "limit (rate limits are not available yet)", r->name);
	}
	return n;
}
