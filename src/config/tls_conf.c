/*
 * config/tls_conf.c - the TLS keys: listen entries in mapping form (address, tls:,
 *     redirect_https:), a listener's tls: section, an upstream's tls: section, and building
 *     their contexts with tls/.
 * Owns: the meaning, defaults and cross-checks of those keys, relative certificate paths,
 *     an upstream's pool key, and where a context error points in the file.
 * Does not: read certificates or keys, or speak to OpenSSL (tls/ does, in pc_tls_server_new
 *     and pc_tls_client_new).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config/config_int.h"
#include "core/banned.h"

#define CERTS_MAX		16
#define HSTS_DEFAULT		"max-age=31536000"
#define HSTS_MAX		256
#define POOL_KEY_MAX		(4 * PATH_MAX + 512)

/* A context to build once the whole file has been read and checked. */
struct pc_conf_tls_job {
	struct pc_conf_tls_job		*next;
	bool				 server;
	unsigned			 idx;		/* listener or upstream index */
	const struct pc_conf_node	*at;		/* the tls key: section-wide errors */
	const struct pc_conf_node	*cert_at[CERTS_MAX];	/* each certificates entry */
	struct pc_tls_cert_conf		 certs[CERTS_MAX];
	struct pc_tls_server_conf	 sc;
	struct pc_tls_client_conf	 cc;
};

static struct pc_conf_tls_job *
job_new(struct pc_conf_loader *ld, const struct pc_conf_node *at, bool server, unsigned idx)
{
	struct pc_conf_tls_job *j = pc_arena_zalloc(ld->arena, sizeof(*j));

	if (j == NULL) {
		(void)pc_conf__oom(ld, at);
		return NULL;
	}
	j->server = server;
	j->idx = idx;
	j->at = at;
	if (ld->tls_last != NULL)
		ld->tls_last->next = j;
	else
		ld->tls_jobs = j;
	ld->tls_last = j;
	return j;
}

/*
 * A certificate, key, CA or CRL path: non-empty, and a relative one is made relative to the
 * configuration file's directory, so that the file means the same thing whatever directory
 * the gateway was started from. From memory there is no file: the current directory.
 * *<out> lives in the loader's arena.
 */
int
pc_conf__get_path(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    const char *key, const char **out)
{
	char		 full[PATH_MAX];
	struct pc_str	 s;
	int		 rc, k;

	if ((rc = pc_conf__get_str(ld, n, ctx, key, &s)) != 0)
		return rc;
	if (s.len == 0)
		return pc_conf__fail(ld, n, "%s%s: expected a file path, found an empty value",
		    ctx, key);
	if (s.ptr[0] == '/' || ld->from_mem)
		k = snprintf(full, sizeof(full), "%.*s", PC_STR_FMT(s));
	else
		k = snprintf(full, sizeof(full), "%s/%.*s", ld->dir, PC_STR_FMT(s));
	if (k < 0 || (size_t)k >= sizeof(full))
		return pc_conf__fail(ld, n, "%s%s: the path is longer than %d bytes", ctx, key,
		    PATH_MAX - 1);
	*out = pc_arena_strdup(ld->arena, pc_str_make(full, (size_t)k));
	return *out == NULL ? pc_conf__oom(ld, n) : 0;
}

static int
get_min_version(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    enum pc_tls_version *out)
{
	struct pc_str	s;
	int		rc;

	if ((rc = pc_conf__get_str(ld, n, ctx, "min_version", &s)) != 0)
		return rc;
	if (pc_str_eq(s, PC_STR("1.2"))) {
		*out = PC_TLS_1_2;
		return 0;
	}
	if (pc_str_eq(s, PC_STR("1.3"))) {
		*out = PC_TLS_1_3;
		return 0;
	}
	if (pc_str_eq(s, PC_STR("1.0")) || pc_str_eq(s, PC_STR("1.1")))
		return pc_conf__fail(ld, n, "%smin_version: TLS %s is not supported (RFC 8996 "
		    "deprecates TLS 1.0 and 1.1); expected \"1.2\" or \"1.3\"", ctx, n->val);
	return pc_conf__fail(ld, n, "%smin_version: expected \"1.2\" or \"1.3\", found '%s'", ctx,
	    pc_conf__showv(n).s);
}

/* ---- listeners ---- */

