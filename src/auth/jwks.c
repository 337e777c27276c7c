/*
 * auth/jwks.c - JSON Web Key Sets (RFC 7517 5) -> struct pc_jwks of public signature keys.
 * Owns: which members of a set make a usable key: RSA, EC P-256/384/521 and Ed25519
 * public keys meant for signatures, with an optional pinned "alg". Everything else is
 * skipped with a warning naming the key (kid or index) and the reason, never its material
 * (RFC 7517 5: unknown or unusable keys are ignored, not fatal).
 * Does not: fetch sets (config/ and later fetchers hand it bytes), accept shared secrets
 * (a set is published; "oct" in it is either a leak or a key-confusion lure).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "core/banned.h"

#define LABEL_MAX	96
#define SHOWN_MAX	48	/* bytes of a kid or value quoted in a message */

enum { KEY_USABLE = 0, KEY_SKIPPED = 1 };

struct ctx {
	void		(*warn)(void *arg, const char *msg);
	void		*arg;
	char		 label[LABEL_MAX];	/* "key 'kid'" or "key #3" */
};

/* Members that only a private key has (RFC 7518 6.2.2, 6.3.2, 6.4.1; RFC 8037 2). */
static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

/*
 * Quotes at most SHOWN_MAX bytes of <s> into <out>, printable ASCII only: kids and member
 * values come from whoever publishes the set and end up in logs (no log injection).
 */
