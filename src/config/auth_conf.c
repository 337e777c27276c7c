/*
 * config/auth_conf.c - issuers: (who may sign the access tokens routes accept, and the rules
 * their tokens must meet) and a route's auth:, scopes: and bound_tokens:.
 * Owns: the meaning and defaults of those keys; reading each issuer's key set (through
 * auth/, which judges the keys). Does not: verify tokens (auth/) or look at requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_int.h"
#include "core/banned.h"

#define ISSUERS_MAX	64
#define LIST_MAX	16	/* audiences, algorithms, required claims, route auth */
#define SCOPES_MAX	32
#define JWKS_FILE_MAX	(1u << 20)

static const char *const issuer_keys[] = { "issuer", "audiences", "algorithms", "jwks_file",
	"hmac_secret", "leeway_s", "max_lifetime_s", "max_token_bytes", "require_typ",
	"required_claims", "scopes_claim", "roles_claim", "introspection", "jwks_uri",
	"discovery", "ca_file", "jwks_refresh_s", "jwks_min_refresh_s", "fetch_timeout_ms" };
enum { IK_ISSUER, IK_AUDIENCES, IK_ALGS, IK_JWKS, IK_HMAC, IK_LEEWAY, IK_LIFETIME,
	IK_MAX_BYTES, IK_TYP, IK_REQUIRED, IK_SCOPES_CLAIM, IK_ROLES_CLAIM, IK_INTROSPECT,
	IK_JWKS_URI, IK_DISCOVERY, IK_CA_FILE, IK_REFRESH, IK_MIN_REFRESH, IK_FETCH_TIMEOUT };

/* A list of 1..<max> non-empty strings (visible ASCII, no spaces) into a NULL-ended array. */
static int
get_strings(struct pc_conf_loader *ld, const struct pc_conf_node *v, const char *ctx,
    const char *key, unsigned max, char ***out, unsigned *n)
{
	const struct pc_conf_node	*e;
	char				**a;
	size_t				 i;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SEQ, ctx, key)) != 0)
		return rc;
	if (v->n == 0 || v->n > max)
		return pc_conf__fail(ld, v, "%s%s: expected 1 to %u entries, found %u", ctx, key,
		    max, v->n);
	a = calloc(v->n + 1, sizeof(*a));
	if (a == NULL)
		return pc_conf__oom(ld, v);
	*out = a;
	*n = 0;
	for (e = v->first; e != NULL; e = e->next) {
		struct pc_str s;

		if ((rc = pc_conf__get_str(ld, e, ctx, key, &s)) != 0)
			return rc;
		for (i = 0; i < s.len; i++)
			if (s.ptr[i] <= ' ' || s.ptr[i] == 0x7f)
				break;
		if (s.len == 0 || i < s.len)
			return pc_conf__fail(ld, e, "%s%s: '%s' is not a name (visible ASCII, no "
			    "spaces)", ctx, key, pc_conf__showv(e).s);
		if ((a[*n] = pc_conf__dup_str(ld, e, s)) == NULL)
			return -PC_ENOMEM;
		(*n)++;
	}
	return 0;
}

static int
get_algs(struct pc_conf_loader *ld, const struct pc_conf_node *v, const char *ctx,
    uint32_t *out)
{
	const struct pc_conf_node	*e;
	enum pc_jws_alg			 a;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SEQ, ctx, "algorithms")) != 0)
		return rc;
	if (v->n == 0)
		return pc_conf__fail(ld, v, "%salgorithms: expected at least one", ctx);
	*out = 0;
	for (e = v->first; e != NULL; e = e->next) {
		struct pc_str s;

		if ((rc = pc_conf__get_str(ld, e, ctx, "algorithms", &s)) != 0)
			return rc;
		a = pc_jws_alg_from_str(s);
		if (a == PC_ALG_NONE)
			return pc_conf__fail(ld, e, pc_str_caseeq(s, PC_STR("none")) ?
			    "%salgorithms: 'none' means unsigned tokens, which are never accepted" :
			    "%salgorithms: unknown algorithm '%s' (RS256..512, PS256..512, "
			    "ES256..512, EdDSA, HS256..512)", ctx, pc_conf__showv(e).s);
		*out |= 1u << a;
	}
	return 0;
}

