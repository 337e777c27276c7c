/*
 * auth/jwt_claims.c - the claims of a token whose signature verified (RFC 7519 4.1, RFC
 * 9068 2.2, 4) and the principal made from them.
 * Owns: typ, aud, exp/nbf/iat with leeway, lifetime, required claims, sub; the principal's
 * scopes ("scope" string or "scp" array), roles (a dotted path), acr, amr, auth_time, cnf.
 * Does not: decide what a scope or role allows (pipeline/, policy/).
 */
#include <string.h>

#include "auth/jwt_int.h"
#include "core/banned.h"

static bool
json_str_is(const json_t *v, struct pc_str s)
{
	return json_is_string(v) &&
	    pc_str_eq(pc_str_make(json_string_value(v), json_string_length(v)), s);
}

/* RFC 9068 2.1: "at+jwt"; the media-type form "application/at+jwt" too (RFC 7515 4.1.9),
 * both case-insensitive. */
static enum pc_reason
check_typ(const struct pc_jwt_tok *t, const char **d)
{
	const json_t	*typ = json_object_get(t->jh, "typ");
	struct pc_str	 s;

	if (!t->is->require_at_jwt)
		return PC_R_NONE;
	*d = "typ is not at+jwt";
	if (!json_is_string(typ))
		return PC_R_AUTH_TYP;
	s = pc_str_make(json_string_value(typ), json_string_length(typ));
	if (pc_str_caseeq(s, PC_STR("at+jwt")) || pc_str_caseeq(s, PC_STR("application/at+jwt")))
		return PC_R_NONE;
	return PC_R_AUTH_TYP;
}

static bool
audience_ok(const struct pc_jwt_issuer *is, const json_t *v)
{
	unsigned i;

	for (i = 0; i < is->naudiences; i++)
		if (is->audiences[i] != NULL && json_str_is(v, pc_str_c(is->audiences[i])))
			return true;
	return false;
}

/* RFC 7519 4.1.3: a string or an array of strings, one of which is ours (also for
 * introspection responses, RFC 7662 2.2). */
enum pc_reason
pc_jwt__aud(const struct pc_jwt_tok *t, const char **d)
{
	const json_t	*aud = json_object_get(t->jp, "aud"), *v;
	size_t		 i;
	bool		 ok = false;

	if (aud == NULL) {
		*d = "aud missing";
		return PC_R_AUTH_AUDIENCE;
	}
	if (json_is_string(aud))
		ok = audience_ok(t->is, aud);
	else if (json_is_array(aud)) {
		json_array_foreach(aud, i, v) {
			if (!json_is_string(v)) {
				*d = "aud holds a non-string";
				return PC_R_AUTH_MALFORMED;
			}
			if (audience_ok(t->is, v))
				ok = true;
		}
	} else {
		*d = "aud is not a string or array";
		return PC_R_AUTH_MALFORMED;
	}
	if (!ok) {
		*d = "aud not accepted";
		return PC_R_AUTH_AUDIENCE;
	}
	return PC_R_NONE;
}

/* An optional NumericDate member: 0 (absent: *<present> false), or a reason. */
enum pc_reason
pc_jwt__time(const json_t *o, const char *name, bool round_up, int64_t *out, bool *present,
    const char **d)
{
	const json_t *v = json_object_get(o, name);

	*present = false;
	if (v == NULL)
		return PC_R_NONE;
	if (pc_auth__numericdate(v, round_up, out) != 0) {
		*d = "a time claim is not a NumericDate";
		return PC_R_AUTH_MALFORMED;
	}
	*present = true;
	return PC_R_NONE;
}

static enum pc_reason
check_times(const struct pc_jwt_tok *t, int64_t now, const char **d)
{
	int64_t		 exp = 0, nbf = 0, iat = 0, start, leeway = t->is->leeway_s;
	bool		 has_exp, has_nbf, has_iat;
	enum pc_reason	 r;

	/* Fractions: exp rounds down and nbf/iat up, so a rounding never lengthens a token. */
	r = pc_jwt__time(t->jp, "exp", false, &exp, &has_exp, d);
	if (r == PC_R_NONE)
		r = pc_jwt__time(t->jp, "nbf", true, &nbf, &has_nbf, d);
	if (r == PC_R_NONE)
		r = pc_jwt__time(t->jp, "iat", true, &iat, &has_iat, d);
	if (r != PC_R_NONE)
		return r;
	/* Values are at most 2^53 and leeway under 2^32: no overflow below. */
	if (!has_exp) {
		*d = "exp missing";
		return PC_R_AUTH_EXPIRED;
	}
	if (!(now < exp + leeway)) {
		*d = "exp is past";
		return PC_R_AUTH_EXPIRED;
	}
	if (has_nbf && nbf > now + leeway) {
		*d = "nbf is in the future";
		return PC_R_AUTH_NOT_YET_VALID;
	}
	if (has_iat && iat > now + leeway) {
		*d = "iat is in the future";
		return PC_R_AUTH_NOT_YET_VALID;
	}
	if (t->is->max_lifetime_s > 0) {
		start = has_iat ? iat : has_nbf ? nbf : now;
		if (exp - start > (int64_t)t->is->max_lifetime_s) {
			*d = "lifetime over the issuer's maximum";
			return PC_R_AUTH_LIFETIME;
		}
	}
	return PC_R_NONE;
}