static void
quote(char *out, size_t cap, const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len && i < SHOWN_MAX && n + 4 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[n++] = (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') ? (char)c : '?';
	}
	if (i < len && n + 4 < cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static void
skip(struct ctx *c, const char *fmt, ...) PC_PRINTF(2, 3);

static void
skip(struct ctx *c, const char *fmt, ...)
{
	char	 msg[256];
	int	 n;
	va_list	 ap;

	if (c->warn == NULL)
		return;
	n = snprintf(msg, sizeof(msg), "%s: ", c->label);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	c->warn(c->arg, msg);
}

static void
set_err(char *err, size_t errlen, const char *fmt, ...) PC_PRINTF(3, 4);

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A string member: 1 and *<out> if it is one, 0 if absent, -1 if of another type. */
static int
str_member(const json_t *o, const char *name, struct pc_str *out)
{
	const json_t *v = json_object_get(o, name);

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = pc_str_make(json_string_value(v), json_string_length(v));
	return 1;
}

/* True if "key_ops" (RFC 7517 4.3) is absent or an array of strings holding "verify". */
static bool
ops_allow_verify(struct ctx *c, const json_t *ops)
{
	size_t		 i;
	const json_t	*v;
	bool		 verify = false;

	if (ops == NULL)
		return true;
	if (!json_is_array(ops)) {
		skip(c, "key_ops is not an array");
		return false;
	}
	json_array_foreach(ops, i, v) {
		if (!json_is_string(v)) {
			skip(c, "key_ops holds a non-string");
			return false;
		}
		if (strcmp(json_string_value(v), "verify") == 0)
			verify = true;
	}
	if (!verify)
		skip(c, "key_ops does not include verify");
	return verify;
}

/* Imports the public key of <jk> by its <kty>. 0, KEY_SKIPPED (warned) or -PC_ENOMEM. */
static int
import(struct ctx *c, const json_t *jk, struct pc_str kty, struct pc_pkey **key)
{
	struct pc_str	 n, e, crv, x, y;
	char		 err[160], shown[SHOWN_MAX + 8];
	int		 rc;

	err[0] = '\0';
	if (pc_str_eq(kty, PC_STR("RSA"))) {
		if (str_member(jk, "n", &n) != 1 || str_member(jk, "e", &e) != 1) {
			skip(c, "RSA key without string n and e");
			return KEY_SKIPPED;
		}
		rc = pc_pkey_rsa(n, e, key, err, sizeof(err));
	} else if (pc_str_eq(kty, PC_STR("EC"))) {
		if (str_member(jk, "crv", &crv) != 1 || str_member(jk, "x", &x) != 1 ||
		    str_member(jk, "y", &y) != 1) {
			skip(c, "EC key without string crv, x and y");
			return KEY_SKIPPED;
		}
		rc = pc_pkey_ec(crv, x, y, key, err, sizeof(err));
	} else if (pc_str_eq(kty, PC_STR("OKP"))) {
		if (str_member(jk, "crv", &crv) != 1 || str_member(jk, "x", &x) != 1) {
			skip(c, "OKP key without string crv and x");
			return KEY_SKIPPED;
		}
		rc = pc_pkey_okp(crv, x, key, err, sizeof(err));
	} else {
		quote(shown, sizeof(shown), kty.ptr, kty.len);
		skip(c, "unsupported kty '%s'", shown);
		return KEY_SKIPPED;
	}
	if (rc == -PC_ENOMEM)
		return rc;
	if (rc != 0) {
		/* -PC_ERANGE (weak) or -PC_EINVAL (malformed, off the curve, unknown crv);
		 * crypto/ promises that <err> never holds key material. */
		*key = NULL;
		skip(c, "%s", err[0] != '\0' ? err : "key refused");
		return KEY_SKIPPED;
	}
	return 0;
}

/* One element of "keys": 0 (usable, *<out> filled), KEY_SKIPPED (warned) or -PC_ENOMEM. */
static int
parse_key(struct ctx *c, const json_t *jk, size_t idx, struct pc_jwk *out)
{
	struct pc_str	 kid = PC_STR_NULL, kty, use, algs;
	enum pc_jws_alg	 alg = PC_ALG_NONE;
	struct pc_pkey	*key = NULL;
	char		 shown[SHOWN_MAX + 8];
	size_t		 i;
	int		 rc;

	(void)snprintf(c->label, sizeof(c->label), "key #%zu", idx);
	if (!json_is_object(jk)) {
		skip(c, "not a JSON object");
		return KEY_SKIPPED;
	}
	if (str_member(jk, "kid", &kid) < 0) {
		skip(c, "kid is not a string");
		return KEY_SKIPPED;
	}
	if (kid.len > 0) {
		quote(shown, sizeof(shown), kid.ptr, kid.len);
		(void)snprintf(c->label, sizeof(c->label), "key '%s'", shown);
	}
	if (str_member(jk, "kty", &kty) != 1) {
		skip(c, "kty missing or not a string");
		return KEY_SKIPPED;
	}
	if (pc_str_eq(kty, PC_STR("oct"))) {
		skip(c, "kty 'oct' is not accepted in a key set");
		return KEY_SKIPPED;
	}
	/* A private key published by mistake: never use it, and say so loudly, since the
	 * publisher's key is compromised whatever we do. */
	for (i = 0; i < PC_NELEM(private_members); i++) {
		if (json_object_get(jk, private_members[i]) != NULL) {
			skip(c, "private key member '%s' present: not used; this key is "
			    "published and must be considered compromised", private_members[i]);
			return KEY_SKIPPED;
		}
	}
	rc = str_member(jk, "use", &use);
	if (rc < 0) {
		skip(c, "use is not a string");
		return KEY_SKIPPED;
	}
	if (rc == 1 && !pc_str_eq(use, PC_STR("sig"))) {
		quote(shown, sizeof(shown), use.ptr, use.len);
		skip(c, "use is '%s', not sig", shown);
		return KEY_SKIPPED;
	}
	if (!ops_allow_verify(c, json_object_get(jk, "key_ops")))
		return KEY_SKIPPED;
	rc = str_member(jk, "alg", &algs);
	if (rc < 0) {
		skip(c, "alg is not a string");
		return KEY_SKIPPED;
	}
	if (rc == 1) {
		alg = pc_jws_alg_from_str(algs);
		if (alg == PC_ALG_NONE || pc_jws_alg_is_hmac(alg)) {
			quote(shown, sizeof(shown), algs.ptr, algs.len);
			skip(c, "alg '%s' is not a public-key JWS algorithm", shown);
			return KEY_SKIPPED;
		}
	}
	rc = import(c, jk, kty, &key);
	if (rc != 0)
		return rc;
	if (alg != PC_ALG_NONE && !pc_jws_alg_fits(alg, key)) {
		skip(c, "alg '%s' does not fit the key", pc_jws_alg_name(alg));
		pc_pkey_free(key);
		return KEY_SKIPPED;
	}
	out->kid = strndup(kid.len > 0 ? kid.ptr : "", kid.len);
	if (out->kid == NULL) {
		pc_pkey_free(key);
		return -PC_ENOMEM;
	}
	out->alg = alg;
	out->key = key;
	return KEY_USABLE;
}

int
pc_jwks_parse(const char *json, size_t len, struct pc_jwks **out,
    void (*warn)(void *arg, const char *msg), void *arg, char *err, size_t errlen)
{
	static const char *const why[] = {
		[PC_AUTH_JSON_SYNTAX] = "key set is not JSON",
		[PC_AUTH_JSON_DUPLICATE] = "key set has a duplicate member name",
		[PC_AUTH_JSON_DEEP] = "key set nests too deep",
		[PC_AUTH_JSON_NOT_OBJECT] = "key set is not a JSON object",
	};
	struct ctx		 c = { warn, arg, "" };
	struct pc_jwks		*ks = NULL;
	json_t			*root = NULL;
	const json_t		*keys, *jk;
	enum pc_auth_json_err	 je;
	size_t			 i, j, n;
	int			 rc = -PC_EINVAL;

	*out = NULL;
	if (len > PC_JWKS_MAX_BYTES) {
		set_err(err, errlen, "key set over %u bytes", PC_JWKS_MAX_BYTES);
		return -PC_EINVAL;
	}
	je = pc_auth__json_object(json, len, &root);
	if (je == PC_AUTH_JSON_NOMEM)
		return -PC_ENOMEM;
	if (je != PC_AUTH_JSON_OK) {
		set_err(err, errlen, "%s", why[je]);
		return -PC_EINVAL;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		set_err(err, errlen, "key set has no \"keys\" array");
		goto fail;
	}
	n = json_array_size(keys);
	if (n > PC_JWKS_KEYS_MAX) {
		set_err(err, errlen, "key set has %zu keys; at most %d", n, PC_JWKS_KEYS_MAX);
		goto fail;
	}
	rc = -PC_ENOMEM;
	ks = calloc(1, sizeof(*ks));
	if (ks == NULL)
		goto fail;
	ks->keys = calloc(n > 0 ? n : 1, sizeof(*ks->keys));
	if (ks->keys == NULL)
		goto fail;
	json_array_foreach(keys, i, jk) {
		struct pc_jwk *k = &ks->keys[ks->nkeys];

		rc = parse_key(&c, jk, i, k);
		if (rc < 0)
			goto fail;
		if (rc == KEY_SKIPPED)
			continue;
		ks->nkeys++;
		/* Two usable keys under one kid: which one a token means would depend on
		 * the order, so the set is refused rather than guessed at. */
		for (j = 0; k->kid[0] != '\0' && j + 1 < ks->nkeys; j++) {
			if (strcmp(ks->keys[j].kid, k->kid) == 0) {
				set_err(err, errlen, "%s: two usable keys with this kid", c.label);
				rc = -PC_EINVAL;
				goto fail;
			}
		}
	}
	if (ks->nkeys == 0) {
		set_err(err, errlen, "key set has no usable key");
		rc = -PC_EINVAL;
		goto fail;
	}
	json_decref(root);
	*out = ks;
	return 0;
fail:
	if (rc == -PC_ENOMEM)
		set_err(err, errlen, "out of memory");
	pc_jwks_free(ks);
	json_decref(root);
	return rc;
}

void
pc_jwks_free(struct pc_jwks *ks)
{
	unsigned i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->nkeys; i++) {
		free(ks->keys[i].kid);
		pc_pkey_free(ks->keys[i].key);
	}
	free(ks->keys);
	free(ks);
}