struct warn_ctx {
	struct pc_conf_loader	*ld;
	struct pc_conf_impl	*ci;
	const char		*issuer;
	int			 line;
};

/* A key the set holds but that will not be used: reported by `check` and at start. */
static void
jwks_warn(void *arg, const char *msg)
{
	struct warn_ctx			*w = arg;
	struct pc_conf_load_warning	*v;
	char				 text[400];

	v = realloc(w->ci->load_warnings, (w->ci->nload_warnings + 1) * sizeof(*v));
	if (v == NULL)
		return;
	w->ci->load_warnings = v;
	(void)snprintf(text, sizeof(text), "issuer '%s': jwks_file: %s (skipped)", w->issuer,
	    msg);
	v[w->ci->nload_warnings].line = w->line;
	v[w->ci->nload_warnings].msg = strdup(text);
	if (v[w->ci->nload_warnings].msg != NULL)
		w->ci->nload_warnings++;
}

static int
read_jwks(struct pc_conf_loader *ld, struct pc_conf_impl *ci, struct pc_conf_issuer *is,
    const struct pc_conf_node *n, const char *ctx)
{
	struct warn_ctx	 w = { ld, ci, is->name, n->line };
	const char	*path;
	char		*buf, err[256];
	size_t		 len = 0;
	int		 fd, rc;

	if ((rc = pc_conf__get_path(ld, n, ctx, "jwks_file", &path)) != 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return pc_conf__fail(ld, n, "%sjwks_file: %s: %s", ctx, path, strerror(errno));
	buf = malloc(JWKS_FILE_MAX + 1);
	if (buf == NULL) {
		(void)close(fd);
		return pc_conf__oom(ld, n);
	}
	rc = pc_conf__read_fd(fd, buf, JWKS_FILE_MAX, &len);
	(void)close(fd);
	if (rc != 0) {
		free(buf);
		return pc_conf__fail(ld, n, "%sjwks_file: %s: %s", ctx, path, strerror(errno));
	}
	if (len > JWKS_FILE_MAX) {
		free(buf);
		return pc_conf__fail(ld, n, "%sjwks_file: %s: larger than %u bytes", ctx, path,
		    JWKS_FILE_MAX);
	}
	err[0] = '\0';
	rc = pc_jwks_parse(buf, len, &is->jwks, jwks_warn, &w, err, sizeof(err));
	free(buf);
	if (rc != 0)
		return pc_conf__fail(ld, n, "%sjwks_file: %s: %s", ctx, path, err);
	return 0;
}

/*
 * Remote keys: jwks_uri: or discovery: true, with their fetch settings, into a key ring
 * from auth/'s registry (a reload that keeps the source keeps the ring and its keys). No
 * fetch happens here: the loader stays offline (`run` and `check` prime the rings).
 */
static int
get_remote_keys(struct pc_conf_loader *ld, struct pc_conf_issuer *is,
    const struct pc_conf_node *v, const struct pc_conf_node **vals,
    const struct pc_conf_node **kn, const char *ctx)
{
	static const int		 remote_only[] = { IK_CA_FILE, IK_REFRESH,
		IK_MIN_REFRESH, IK_FETCH_TIMEOUT };
	struct pc_keyring_params	 p;
	struct pc_str			 s;
	const char			*path;
	char				*uri = NULL;
	bool				 disc = false;
	unsigned			 i;
	int				 rc;

	memset(&p, 0, sizeof(p));
	p.iss = is->iss;
	p.refresh_s = 300;
	p.min_refresh_s = 10;
	p.fetch_timeout_ms = 5000;
	if (vals[IK_DISCOVERY] != NULL && (rc = pc_conf__get_bool(ld, vals[IK_DISCOVERY], ctx,
	    "discovery", &disc)) != 0)
		return rc;
	if ((vals[IK_JWKS] != NULL) + (vals[IK_JWKS_URI] != NULL) + disc > 1)
		return pc_conf__fail(ld, v, "%sexactly one of jwks_file, jwks_uri and "
		    "discovery: true (one source of keys)", ctx);
	if (vals[IK_JWKS_URI] == NULL && !disc) {
		for (i = 0; i < PC_NELEM(remote_only); i++)
			if (kn[remote_only[i]] != NULL)
				return pc_conf__fail(ld, kn[remote_only[i]], "%s%s: only with "
				    "jwks_uri or discovery: true", ctx, issuer_keys[remote_only[i]]);
		return 0;
	}
	if (vals[IK_JWKS_URI] != NULL) {
		if ((rc = pc_conf__get_str(ld, vals[IK_JWKS_URI], ctx, "jwks_uri", &s)) != 0)
			return rc;
		if (!pc_str_has_prefix(s, PC_STR("https://")) || s.len <= 8)
			return pc_conf__fail(ld, vals[IK_JWKS_URI], "%sjwks_uri: expected an "
			    "https:// URL (keys are only fetched over verified TLS)", ctx);
		if ((uri = pc_conf__dup_str(ld, vals[IK_JWKS_URI], s)) == NULL)
			return -PC_ENOMEM;
		p.jwks_uri = uri;
	} else {
		if (strncmp(is->iss, "https://", 8) != 0 || strlen(is->iss) <= 8)
			return pc_conf__fail(ld, vals[IK_DISCOVERY], "%sdiscovery: the issuer must "
			    "be an https:// URL (its configuration is fetched from it)", ctx);
		p.discovery = true;
	}
	rc = 0;
	if (vals[IK_CA_FILE] != NULL) {
		if ((rc = pc_conf__get_path(ld, vals[IK_CA_FILE], ctx, "ca_file", &path)) != 0)
			goto out;
		if (access(path, R_OK) != 0) {
			rc = pc_conf__fail(ld, vals[IK_CA_FILE], "%sca_file: %s: %s", ctx, path,
			    strerror(errno));
			goto out;
		}
		p.ca_file = path;
	}
	if (vals[IK_REFRESH] != NULL && (rc = pc_conf__get_u32(ld, vals[IK_REFRESH], ctx,
	    "jwks_refresh_s", 1, 86400, &p.refresh_s)) != 0)
		goto out;
	if (vals[IK_MIN_REFRESH] != NULL && (rc = pc_conf__get_u32(ld, vals[IK_MIN_REFRESH],
	    ctx, "jwks_min_refresh_s", 1, 3600, &p.min_refresh_s)) != 0)
		goto out;
	if (p.min_refresh_s > p.refresh_s) {
		rc = pc_conf__fail(ld, vals[IK_MIN_REFRESH] != NULL ? vals[IK_MIN_REFRESH] :
		    vals[IK_REFRESH], "%sjwks_min_refresh_s: %u is more than jwks_refresh_s "
		    "(%u)", ctx, p.min_refresh_s, p.refresh_s);
		goto out;
	}
	if (vals[IK_FETCH_TIMEOUT] != NULL && (rc = pc_conf__get_u32(ld,
	    vals[IK_FETCH_TIMEOUT], ctx, "fetch_timeout_ms", 100, 60000,
	    &p.fetch_timeout_ms)) != 0)
		goto out;
	if ((rc = pc_keyring_acquire(&p, &is->v.ring)) != 0)
		rc = rc == -PC_ENOMEM ? pc_conf__oom(ld, v) : pc_conf__fail(ld, v,
		    "%sinvalid key source", ctx);
out:
	free(uri);
	return rc;
}

static int
get_hmac(struct pc_conf_loader *ld, struct pc_conf_issuer *is, const struct pc_conf_node *n,
    const char *ctx)
{
	char	err[160];
	int	rc;

	/* A shared secret is a secret: never written in the file itself. */
	if (!n->only_subst)
		return pc_conf__fail(ld, n, "%shmac_secret: must come from ${env:NAME} or "
		    "${file:PATH}, not from the configuration file itself", ctx);
	if ((rc = pc_conf__want_kind(ld, n, PC_NODE_SCALAR, ctx, "hmac_secret")) != 0)
		return rc;
	err[0] = '\0';
	if (pc_pkey_hmac((const uint8_t *)n->val, n->len, &is->hmac, err, sizeof(err)) != 0)
		return pc_conf__fail(ld, n, "%shmac_secret: %s", ctx, err);
	return 0;
}

static int
get_issuer(struct pc_conf_loader *ld, struct pc_conf_impl *ci, const struct pc_conf_node *k,
    const struct pc_conf_node *v, struct pc_conf_issuer *is)
{
	const struct pc_conf_node	*vals[PC_NELEM(issuer_keys)], *kn[PC_NELEM(issuer_keys)];
	struct pc_jwt_issuer		*j = &is->v;
	char				 ctx[96], where[96];
	struct pc_str			 s;
	uint64_t			 x;
	unsigned			 n;
	int				 rc;

	is->line = k->line;
	if (!pc_conf__name_ok(pc_str_make(k->val, k->len), 64, "_.-"))
		return pc_conf__fail(ld, k, "issuers: invalid name '%s' (expected "
		    "[A-Za-z0-9_.-]{1,64})", pc_conf__showv(k).s);
	if ((is->name = pc_conf__dup_str(ld, k, pc_str_make(k->val, k->len))) == NULL)
		return -PC_ENOMEM;
	(void)snprintf(ctx, sizeof(ctx), "issuers.%s.", is->name);
	(void)snprintf(where, sizeof(where), "in issuers.%s", is->name);
	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "issuers.", is->name)) != 0)
		return rc;
	rc = pc_conf__map_keys(ld, v, issuer_keys, PC_NELEM(issuer_keys), where, vals, kn);
	if (rc != 0)
		return rc;
	j->name = is->name;
	j->leeway_s = 30;
	j->max_lifetime_s = 86400;
	j->max_bytes = PC_JWT_MAX_BYTES_DEFAULT;
	j->algs = (1u << PC_ALG_RS256) | (1u << PC_ALG_PS256) | (1u << PC_ALG_ES256) |
	    (1u << PC_ALG_EDDSA);
	if (vals[IK_ISSUER] == NULL)
		return pc_conf__fail(ld, v, "%smissing required key 'issuer'", ctx);
	if ((rc = pc_conf__get_str(ld, vals[IK_ISSUER], ctx, "issuer", &s)) != 0)
		return rc;
	if (s.len == 0)
		return pc_conf__fail(ld, vals[IK_ISSUER], "%sissuer: expected the exact 'iss' "
		    "value, found an empty one", ctx);
	if ((is->iss = pc_conf__dup_str(ld, vals[IK_ISSUER], s)) == NULL)
		return -PC_ENOMEM;
	j->iss = is->iss;
	if (vals[IK_AUDIENCES] == NULL)
		return pc_conf__fail(ld, v, "%smissing required key 'audiences' (a token meant "
		    "for another service must not be accepted here)", ctx);
	if ((rc = get_strings(ld, vals[IK_AUDIENCES], ctx, "audiences", LIST_MAX,
	    &is->audiences, &n)) != 0)
		return rc;
	j->audiences = (const char *const *)is->audiences;
	j->naudiences = n;
	if (vals[IK_ALGS] != NULL && (rc = get_algs(ld, vals[IK_ALGS], ctx, &j->algs)) != 0)
		return rc;
	if (vals[IK_HMAC] != NULL && (rc = get_hmac(ld, is, vals[IK_HMAC], ctx)) != 0)
		return rc;
	j->hmac = is->hmac;
	if ((j->algs & ((1u << PC_ALG_HS256) | (1u << PC_ALG_HS384) | (1u << PC_ALG_HS512))) &&
	    is->hmac == NULL)
		return pc_conf__fail(ld, vals[IK_ALGS], "%salgorithms: HS256/384/512 need "
		    "hmac_secret (they are never checked with a public key)", ctx);
	if (is->hmac != NULL && !(j->algs & ((1u << PC_ALG_HS256) | (1u << PC_ALG_HS384) |
	    (1u << PC_ALG_HS512))))
		return pc_conf__fail(ld, kn[IK_HMAC], "%shmac_secret: only with an HS "
		    "algorithm in algorithms", ctx);
	if ((rc = get_remote_keys(ld, is, v, vals, kn, ctx)) != 0)
		return rc;
	if (vals[IK_JWKS] != NULL && (rc = read_jwks(ld, ci, is, vals[IK_JWKS], ctx)) != 0)
		return rc;
	/* Introspection calls trust what key fetches trust; discovery may name the endpoint. */
	if (vals[IK_INTROSPECT] != NULL && (rc = pc_conf__get_introspect(ld, is,
	    vals[IK_INTROSPECT], ctx, vals[IK_CA_FILE], j->ring != NULL &&
	    vals[IK_JWKS_URI] == NULL)) != 0)
		return rc;
	j->keys = is->jwks;
	/* An issuer of opaque tokens only (introspection:) needs no key set. */
	if (is->jwks == NULL && j->ring == NULL && is->introspect == NULL &&
	    (j->algs & ~((1u << PC_ALG_HS256) | (1u << PC_ALG_HS384) | (1u << PC_ALG_HS512))))
		return pc_conf__fail(ld, v, "%smissing a key source: jwks_file, jwks_uri or "
		    "discovery: true (the issuer's public keys), or 'introspection' (opaque "
		    "tokens)", ctx);
	if (vals[IK_LEEWAY] != NULL && (rc = pc_conf__get_u32(ld, vals[IK_LEEWAY], ctx,
	    "leeway_s", 0, 300, &j->leeway_s)) != 0)
		return rc;
	/* Credentials must be temporary: a token valid for longer than this is refused,
	 * whoever signed it. */
	if (vals[IK_LIFETIME] != NULL && (rc = pc_conf__get_u32(ld, vals[IK_LIFETIME], ctx,
	    "max_lifetime_s", 60, 2592000, &j->max_lifetime_s)) != 0)
		return rc;
	if (vals[IK_MAX_BYTES] != NULL) {
		if ((rc = pc_conf__get_u64(ld, vals[IK_MAX_BYTES], ctx, "max_token_bytes", 512,
		    65536, &x)) != 0)
			return rc;
		j->max_bytes = (size_t)x;
	}
	if (vals[IK_TYP] != NULL) {
		if ((rc = pc_conf__get_str(ld, vals[IK_TYP], ctx, "require_typ", &s)) != 0)
			return rc;
		if (!pc_str_eq(s, PC_STR("at+jwt")))
			return pc_conf__fail(ld, vals[IK_TYP], "%srequire_typ: expected 'at+jwt' "
			    "(RFC 9068), found '%s'", ctx, pc_conf__showv(vals[IK_TYP]).s);
		j->require_at_jwt = true;
	}
	if (vals[IK_REQUIRED] != NULL) {
		if ((rc = get_strings(ld, vals[IK_REQUIRED], ctx, "required_claims", LIST_MAX,
		    &is->required, &n)) != 0)
			return rc;
		j->required_claims = (const char *const *)is->required;
		j->nrequired = n;
	}
	s = PC_STR("scope");
	if (vals[IK_SCOPES_CLAIM] != NULL) {
		if ((rc = pc_conf__get_str(ld, vals[IK_SCOPES_CLAIM], ctx, "scopes_claim",
		    &s)) != 0)
			return rc;
		if (!pc_str_eq(s, PC_STR("scope")) && !pc_str_eq(s, PC_STR("scp")))
			return pc_conf__fail(ld, vals[IK_SCOPES_CLAIM], "%sscopes_claim: expected "
			    "'scope' (space-separated, RFC 9068) or 'scp' (a list)", ctx);
	}
	if ((is->scopes_claim = pc_conf__dup_str(ld, v, s)) == NULL)
		return -PC_ENOMEM;
	j->scopes_claim = is->scopes_claim;
	if (vals[IK_ROLES_CLAIM] != NULL) {
		if ((rc = pc_conf__get_str(ld, vals[IK_ROLES_CLAIM], ctx, "roles_claim", &s)) != 0)
			return rc;
		if (s.len == 0 || s.ptr[0] == '.' || s.ptr[s.len - 1] == '.')
			return pc_conf__fail(ld, vals[IK_ROLES_CLAIM], "%sroles_claim: expected a "
			    "claim name or a dotted path (realm_access.roles)", ctx);
		if ((is->roles_claim = pc_conf__dup_str(ld, vals[IK_ROLES_CLAIM], s)) == NULL)
			return -PC_ENOMEM;
		j->roles_claim = is->roles_claim;
	}
	return 0;
}

