/*
 * config/headers.c - header names and values that the file configures: response_headers,
 *     the routes' client_cert_header, and the set of headers stripped from every request.
 * Owns: which names may be configured (RFC 9110 tokens, minus the hop-by-hop, framing and
 *     per-message fields that portcullis manages itself), which values are safe to emit.
 * Does not: add, replace or strip anything on a message (proxy/ does, from struct pc_conf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "core/banned.h"

#define RESPONSE_HEADERS_MAX	32
#define HDR_NAME_MAX		64
#define HDR_VALUE_MAX		4096

/*
 * Fields the gateway must own: hop-by-hop (RFC 9110 7.6.1) and framing fields decide how
 * bytes are delimited, so a configured one is a smuggling or desync risk (RFC 9112 6.1);
 * Host picks the route; Date and Set-Cookie are per message, and one fixed value on every
 * response would be wrong, or would replace the upstream's session cookies.
 */
static const struct pc_str refused_names[] = {
	PC_STR_INIT("Connection"), PC_STR_INIT("Content-Length"),
	PC_STR_INIT("Transfer-Encoding"), PC_STR_INIT("Host"), PC_STR_INIT("Upgrade"),
	PC_STR_INIT("Keep-Alive"), PC_STR_INIT("TE"), PC_STR_INIT("Trailer"),
	PC_STR_INIT("Proxy-Connection"), PC_STR_INIT("Date"), PC_STR_INIT("Set-Cookie"),
};

/*
 * Fields the gateway writes itself (proxy/h1_out.c): a configured one would reach the peer
 * twice, or replace what the gateway vouches for (the client address, the request id).
 */
static const struct pc_str gateway_names[] = {
	PC_STR_INIT("X-Forwarded-For"), PC_STR_INIT("X-Forwarded-Proto"),
	PC_STR_INIT("X-Forwarded-Host"), PC_STR_INIT("Forwarded"), PC_STR_INIT("X-Real-IP"),
	PC_STR_INIT("X-Request-Id"), PC_STR_INIT("X-Content-Type-Options"),
};

/* tchar (RFC 9110 5.6.2) */
static bool
is_tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
pc_conf__header_name(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx)
{
	struct pc_str	s = pc_str_make(n->val, n->len);
	size_t		i;

	if (s.len == 0 || s.len > HDR_NAME_MAX)
		goto bad;
	for (i = 0; i < s.len; i++)
		if (!is_tchar(s.ptr[i]))
			goto bad;
	for (i = 0; i < PC_NELEM(refused_names); i++)
		if (pc_str_caseeq(s, refused_names[i]))
			return pc_conf__fail(ld, n, "%s'%s' cannot be configured: hop-by-hop, "
			    "framing and per-message headers are managed by portcullis", ctx,
			    pc_conf__showv(n).s);
	for (i = 0; i < PC_NELEM(gateway_names); i++)
		if (pc_str_caseeq(s, gateway_names[i]))
			return pc_conf__fail(ld, n, "%s'%s' cannot be configured: portcullis sets "
			    "it itself", ctx, pc_conf__showv(n).s);
	return 0;
bad:
	return pc_conf__fail(ld, n, "%s'%s' is not a valid header name (expected 1 to %d "
	    "characters of an RFC 9110 token: letters, digits and !#$%%&'*+-.^_`|~)", ctx,
	    pc_conf__showv(n).s, HDR_NAME_MAX);
}

/*
 * A field value emitted as is on every response: visible ASCII, SP and HTAB only (no CR or
 * LF, which would split the header; no obs-text), no whitespace at either end (RFC 9110
 * 5.5), and not empty.
 */
