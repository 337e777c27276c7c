/*
 * config/introspect_conf.c - an issuer's introspection: block (RFC 7662, opaque access
 * tokens) and the rule that a route's auth: names at most one issuer with introspection.
 * Owns: the meaning and defaults of endpoint, client_id, client_secret, cache_s,
 * timeout_ms. Does not: call the endpoint or judge answers (auth/introspect.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_int.h"
#include "crypto/crypto.h"
#include "core/banned.h"

static const char *const intro_keys[] = { "endpoint", "client_id", "client_secret", "cache_s",
	"timeout_ms", "ca_file" };
enum { XK_ENDPOINT, XK_CLIENT_ID, XK_SECRET, XK_CACHE, XK_TIMEOUT, XK_CA_FILE };

/* What the configuration owns behind the auth/ view. */
struct owned {
	struct pc_introspect	 v;	/* first: the view's address is the object's */
	char			*endpoint, *ca_file, *user, *pass;
};

/*
 * RFC 6749 2.3.1: client_secret_basic encodes the id and the secret with
 * application/x-www-form-urlencoded before they are joined with ':' (so a ':' in either
 * cannot move the boundary). Returns a malloc'ed string, or NULL.
 */
static char *
form_encoded(struct pc_str s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *o;
	size_t			 i;

	if (s.len > 4096 || (out = malloc(3 * s.len + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '*' || c == '-' || c == '.' || c == '_') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* The cache's issuer half: answers of one endpoint for one client about one issuer. */
static void
make_tag(struct pc_introspect *v, struct pc_str client_id)
{
	struct pc_buf	b;
	int		rc;

	pc_buf_init(&b, 16384);
	rc = pc_buf_add_str(&b, pc_str_c(v->issuer->iss));
	rc |= pc_buf_addc(&b, '\0');
	rc |= pc_buf_add_str(&b, pc_str_c(v->endpoint));
	rc |= pc_buf_addc(&b, '\0');
	rc |= pc_buf_add_str(&b, client_id);
	if (rc == 0)
		pc_sha256(b.data, b.len, v->tag);
	else	/* cannot happen within the limits above; an issuer-unique tag all the same */
		pc_sha256(v->issuer->iss, strlen(v->issuer->iss), v->tag);
	pc_buf_fini(&b);
}

int
pc_conf__get_introspect(struct pc_conf_loader *ld, struct pc_conf_issuer *is,
    const struct pc_conf_node *v, const char *ctx, const struct pc_conf_node *ca_file,
    bool discovery)
{
	const struct pc_conf_node	*vals[PC_NELEM(intro_keys)], *kn[PC_NELEM(intro_keys)];
	struct owned			*o;
	struct pc_str			 s, id;
	const char			*path;
	char				 c2[128], where[128];
	int				 rc;

	(void)snprintf(c2, sizeof(c2), "%sintrospection.", ctx);
	(void)snprintf(where, sizeof(where), "in %sintrospection", ctx);
	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, ctx, "introspection")) != 0)
		return rc;
	rc = pc_conf__map_keys(ld, v, intro_keys, PC_NELEM(intro_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return pc_conf__oom(ld, v);
	is->introspect = &o->v;		/* freed with the issuer from here on */
	o->v.issuer = &is->v;
	/* Its own ca_file (an issuer of opaque tokens only has no key fetches to share
	 * one with), else the issuer's. */
	if (vals[XK_CA_FILE] != NULL)
		ca_file = vals[XK_CA_FILE];
	if (ca_file != NULL) {
		if ((rc = pc_conf__get_path(ld, ca_file, vals[XK_CA_FILE] != NULL ? c2 : ctx,
		    "ca_file", &path)) != 0)
			return rc;
		/* Found now, not at the first opaque token (every call would fail). */
		if (access(path, R_OK) != 0)
			return pc_conf__fail(ld, ca_file, "%sca_file: %s: %s", vals[XK_CA_FILE] !=
			    NULL ? c2 : ctx, path, strerror(errno));
		if ((o->ca_file = pc_conf__dup_str(ld, ca_file, pc_str_c(path))) == NULL)
			return -PC_ENOMEM;
		o->v.ca_file = o->ca_file;
	}
	o->v.cache_s = 60;
	o->v.timeout_ms = 3000;
	if (vals[XK_ENDPOINT] != NULL) {
		if ((rc = pc_conf__get_str(ld, vals[XK_ENDPOINT], c2, "endpoint", &s)) != 0)
			return rc;
		/* The answer decides who gets in: only over verified TLS. */
		if (!pc_str_has_prefix(s, PC_STR("https://")) || s.len <= 8)
			return pc_conf__fail(ld, vals[XK_ENDPOINT], "%sendpoint: expected an "
			    "https:// URL, found '%s'", c2, pc_conf__showv(vals[XK_ENDPOINT]).s);
		if ((o->endpoint = pc_conf__dup_str(ld, vals[XK_ENDPOINT], s)) == NULL)
			return -PC_ENOMEM;
		o->v.endpoint = o->endpoint;
	} else if (!discovery)
		return pc_conf__fail(ld, v, "%sintrospection: missing required key 'endpoint' "
		    "(without discovery: true there is no introspection_endpoint to use)", ctx);
	if (vals[XK_CLIENT_ID] == NULL)
		return pc_conf__fail(ld, v, "%sintrospection: missing required key 'client_id' "
		    "(the endpoint authenticates the gateway)", ctx);
	if ((rc = pc_conf__get_str(ld, vals[XK_CLIENT_ID], c2, "client_id", &id)) != 0)
		return rc;
	if (id.len == 0)
		return pc_conf__fail(ld, vals[XK_CLIENT_ID], "%sclient_id: expected a client "
		    "identifier, found an empty one", c2);
	if (vals[XK_SECRET] == NULL)
		return pc_conf__fail(ld, v, "%sintrospection: missing required key "
		    "'client_secret'", ctx);
	/* A secret is never written in the file itself. */
	if (!vals[XK_SECRET]->only_subst)
		return pc_conf__fail(ld, vals[XK_SECRET], "%sclient_secret: must come from "
		    "${env:NAME} or ${file:PATH}, not from the configuration file itself", c2);
	if ((rc = pc_conf__get_str(ld, vals[XK_SECRET], c2, "client_secret", &s)) != 0)
		return rc;
	if (s.len == 0)
		return pc_conf__fail(ld, vals[XK_SECRET], "%sclient_secret: the substitution is "
		    "empty", c2);
	if ((o->user = form_encoded(id)) == NULL || (o->pass = form_encoded(s)) == NULL)
		return pc_conf__fail(ld, vals[o->user == NULL ? XK_CLIENT_ID : XK_SECRET],
		    "%s: client_id and client_secret: at most 4096 bytes each", c2);
	o->v.basic_user = o->user;
	o->v.basic_pass = o->pass;
	if (vals[XK_CACHE] != NULL && (rc = pc_conf__get_u32(ld, vals[XK_CACHE], c2, "cache_s",
	    1, 3600, &o->v.cache_s)) != 0)
		return rc;
	if (vals[XK_TIMEOUT] != NULL && (rc = pc_conf__get_u32(ld, vals[XK_TIMEOUT], c2,
	    "timeout_ms", 100, 60000, &o->v.timeout_ms)) != 0)
		return rc;
	make_tag(&o->v, id);
	return 0;
}

void
pc_conf__introspect_free(struct pc_introspect *v)
{
	struct owned *o = (struct owned *)v;

	if (o == NULL)
		return;
	free(o->endpoint);
	free(o->ca_file);
	free(o->user);
	if (o->pass != NULL)
		pc_secret_free(o->pass, strlen(o->pass));
	free(o);
}

int
pc_conf__route_introspect(struct pc_conf_loader *ld, struct pc_conf_route *r,
    const struct pc_conf_issuer *is, const struct pc_conf_node *at, const char *ctx)
{
	if (is->introspect == NULL)
		return 0;
	/* An opaque token says nothing about its issuer: it can go to one endpoint only. */
	if (r->introspect != NULL)
		return pc_conf__fail(ld, at, "%sauth: issuers '%s' and '%s' both use "
		    "introspection (an opaque token names no issuer: at most one per route)", ctx,
		    r->introspect->issuer->name, is->name);
	r->introspect = is->introspect;
	return 0;
}