int
pc_conf__get_issuers(struct pc_conf_loader *ld, struct pc_conf_impl *ci,
    const struct pc_conf_node *v)
{
	struct pc_conf			*c = &ci->pub;
	const struct pc_conf_node	*k;
	unsigned			 i;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "", "issuers")) != 0)
		return rc;
	if (v->n / 2 > ISSUERS_MAX)
		return pc_conf__fail(ld, v, "issuers: expected at most %d, found %u", ISSUERS_MAX,
		    v->n / 2);
	if (v->n == 0)
		return 0;
	c->issuers = calloc(v->n / 2, sizeof(*c->issuers));
	if (c->issuers == NULL)
		return pc_conf__oom(ld, v);
	for (k = v->first; k != NULL; k = k->next->next) {
		rc = get_issuer(ld, ci, k, k->next, &c->issuers[c->nissuers]);
		c->nissuers++;	/* freed whole on error */
		if (rc != 0)
			return rc;
		for (i = 0; i + 1 < c->nissuers; i++)
			if (strcmp(c->issuers[i].iss, c->issuers[c->nissuers - 1].iss) == 0)
				return pc_conf__fail(ld, k, "issuers.%s: issuer '%s' is also "
				    "issuers.%s (line %d): the 'iss' of a token must pick one",
				    c->issuers[c->nissuers - 1].name, c->issuers[i].iss,
				    c->issuers[i].name, c->issuers[i].line);
	}
	return 0;
}