static int
header_value(struct pc_conf_loader *ld, const struct pc_conf_node *v, const char *name)
{
	size_t	i;
	int	rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SCALAR, "response_headers.", name)) != 0)
		return rc;
	if (v->len == 0)
		return pc_conf__fail(ld, v, "response_headers.%s: expected a non-empty value",
		    name);
	if (v->len > HDR_VALUE_MAX)
		return pc_conf__fail(ld, v, "response_headers.%s: the value is longer than %d "
		    "bytes", name, HDR_VALUE_MAX);
	for (i = 0; i < v->len; i++)
		if (!((v->val[i] >= 0x20 && v->val[i] < 0x7f) || v->val[i] == '\t'))
			return pc_conf__fail(ld, v, "response_headers.%s: the value may hold only "
			    "visible ASCII, spaces and tabs (no control characters, CR or LF)",
			    name);
	if (v->val[0] == ' ' || v->val[0] == '\t' || v->val[v->len - 1] == ' ' ||
	    v->val[v->len - 1] == '\t')
		return pc_conf__fail(ld, v, "response_headers.%s: the value must not start or end "
		    "with a space or tab", name);
	return 0;
}

int
pc_conf__get_response_headers(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v)
{
	const struct pc_conf_node	*k, *val, *p;
	struct pc_conf_header		*h;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "", "response_headers")) != 0)
		return rc;
	if (v->n / 2 > RESPONSE_HEADERS_MAX)
		return pc_conf__fail(ld, v, "response_headers: expected at most %d headers, found "
		    "%u", RESPONSE_HEADERS_MAX, v->n / 2);
	if (v->n == 0)
		return 0;
	c->response_headers = calloc(v->n / 2, sizeof(*c->response_headers));
	if (c->response_headers == NULL)
		return pc_conf__oom(ld, v);
	for (k = v->first; k != NULL; k = val->next) {
		val = k->next;
		if ((rc = pc_conf__header_name(ld, k, "response_headers: ")) != 0)
			return rc;
		if (pc_str_caseeq(pc_str_make(k->val, k->len),
		    PC_STR("Strict-Transport-Security")))
			return pc_conf__fail(ld, k, "response_headers: '%s' is sent by TLS "
			    "listeners only: set tls.hsts on the listener", k->val);
		/* Names are case-insensitive: two spellings would both be "the" value. */
		for (p = v->first; p != k; p = p->next->next)
			if (pc_str_caseeq(pc_str_make(p->val, p->len), pc_str_make(k->val, k->len)))
				return pc_conf__fail(ld, k, "response_headers: '%s' repeats '%s' "
				    "(line %d): header names are case-insensitive", k->val, p->val,
				    p->line);
		if ((rc = header_value(ld, val, k->val)) != 0)
			return rc;
		h = &c->response_headers[c->nresponse_headers];
		h->name = pc_conf__dup_str(ld, k, pc_str_make(k->val, k->len));
		if (h->name == NULL)
			return -PC_ENOMEM;
		c->nresponse_headers++;
		h->value = pc_conf__dup_str(ld, val, pc_str_make(val->val, val->len));
		if (h->value == NULL)
			return -PC_ENOMEM;
	}
	return 0;
}

int
pc_conf__strip_headers(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *at)
{
	const char	*h;
	unsigned	 i, j, n = 0;

	for (i = 0; i < c->nroutes; i++)
		if (c->routes[i].client_cert_header != NULL)
			n++;
	if (n == 0)
		return 0;
	c->strip_headers = calloc(n, sizeof(*c->strip_headers));
	if (c->strip_headers == NULL)
		return pc_conf__oom(ld, at);
	for (i = 0; i < c->nroutes; i++) {
		if ((h = c->routes[i].client_cert_header) == NULL)
			continue;
		for (j = 0; j < c->nstrip_headers; j++)
			if (pc_str_caseeq(pc_str_c(c->strip_headers[j]), pc_str_c(h)))
				break;
		if (j < c->nstrip_headers)
			continue;
		c->strip_headers[j] = pc_conf__dup_str(ld, at, pc_str_c(h));
		if (c->strip_headers[j] == NULL)
			return -PC_ENOMEM;
		c->nstrip_headers++;
	}
	return 0;
}