static uint16_t
addr_port(const struct pc_addr *a)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)(const void *)&a->ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)(const void *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return ntohs(sin->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(sin6->sin6_port);
	return 0;
}

/*
 * A Strict-Transport-Security value (RFC 6797 6.1): header-value characters, with a max-age
 * directive, since a browser ignores the header without one and the author would believe
 * HSTS is on.
 */
static bool
hsts_ok(struct pc_str s)
{
	struct pc_str	rest = s, d, v;
	size_t		i;
	bool		max_age = false;

	if (s.len == 0 || s.len > HSTS_MAX)
		return false;
	for (i = 0; i < s.len; i++)
		if (!((s.ptr[i] >= 0x20 && s.ptr[i] < 0x7f) || s.ptr[i] == '\t'))
			return false;
	while (rest.len > 0) {
		rest = pc_str_split(rest, ';', &d);
		d = pc_str_trim_ows(d);
		if (d.len >= 8 && pc_str_caseeq(pc_str_make(d.ptr, 8), PC_STR("max-age="))) {
			v = pc_str_make(d.ptr + 8, d.len - 8);
			if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
				v = pc_str_make(v.ptr + 1, v.len - 2);
			if (v.len == 0 || v.len > 10)
				return false;
			for (i = 0; i < v.len; i++)
				if (v.ptr[i] < '0' || v.ptr[i] > '9')
					return false;
			max_age = true;
		}
	}
	return max_age;
}

static int
get_hsts(struct pc_conf_loader *ld, struct pc_conf_listener *l, const struct pc_conf_node *n,
    const char *ctx)
{
	struct pc_str	s = PC_STR(HSTS_DEFAULT);
	int		rc;

	if (n != NULL) {
		if ((rc = pc_conf__get_str(ld, n, ctx, "hsts", &s)) != 0)
			return rc;
		if (pc_str_eq(s, PC_STR("off")))
			return 0;
		if (!hsts_ok(s))
			return pc_conf__fail(ld, n, "%shsts: expected \"off\" or a "
			    "Strict-Transport-Security value with max-age=<seconds> (RFC 6797), "
			    "found '%s'", ctx, pc_conf__showv(n).s);
	}
	l->hsts = pc_conf__dup_str(ld, n, s);
	return l->hsts == NULL ? -PC_ENOMEM : 0;
}

static int
get_certificates(struct pc_conf_loader *ld, struct pc_conf_tls_job *j,
    const struct pc_conf_node *v, unsigned idx)
{
	static const char *const keys[] = { "cert", "key" };
	const struct pc_conf_node	*vals[2], *kn[2], *e;
	char				 ctx[64], where[80];
	int				 rc;

	(void)snprintf(ctx, sizeof(ctx), "listen[%u].tls.", idx);
	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SEQ, ctx, "certificates")) != 0)
		return rc;
	if (v->n == 0 || v->n > CERTS_MAX)
		return pc_conf__fail(ld, v, "%scertificates: expected 1 to %d entries, found %u",
		    ctx, CERTS_MAX, v->n);
	for (e = v->first; e != NULL; e = e->next) {
		unsigned i = j->sc.ncerts;

		(void)snprintf(ctx, sizeof(ctx), "listen[%u].tls.certificates[%u]", idx, i);
		(void)snprintf(where, sizeof(where), "in %s", ctx);
		if (e->kind != PC_NODE_MAP)
			return pc_conf__fail(ld, e, "%s: expected a mapping with cert and key, "
			    "found %s", ctx, pc_conf__kind_name(e));
		if ((rc = pc_conf__map_keys(ld, e, keys, 2, where, vals, kn)) != 0)
			return rc;
		if (vals[0] == NULL || vals[1] == NULL)
			return pc_conf__fail(ld, e, "%s: missing required key '%s'", ctx,
			    vals[0] == NULL ? "cert" : "key");
		(void)snprintf(ctx, sizeof(ctx), "listen[%u].tls.certificates[%u].", idx, i);
		if ((rc = pc_conf__get_path(ld, vals[0], ctx, "cert", &j->certs[i].cert)) != 0 ||
		    (rc = pc_conf__get_path(ld, vals[1], ctx, "key", &j->certs[i].key)) != 0)
			return rc;
		j->cert_at[i] = e;
		j->sc.ncerts++;
	}
	j->sc.certs = j->certs;
	return 0;
}

static const char *const server_keys[] = { "certificates", "client_cert", "client_ca",
	"client_crl", "min_version", "session_tickets", "hsts", "http2" };
enum { SK_CERTS, SK_CLIENT_CERT, SK_CLIENT_CA, SK_CLIENT_CRL, SK_MIN_VERSION, SK_TICKETS,
	SK_HSTS, SK_HTTP2 };