void
pc_conf__issuers_free(struct pc_conf *c)
{
	unsigned i, j;

	for (i = 0; i < c->nissuers; i++) {
		struct pc_conf_issuer *is = &c->issuers[i];

		free(is->name);
		free(is->iss);
		free(is->scopes_claim);
		free(is->roles_claim);
		for (j = 0; is->audiences != NULL && is->audiences[j] != NULL; j++)
			free(is->audiences[j]);
		free(is->audiences);
		for (j = 0; is->required != NULL && is->required[j] != NULL; j++)
			free(is->required[j]);
		free(is->required);
		pc_jwks_free(is->jwks);
		pc_pkey_free(is->hmac);
		pc_keyring_unref(is->v.ring);
		pc_conf__introspect_free(is->introspect);
	}
	free(c->issuers);
}

/* auth: [name, ...]: the route needs a valid token from one of the issuers named, or a
 * valid key from one of the api_keys stores named (names are unique across both). */
static int
get_auth(struct pc_conf_loader *ld, struct pc_conf *c, struct pc_conf_route *r,
    const char *ctx, const struct pc_conf_node *v)
{
	const struct pc_conf_node	*e;
	unsigned			 i, j;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_SEQ, ctx, "auth")) != 0)
		return rc;
	if (v->n == 0 || v->n > LIST_MAX)
		return pc_conf__fail(ld, v, "%sauth: expected 1 to %d issuer or api_keys names, "
		    "found %u", ctx, LIST_MAX, v->n);
	r->auth = calloc(v->n, sizeof(*r->auth));
	r->apikeys = calloc(v->n, sizeof(*r->apikeys));
	if (r->auth == NULL || r->apikeys == NULL)
		return pc_conf__oom(ld, v);
	for (e = v->first; e != NULL; e = e->next) {
		struct pc_str s;

		if ((rc = pc_conf__get_str(ld, e, ctx, "auth", &s)) != 0)
			return rc;
		if (pc_str_eq(s, PC_STR("client_cert"))) {
			/* Reserved: a client certificate the listener verified is the
			 * credential (an issuer or store of that name cannot be named). */
			r->auth_cert = true;
			continue;
		}
		for (i = 0; i < c->nissuers; i++)
			if (pc_str_eq(s, pc_str_c(c->issuers[i].name)))
				break;
		for (j = 0; i == c->nissuers && j < c->napikeys; j++)
			if (pc_str_eq(s, pc_str_c(c->apikeys[j].name)))
				break;
		if (i == c->nissuers && j == c->napikeys)
			return pc_conf__fail(ld, e, "%sauth: unknown issuer or api_keys store '%s' "
			    "(see issuers: and api_keys:; or client_cert)", ctx,
			    pc_conf__showv(e).s);
		if (i < c->nissuers) {
			r->auth[r->nauth++] = &c->issuers[i].v;
			if ((rc = pc_conf__route_introspect(ld, r, &c->issuers[i], e, ctx)) != 0)
				return rc;
		} else
			r->apikeys[r->napikeys++] = &c->apikeys[j];
	}
	return 0;
}