enum pc_reason
pc_jwt__claims(const struct pc_jwt_tok *t, int64_t now, const char **d)
{
	const json_t	*sub;
	enum pc_reason	 r;
	unsigned	 i;

	r = check_typ(t, d);
	if (r == PC_R_NONE)
		r = pc_jwt__aud(t, d);
	if (r == PC_R_NONE)
		r = check_times(t, now, d);
	if (r != PC_R_NONE)
		return r;
	for (i = 0; i < t->is->nrequired; i++) {
		const json_t *v;

		if (t->is->required_claims[i] == NULL)
			continue;
		v = json_object_get(t->jp, t->is->required_claims[i]);
		/* null is how some issuers say "none": it does not satisfy a requirement. */
		if (v == NULL || json_is_null(v)) {
			*d = "a required claim is missing";
			return PC_R_AUTH_CLAIM_MISSING;
		}
	}
	sub = json_object_get(t->jp, "sub");
	if (!json_is_string(sub) || json_string_length(sub) == 0) {
		*d = "sub missing or not a string";
		return PC_R_AUTH_CLAIM_MISSING;
	}
	return PC_R_NONE;
}

/* Space-separated scope-tokens (RFC 6749 3.3, RFC 8693 4.2): views into one arena copy. */
static enum pc_reason
scope_string(struct pc_arena *a, const json_t *v, struct pc_principal *p, const char **d)
{
	struct pc_str	 s, rest, item;
	unsigned	 n = 0;

	if (pc_auth__arena_str(a, v, &s) != 0)
		goto nomem;
	for (rest = s; rest.len > 0 && n < PC_PRINCIPAL_LIST_MAX;) {
		rest = pc_str_split(rest, ' ', &item);
		if (item.len > 0)
			n++;
	}
	p->scopes = pc_arena_zalloc(a, (n > 0 ? n : 1) * sizeof(struct pc_str));
	if (p->scopes == NULL)
		goto nomem;
	n = 0;
	/* Past PC_PRINCIPAL_LIST_MAX scopes are dropped: fewer grants, never more. */
	for (rest = s; rest.len > 0 && n < PC_PRINCIPAL_LIST_MAX;) {
		rest = pc_str_split(rest, ' ', &item);
		if (item.len > 0)
			p->scopes[n++] = item;
	}
	p->nscopes = n;
	return PC_R_NONE;
nomem:
	*d = "out of memory";
	return PC_R_INTERNAL;
}

/* An array of strings into <list>/<n>, at most PC_PRINCIPAL_LIST_MAX kept. */
static enum pc_reason
str_array(struct pc_arena *a, const json_t *arr, struct pc_str **list, unsigned *n,
    const char *bad, const char **d)
{
	const json_t	*v;
	size_t		 i;

	i = json_array_size(arr);
	if (i > PC_PRINCIPAL_LIST_MAX)
		i = PC_PRINCIPAL_LIST_MAX;
	*list = pc_arena_array(a, struct pc_str, i > 0 ? i : 1);
	if (*list == NULL)
		goto nomem;
	*n = 0;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			*d = bad;
			return PC_R_AUTH_MALFORMED;
		}
		if (*n == PC_PRINCIPAL_LIST_MAX)
			continue;
		if (pc_auth__arena_str(a, v, &(*list)[*n]) != 0)
			goto nomem;
		(*n)++;
	}
	return PC_R_NONE;
nomem:
	*d = "out of memory";
	return PC_R_INTERNAL;
}

/* Follows "a.b.c" through nested objects; NULL if any step is missing. */
static const json_t *
dotted(const json_t *o, const char *path)
{
	struct pc_str	 rest = pc_str_c(path), seg;

	while (o != NULL && rest.len > 0) {
		rest = pc_str_split(rest, '.', &seg);
		o = json_is_object(o) ? json_object_getn(o, seg.ptr, seg.len) : NULL;
	}
	return o;
}