static int
get_client_cert(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    enum pc_tls_client_cert *out)
{
	int rc;

	if ((rc = pc_conf__want_kind(ld, n, PC_NODE_SCALAR, ctx, "client_cert")) != 0)
		return rc;
	if (strcmp(n->val, "none") == 0)
		*out = PC_TLS_CLIENT_NONE;
	else if (strcmp(n->val, "optional") == 0)
		*out = PC_TLS_CLIENT_OPTIONAL;
	else if (strcmp(n->val, "required") == 0)
		*out = PC_TLS_CLIENT_REQUIRED;
	else
		return pc_conf__fail(ld, n, "%sclient_cert: expected none, optional or required, "
		    "found '%s'", ctx, pc_conf__showv(n).s);
	return 0;
}

static int
get_server_tls(struct pc_conf_loader *ld, struct pc_conf_impl *ci, unsigned idx,
    const struct pc_conf_node *k, const struct pc_conf_node *v)
{
	const struct pc_conf_node	*vals[PC_NELEM(server_keys)], *kn[PC_NELEM(server_keys)];
	struct pc_conf_listener		*l = &ci->pub.listeners[idx];
	struct pc_conf_tls_job		*j;
	char				 ctx[48], where[48];
	bool				 h2 = false;
	int				 rc;

	(void)snprintf(ctx, sizeof(ctx), "listen[%u].tls.", idx);
	(void)snprintf(where, sizeof(where), "in listen[%u].tls", idx);
	if (v->kind != PC_NODE_MAP)
		return pc_conf__fail(ld, v, "listen[%u].tls: expected a mapping, found %s", idx,
		    pc_conf__kind_name(v));
	rc = pc_conf__map_keys(ld, v, server_keys, PC_NELEM(server_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if ((j = job_new(ld, k, true, idx)) == NULL)
		return -PC_ENOMEM;
	j->sc.client_cert = PC_TLS_CLIENT_NONE;
	j->sc.min_version = PC_TLS_1_2;
	j->sc.session_tickets = true;
	if (vals[SK_CERTS] == NULL)
		return pc_conf__fail(ld, k, "listen[%u].tls: missing required key 'certificates'",
		    idx);
	if ((rc = get_certificates(ld, j, vals[SK_CERTS], idx)) != 0)
		return rc;
	if (vals[SK_CLIENT_CERT] != NULL &&
	    (rc = get_client_cert(ld, vals[SK_CLIENT_CERT], ctx, &j->sc.client_cert)) != 0)
		return rc;
	if (vals[SK_CLIENT_CA] != NULL && (rc = pc_conf__get_path(ld, vals[SK_CLIENT_CA], ctx,
	    "client_ca", &j->sc.client_ca)) != 0)
		return rc;
	if (vals[SK_CLIENT_CRL] != NULL && (rc = pc_conf__get_path(ld, vals[SK_CLIENT_CRL], ctx,
	    "client_crl", &j->sc.client_crl)) != 0)
		return rc;
	/* Asking for certificates without saying who signs them would accept any, or none:
	 * both fail open. A CA without asking is dead configuration that looks like mTLS. */
	if (j->sc.client_cert != PC_TLS_CLIENT_NONE && j->sc.client_ca == NULL)
		return pc_conf__fail(ld, vals[SK_CLIENT_CERT], "%sclient_cert: %s needs client_ca "
		    "(the CA bundle that signs client certificates)", ctx,
		    vals[SK_CLIENT_CERT]->val);
	if (j->sc.client_cert == PC_TLS_CLIENT_NONE && j->sc.client_ca != NULL)
		return pc_conf__fail(ld, kn[SK_CLIENT_CA], "%sclient_ca: only with client_cert: "
		    "optional or required (client_cert is none, so no certificate is asked)",
		    ctx);
	if (j->sc.client_crl != NULL && j->sc.client_ca == NULL)
		return pc_conf__fail(ld, kn[SK_CLIENT_CRL], "%sclient_crl: only with client_ca",
		    ctx);
	if (vals[SK_MIN_VERSION] != NULL &&
	    (rc = get_min_version(ld, vals[SK_MIN_VERSION], ctx, &j->sc.min_version)) != 0)
		return rc;
	if (vals[SK_TICKETS] != NULL && (rc = pc_conf__get_bool(ld, vals[SK_TICKETS], ctx,
	    "session_tickets", &j->sc.session_tickets)) != 0)
		return rc;
	if (vals[SK_HTTP2] != NULL &&
	    (rc = pc_conf__get_bool(ld, vals[SK_HTTP2], ctx, "http2", &h2)) != 0)
		return rc;
	j->sc.alpn_h2 = h2;
	l->http2 = h2;
	if (j->sc.client_cert != PC_TLS_CLIENT_NONE)
		ci->client_cert_asked = true;
	return get_hsts(ld, l, vals[SK_HSTS], ctx);
}

static const char *const listen_keys[] = { "address", "tls", "redirect_https", "hsts", "h2c" };
enum { LK_ADDRESS, LK_TLS, LK_REDIRECT, LK_HSTS, LK_H2C };

int
pc_conf__get_listener(struct pc_conf_loader *ld, struct pc_conf_impl *ci,
    const struct pc_conf_node *e, unsigned idx)
{
	const struct pc_conf_node	*vals[PC_NELEM(listen_keys)], *kn[PC_NELEM(listen_keys)];
	struct pc_conf_listener		*l = &ci->pub.listeners[idx];
	char				 ctx[32], where[32];
	uint32_t			 port;
	int				 rc;

	l->line = e->line;
	if (e->kind == PC_NODE_SCALAR)
		return pc_conf__get_addr(ld, e, "", "listen", &l->addr);
	if (e->kind != PC_NODE_MAP)
		return pc_conf__fail(ld, e, "listen[%u]: expected an address or a mapping, "
		    "found %s", idx, pc_conf__kind_name(e));
	(void)snprintf(ctx, sizeof(ctx), "listen[%u].", idx);
	(void)snprintf(where, sizeof(where), "in listen[%u]", idx);
	rc = pc_conf__map_keys(ld, e, listen_keys, PC_NELEM(listen_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if (vals[LK_ADDRESS] == NULL)
		return pc_conf__fail(ld, e, "listen[%u]: missing required key 'address'", idx);
	if ((rc = pc_conf__get_addr(ld, vals[LK_ADDRESS], ctx, "address", &l->addr)) != 0)
		return rc;
	/* The key exists only to say where HSTS goes: a plain listener cannot send it (RFC
	 * 6797 8.1: browsers ignore it over plain HTTP). */
	if (vals[LK_HSTS] != NULL)
		return pc_conf__fail(ld, kn[LK_HSTS], vals[LK_TLS] != NULL ?
		    "listen[%u].hsts: set it inside tls: (tls.hsts)" :
		    "listen[%u].hsts: only a TLS listener sends Strict-Transport-Security "
		    "(browsers ignore it over plain HTTP)", idx);
	if (vals[LK_REDIRECT] != NULL) {
		if (vals[LK_TLS] != NULL)
			return pc_conf__fail(ld, kn[LK_REDIRECT], "listen[%u].redirect_https: "
			    "only a plain listener redirects to HTTPS; this one has tls", idx);
		rc = pc_conf__get_u32(ld, vals[LK_REDIRECT], ctx, "redirect_https", 1, 65535,
		    &port);
		if (rc != 0)
			return rc;
		if (port == addr_port(&l->addr))
			return pc_conf__fail(ld, vals[LK_REDIRECT], "listen[%u].redirect_https: "
			    "%u is this listener's own port, which does not speak TLS", idx,
			    (unsigned)port);
		l->redirect_https = (uint16_t)port;
	}
	if (vals[LK_H2C] != NULL) {
		/* Prior knowledge only (RFC 9113 3.3): the Upgrade dance of RFC 7540 3.2 was
		 * removed from HTTP/2 and would add a second parser for no client. */
		if (vals[LK_TLS] != NULL)
			return pc_conf__fail(ld, kn[LK_H2C], "listen[%u].h2c: only a plain "
			    "listener speaks cleartext HTTP/2; with tls, set tls.http2", idx);
		if ((rc = pc_conf__get_bool(ld, vals[LK_H2C], ctx, "h2c", &l->h2c)) != 0)
			return rc;
	}
	if (vals[LK_TLS] != NULL)
		return get_server_tls(ld, ci, idx, kn[LK_TLS], vals[LK_TLS]);
	return 0;
}

/* ---- upstreams ---- */

/*
 * server_name: a DNS name, stored lower case. IP literals are refused: SNI carries only
 * host names (RFC 6066 3), and without server_name the target's IP is what gets checked.
 */
static int
get_server_name(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *ctx,
    const char **out)
{
	struct in6_addr	 a6;
	struct pc_str	 s;
	char		 buf[254], *p;
	size_t		 i, label = 0;
	bool		 alldigits = true;
	int		 rc;

	if ((rc = pc_conf__get_str(ld, n, ctx, "server_name", &s)) != 0)
		return rc;
	if (s.len == 0 || s.len >= sizeof(buf))
		goto bad;
	if (s.ptr[0] == '[' || (memchr(s.ptr, ':', s.len) != NULL &&
	    inet_pton(AF_INET6, n->val, &a6) == 1))
		goto ip;
	for (i = 0; i <= s.len; i++) {
		char c = i < s.len ? s.ptr[i] : '\0';

		if (c >= 'A' && c <= 'Z')
			c = (char)(c | 0x20);
		if (c == '.' || c == '\0') {
			/* Labels: 1..63 characters, no hyphen at either end (RFC 1123). */
			if (label == 0 || label > 63 || buf[i - 1] == '-')
				goto bad;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			if (c == '-' && label == 0)
				goto bad;
			if (c < '0' || c > '9')
				alldigits = false;
			label++;
		} else {
			goto bad;
		}
		buf[i] = c;
	}
	/* An all-numeric name is an IPv4 literal, or a typo of one. */
	if (alldigits)
		goto ip;
	p = pc_arena_strdup(ld->arena, pc_str_make(buf, s.len));
	if (p == NULL)
		return pc_conf__oom(ld, n);
	*out = p;
	return 0;
ip:
	return pc_conf__fail(ld, n, "%sserver_name: '%s' is an IP address; omit server_name to "
	    "check the target's IP address", ctx, pc_conf__showv(n).s);
bad:
	return pc_conf__fail(ld, n, "%sserver_name: invalid host name '%s' (expected a DNS name "
	    "such as api.internal)", ctx, pc_conf__showv(n).s);
}

/*
 * One field of the pool key: "-" when absent; '%', '|' and a lone "-" percent-encoded, so
 * that two different configurations never produce the same key (a shared pool would hand
 * one upstream's connections, checked against another CA or name, to the other).
 */
static int
pool_field(struct pc_buf *b, const char *s)
{
	int rc = pc_buf_addc(b, '|');

	if (rc != 0)
		return rc;
	if (s == NULL)
		return pc_buf_addc(b, '-');
	if (strcmp(s, "-") == 0)
		return pc_buf_add_str(b, PC_STR("%2D"));
	for (; *s != '\0' && rc == 0; s++) {
		if (*s == '%')
			rc = pc_buf_add_str(b, PC_STR("%25"));
		else if (*s == '|')
			rc = pc_buf_add_str(b, PC_STR("%7C"));
		else
			rc = pc_buf_addc(b, *s);
	}
	return rc;
}

/* "tls|<server_name or ->|<ca or ->|<cert or ->|<verify 1/0>|<min>" */
static int
pool_key(struct pc_conf_loader *ld, struct pc_conf_upstream *u, const struct pc_conf_node *at,
    const struct pc_tls_client_conf *cc)
{
	struct pc_buf	 b;
	char		*key = NULL;
	int		 rc;

	pc_buf_init(&b, POOL_KEY_MAX);
	rc = pc_buf_add_str(&b, PC_STR("tls"));
	if (rc == 0)
		rc = pool_field(&b, cc->server_name);
	if (rc == 0)
		rc = pool_field(&b, cc->ca);
	if (rc == 0)
		rc = pool_field(&b, cc->cert);
	if (rc == 0)
		rc = pc_buf_printf(&b, "|%d|%s", cc->verify ? 1 : 0,
		    cc->min_version == PC_TLS_1_3 ? "1.3" : "1.2");
	if (rc == 0)
		key = pc_conf__dup_str(ld, at, pc_str_make((const char *)b.data, b.len));
	pc_buf_fini(&b);
	if (rc != 0)
		return pc_conf__oom(ld, at);
	if (key == NULL)
		return -PC_ENOMEM;
	/* Replaces the plain upstreams' "". */
	free(u->pool_key);
	u->pool_key = key;
	return 0;
}

static const char *const client_keys[] = { "verify", "ca", "server_name", "cert", "key",
	"min_version" };
enum { CK_VERIFY, CK_CA, CK_SERVER_NAME, CK_CERT, CK_KEY, CK_MIN_VERSION };

int
pc_conf__get_upstream_tls(struct pc_conf_loader *ld, struct pc_conf_upstream *u, unsigned idx,
    const struct pc_conf_node *k, const struct pc_conf_node *v)
{
	const struct pc_conf_node	*vals[PC_NELEM(client_keys)], *kn[PC_NELEM(client_keys)];
	struct pc_conf_tls_job		*j;
	char				 ctx[96], where[112];
	int				 rc;

	(void)snprintf(ctx, sizeof(ctx), "upstream '%s': tls.", u->name);
	(void)snprintf(where, sizeof(where), "in the tls of upstream '%s'", u->name);
	if (v->kind != PC_NODE_MAP)
		return pc_conf__fail(ld, v, "upstream '%s': tls: expected a mapping, found %s",
		    u->name, pc_conf__kind_name(v));
	rc = pc_conf__map_keys(ld, v, client_keys, PC_NELEM(client_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if ((j = job_new(ld, k, false, idx)) == NULL)
		return -PC_ENOMEM;
	j->cc.verify = true;
	j->cc.min_version = PC_TLS_1_2;
	if (vals[CK_VERIFY] != NULL &&
	    (rc = pc_conf__get_bool(ld, vals[CK_VERIFY], ctx, "verify", &j->cc.verify)) != 0)
		return rc;
	if (vals[CK_CA] != NULL && (rc = pc_conf__get_path(ld, vals[CK_CA], ctx, "ca", &j->cc.ca)) != 0)
		return rc;
	if (vals[CK_SERVER_NAME] != NULL && (rc = get_server_name(ld, vals[CK_SERVER_NAME],
	    ctx, &j->cc.server_name)) != 0)
		return rc;
	if (vals[CK_CERT] != NULL &&
	    (rc = pc_conf__get_path(ld, vals[CK_CERT], ctx, "cert", &j->cc.cert)) != 0)
		return rc;
	if (vals[CK_KEY] != NULL &&
	    (rc = pc_conf__get_path(ld, vals[CK_KEY], ctx, "key", &j->cc.key)) != 0)
		return rc;
	if ((j->cc.cert == NULL) != (j->cc.key == NULL))
		return pc_conf__fail(ld, j->cc.cert == NULL ? kn[CK_KEY] : kn[CK_CERT],
		    "upstream '%s': tls: cert and key go together (%s is missing)", u->name,
		    j->cc.cert == NULL ? "cert" : "key");
	if (vals[CK_MIN_VERSION] != NULL &&
	    (rc = get_min_version(ld, vals[CK_MIN_VERSION], ctx, &j->cc.min_version)) != 0)
		return rc;
	u->tls_verify = j->cc.verify;
	return pool_key(ld, u, k, &j->cc);
}

/* ---- building the contexts ---- */

/* The tls/ message, printable: it names files, and a file name may hold anything. */
static void
show_tls_err(const struct pc_tls_err *e, int rc, char *out, size_t outlen)
{
	size_t i;

	if (e->msg[0] == '\0') {
		(void)snprintf(out, outlen, "%s", pc_strerror(rc));
		return;
	}
	for (i = 0; i + 1 < outlen && i < sizeof(e->msg) && e->msg[i] != '\0'; i++)
		out[i] = (e->msg[i] >= 0x20 && e->msg[i] < 0x7f) ? e->msg[i] : '?';
	out[i] = '\0';
}

int
pc_conf__tls_build(struct pc_conf_loader *ld, struct pc_conf *c)
{
	const struct pc_conf_tls_job	*j;
	const struct pc_conf_node	*at;
	struct pc_tls_err		 e;
	char				 msg[sizeof(e.msg)];
	int				 rc;

	for (j = ld->tls_jobs; j != NULL; j = j->next) {
		memset(&e, 0, sizeof(e));
		e.index = -1;
		if (j->server) {
			rc = pc_tls_server_new(&j->sc, &c->listeners[j->idx].tls, &e);
		} else {
			rc = pc_tls_client_new(&j->cc, &c->upstreams[j->idx].tls, &e);
		}
		if (rc == 0)
			continue;
		show_tls_err(&e, rc, msg, sizeof(msg));
		if (!j->server) {
			(void)pc_conf__fail(ld, j->at, "upstream '%s': tls: %s",
			    c->upstreams[j->idx].name, msg);
		} else if (e.index >= 0 && (unsigned)e.index < j->sc.ncerts) {
			at = j->cert_at[e.index];
			(void)pc_conf__fail(ld, at, "listen[%u].tls.certificates[%d]: %s", j->idx,
			    e.index, msg);
		} else {
			(void)pc_conf__fail(ld, j->at, "listen[%u].tls: %s", j->idx, msg);
		}
		return rc == -PC_ENOMEM ? rc : -PC_EINVAL;
	}
	return 0;
}