int
pc_conf__get_route_auth(struct pc_conf_loader *ld, struct pc_conf *c, struct pc_conf_route *r,
    const char *ctx, const struct pc_conf_node *auth, const struct pc_conf_node *scopes,
    const struct pc_conf_node *bound)
{
	struct pc_buf	b;
	unsigned	i;
	int		rc;

	if (auth != NULL && (rc = get_auth(ld, c, r, ctx, auth)) != 0)
		return rc;
	if (scopes != NULL) {
		if (r->nauth == 0 && r->napikeys == 0)
			return pc_conf__fail(ld, scopes, "%sscopes: only with auth: naming an "
			    "issuer or api_keys store (scopes come with a token or a key; a client "
			    "certificate has none)", ctx);
		if ((rc = get_strings(ld, scopes, ctx, "scopes", SCOPES_MAX, &r->scopes,
		    &r->nscopes)) != 0)
			return rc;
		pc_buf_init(&b, 4096);
		for (i = 0, rc = 0; i < r->nscopes; i++) {
			if (i > 0)
				rc |= pc_buf_addc(&b, ' ');
			rc |= pc_buf_add_str(&b, pc_str_c(r->scopes[i]));
		}
		r->scope_text = rc == 0 ? pc_conf__dup_str(ld, scopes,
		    pc_str_make((const char *)b.data, b.len)) : NULL;
		pc_buf_fini(&b);
		if (r->scope_text == NULL)
			return rc != 0 ? pc_conf__fail(ld, scopes, "%sscopes: longer than 4096 "
			    "bytes together", ctx) : -PC_ENOMEM;
	}
	if (bound != NULL) {
		if ((rc = pc_conf__get_bool(ld, bound, ctx, "bound_tokens",
		    &r->bound_tokens)) != 0)
			return rc;
		if (r->bound_tokens && r->nauth == 0)
			return pc_conf__fail(ld, bound, "%sbound_tokens: only with auth: naming "
			    "an issuer", ctx);
		/* An API key is a bearer credential bound to nothing: accepting one would
		 * open the route the setting closes. */
		if (r->bound_tokens && r->napikeys > 0)
			return pc_conf__fail(ld, bound, "%sbound_tokens: not with api_keys stores "
			    "in auth: (API keys are not bound to a certificate)", ctx);
	}
	return 0;
}

/*
 * What the upstream learns of the caller: the client's own credential (forwarded unless
 * forward_credential: false), and, with identity_headers: true, the verified principal in
 * X-Portcullis-* fields, which the gateway removes from every incoming request first.
 */
int
pc_conf__get_route_identity(struct pc_conf_loader *ld, struct pc_conf_route *r,
    const char *ctx, const struct pc_conf_node *fwd, const struct pc_conf_node *ids)
{
	bool	forward = true;
	int	rc;

	if (fwd != NULL) {
		if ((rc = pc_conf__get_bool(ld, fwd, ctx, "forward_credential", &forward)) != 0)
			return rc;
		if (!pc_route_has_auth(r))
			return pc_conf__fail(ld, fwd, "%sforward_credential: only with auth:", ctx);
		r->strip_credential = !forward;
	}
	if (ids != NULL) {
		if ((rc = pc_conf__get_bool(ld, ids, ctx, "identity_headers",
		    &r->identity_headers)) != 0)
			return rc;
		if (r->identity_headers && !pc_route_has_auth(r))
			return pc_conf__fail(ld, ids, "%sidentity_headers: only with auth:", ctx);
	}
	return 0;
}