/* "amr" (RFC 8176) joined with single spaces. */
static enum pc_reason
amr_join(struct pc_arena *a, const json_t *amr, struct pc_str *out, const char **d)
{
	const json_t	*v;
	size_t		 i, len = 0;
	char		*s;

	json_array_foreach(amr, i, v) {
		if (!json_is_string(v)) {
			*d = "amr holds a non-string";
			return PC_R_AUTH_MALFORMED;
		}
		len += json_string_length(v) + 1;	/* bounded by the token size */
	}
	s = pc_arena_alloc(a, len + 1);
	if (s == NULL) {
		*d = "out of memory";
		return PC_R_INTERNAL;
	}
	len = 0;
	json_array_foreach(amr, i, v) {
		if (len > 0)
			s[len++] = ' ';
		memcpy(s + len, json_string_value(v), json_string_length(v));
		len += json_string_length(v);
	}
	s[len] = '\0';
	*out = pc_str_make(s, len);
	return PC_R_NONE;
}

static enum pc_reason
optional_str(struct pc_arena *a, const json_t *v, struct pc_str *out, const char *bad,
    const char **d)
{
	if (v == NULL)
		return PC_R_NONE;
	if (!json_is_string(v)) {
		*d = bad;
		return PC_R_AUTH_MALFORMED;
	}
	if (pc_auth__arena_str(a, v, out) != 0) {
		*d = "out of memory";
		return PC_R_INTERNAL;
	}
	return PC_R_NONE;
}

enum pc_reason
pc_jwt__principal(const struct pc_jwt_tok *t, struct pc_arena *a, struct pc_principal *p,
    const char **d)
{
	const char	*sname = t->is->scopes_claim != NULL ? t->is->scopes_claim : "scope";
	const json_t	*v, *cnf;
	char		*claims;
	bool		 has;
	enum pc_reason	 r;

	p->type = PC_PRINCIPAL_JWT;
	p->issuer_name = t->is->name;
	p->via = t->is;
	r = optional_str(a, json_object_get(t->jp, "sub"), &p->id, "sub", d);
	if (r == PC_R_NONE)
		r = optional_str(a, json_object_get(t->jp, "iss"), &p->issuer, "iss", d);
	if (r == PC_R_NONE)
		r = optional_str(a, json_object_get(t->jp, "acr"), &p->acr,
		    "acr is not a string", d);
	if (r != PC_R_NONE)
		return r;
	/* Either shape under either name: issuers disagree on the name, not on meaning. */
	v = json_object_get(t->jp, sname);
	if (json_is_string(v))
		r = scope_string(a, v, p, d);
	else if (json_is_array(v))
		r = str_array(a, v, &p->scopes, &p->nscopes, "scope holds a non-string", d);
	else if (v != NULL) {
		*d = "scope is not a string or array";
		r = PC_R_AUTH_MALFORMED;
	}
	if (r != PC_R_NONE)
		return r;
	if (t->is->roles_claim != NULL && t->is->roles_claim[0] != '\0') {
		v = dotted(t->jp, t->is->roles_claim);
		if (json_is_array(v))
			r = str_array(a, v, &p->roles, &p->nroles, "roles hold a non-string", d);
		else if (v != NULL) {
			*d = "roles claim is not an array";
			r = PC_R_AUTH_MALFORMED;
		}
		if (r != PC_R_NONE)
			return r;
	}
	v = json_object_get(t->jp, "amr");
	if (json_is_array(v))
		r = amr_join(a, v, &p->amr, d);
	else if (v != NULL) {
		*d = "amr is not an array";
		r = PC_R_AUTH_MALFORMED;
	}
	if (r == PC_R_NONE)
		r = pc_jwt__time(t->jp, "auth_time", false, &p->auth_time, &has, d);
	if (r == PC_R_NONE)
		r = pc_jwt__time(t->jp, "exp", false, &p->exp, &has, d);
	if (r != PC_R_NONE)
		return r;
	/* RFC 8705 3.1: the certificate thumbprint the token is bound to. */
	cnf = json_object_get(t->jp, "cnf");
	if (cnf != NULL && !json_is_object(cnf)) {
		*d = "cnf is not an object";
		return PC_R_AUTH_MALFORMED;
	}
	if (cnf != NULL) {
		r = optional_str(a, json_object_get(cnf, "x5t#S256"), &p->cnf_x5t,
		    "cnf x5t#S256 is not a string", d);
		if (r != PC_R_NONE)
			return r;
	}
	claims = pc_arena_strdup(a, pc_str_make((const char *)t->payload, t->payload_len));
	if (claims == NULL) {
		*d = "out of memory";
		return PC_R_INTERNAL;
	}
	p->claims = pc_str_make(claims, t->payload_len);
	return PC_R_NONE;
}
