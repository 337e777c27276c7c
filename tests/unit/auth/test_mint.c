/*
 * tests/unit/auth/test_mint.c - tokens the gateway mints for upstreams: the JWS builder
 * against RFC 8037 A.4, the RFC 7638 thumbprint as default kid, claims and header, a
 * signature that pc_jwt_verify accepts with the published key set, lifetime (capped by the
 * client credential's exp), escaping of hostile strings, the per-thread cache (reuse while
 * more than half the lifetime is left, then renewal), the previous key kept across a
 * reload, no private member in the key set, and PEM key loading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "auth/auth.h"
#include "core/banned.h"

#define NOW	1700000000
#define GW_ISS	"https://gateway.internal"
#define AUD	"portcullis:upstream:backend"

/* RFC 8037 A.1: the Ed25519 key of the examples, as PKCS#8 PEM. */
static const char rfc8037_pem[] = "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
/* P-256 in SEC 1 ("EC PRIVATE KEY") form. */
static const char p256_pem[] = "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIE+lpyubEfvxhETQmOy9RYSE72YR70K7GlHmFme/ZvnCoAoGCCqGSM49\n"
    "AwEHoUQDQgAENrkaZpYLMKKL4ub1L+RtIW8xvmbWUkMJobQLyxyYZpB338utJzOq\n"
    "/V/7resG8teQQgO2Xp1hCEHyXweAJz4eGg==\n"
    "-----END EC PRIVATE KEY-----\n";
static const char p384_pem[] = "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCyTEMYi4edRIzSYheS\n"
    "k98hOPzgLrBspB4MhxhILmNkzWu8tPlI/Zc5PaAZSVre6VihZANiAARs8VRno1jL\n"
    "1eFCpx45+E2NgIg4pt6dGa6l3kK6cc72A4gmVc/ERtq47bk3kKM2PCIf2Wwlona5\n"
    "nIASxp5KngehCNzvktmIAwVhUE/AX+YEf4uuZWznIrPjwu0fcGTxXto=\n"
    "-----END PRIVATE KEY-----\n";
static const char encrypted_pem[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAg3E8c3gAs3ggICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEF7blk0xmuS9qrApyKwXmToEQAMr\n"
    "WQHxrGQdKzXMERPBTJonnF2xjs6/couA7qISBOKPvYrWdjKJSLoDYYcJnDQQhORa\n"
    "budv686byZPYbqmi8n0=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

static struct pc_skey *
pem_key(const char *pem)
{
	struct pc_skey	*sk;
	struct pc_pkey	*pub;
	char		 err[160];

	assert_int_equal(pc_skey_from_pem(pem, strlen(pem), &sk, &pub, err, sizeof(err)), 0);
	pc_pkey_free(pub);
	return sk;
}

static struct pc_mint_key *
fresh_key(enum pc_jws_alg alg, const char *kid)
{
	struct pc_skey		*sk;
	struct pc_pkey		*pub;
	struct pc_mint_key	*k;

	assert_int_equal(pc_skey_generate(alg, &sk, &pub), 0);
	pc_pkey_free(pub);
	assert_int_equal(pc_mint_key_new(sk, kid, &k), 0);
	return k;
}

static struct pc_minter *
minter(struct pc_mint_key *k, uint32_t lifetime)
{
	struct pc_minter *m;

	assert_int_equal(pc_minter_new(GW_ISS, lifetime, k, &m), 0);
	return m;
}

static struct pc_principal
alice(void)
{
	static struct pc_str scopes[] = { PC_STR_INIT("items:read"), PC_STR_INIT("bad scope"),
		PC_STR_INIT("items:write") };
	struct pc_principal p;

	memset(&p, 0, sizeof(p));
	p.type = PC_PRINCIPAL_JWT;
	p.id = PC_STR("alice");
	p.issuer = PC_STR("https://issuer.test");
	p.scopes = scopes;
	p.nscopes = 3;
	p.exp = NOW + 3600;
	p.claims = PC_STR("{\"sub\":\"alice\",\"azp\":\"ignored\",\"client_id\":\"app-1\"}");
	return p;
}

/* Part <i> (0: header, 1: payload) of <tok>, decoded and parsed (NUL allowed, so the
 * hostile-string test can look at what was written). */
static json_t *
part(struct pc_str tok, unsigned i)
{
	struct pc_str	 rest = tok, seg = PC_STR_NULL;
	uint8_t		 buf[PC_MINT_TOKEN_MAX];
	size_t		 n;
	json_t		*j;

	while (i-- > 0)
		rest = pc_str_split(rest, '.', &seg);
	(void)pc_str_split(rest, '.', &seg);
	assert_int_equal(pc_b64url_decode(seg, buf, sizeof(buf), &n), 0);
	j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	assert_non_null(j);
	return j;
}

static const char *
str_of(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* Verifies <tok> with the key set <m> publishes, as a backend would. */
static int
verify(const struct pc_minter *m, struct pc_str tok, int64_t now, uint32_t leeway,
    struct pc_arena *a, struct pc_principal *out, enum pc_reason *reason)
{
	static const char *const auds[] = { AUD };
	struct pc_jwt_issuer		 is;
	const struct pc_jwt_issuer	*list[1] = { &is };
	struct pc_jwks			*ks = NULL;
	struct pc_str			 set = pc_minter_jwks(m);
	const char			*detail;
	char				 err[200];
	int				 rc;

	assert_int_equal(pc_jwks_parse(set.ptr, set.len, &ks, NULL, NULL, err, sizeof(err)), 0);
	memset(&is, 0, sizeof(is));
	is.name = "gateway";
	is.iss = GW_ISS;
	is.audiences = auds;
	is.naudiences = 1;
	is.algs = (1u << PC_ALG_EDDSA) | (1u << PC_ALG_ES256);
	is.keys = ks;
	is.leeway_s = leeway;
	is.max_lifetime_s = 300;
	is.max_bytes = PC_JWT_MAX_BYTES_DEFAULT;
	is.require_at_jwt = true;
	is.scopes_claim = "scope";
	memset(out, 0, sizeof(*out));
	*reason = PC_R_NONE;
	rc = pc_jwt_verify(list, 1, tok, now, a, out, reason, &detail);
	pc_jwks_free(ks);
	return rc;
}

static struct pc_str
view(const struct pc_buf *b)
{
	return pc_str_make((const char *)b->data, b->len);
}

static void
test_jws_compact_rfc8037_a4(void **state)
{
	static const char want[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
	    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
	    "hVsPt9g7sVvpAr_MuM0KAg";
	struct pc_skey	*sk = pem_key(rfc8037_pem);
	struct pc_buf	 b;

	(void)state;
	pc_buf_init(&b, 4096);
	assert_int_equal(pc_jws_compact(sk, PC_STR("{\"alg\":\"EdDSA\"}"),
	    PC_STR("Example of Ed25519 signing"), &b), 0);
	assert_true(pc_str_eq(view(&b), PC_STR(want)));
	pc_buf_fini(&b);
	pc_skey_free(sk);
}

static void
test_default_kid_is_the_rfc7638_thumbprint(void **state)
{
	struct pc_mint_key	*k;
	struct pc_minter	*m;
	json_t			*set, *jk;

	(void)state;
	assert_int_equal(pc_mint_key_new(pem_key(rfc8037_pem), NULL, &k), 0);
	/* RFC 8037 A.3. */
	assert_string_equal(pc_mint_key_kid(k), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
	m = minter(k, 60);
	set = json_loadb(pc_minter_jwks(m).ptr, pc_minter_jwks(m).len, 0, NULL);
	assert_non_null(set);
	jk = json_array_get(json_object_get(set, "keys"), 0);
	assert_string_equal(str_of(jk, "x"), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
	json_decref(set);
	pc_minter_free(m);
}

static void
check_token(enum pc_jws_alg alg, const char *kid)
{
	struct pc_minter	*m = minter(fresh_key(alg, kid), 60);
	struct pc_principal	 p = alice(), got;
	struct pc_arena		*a = pc_arena_new(1 << 16);
	enum pc_reason		 reason;
	struct pc_buf		 b;
	json_t			*h, *c;

	pc_buf_init(&b, 16384);
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), 0);
	h = part(view(&b), 0);
	assert_string_equal(str_of(h, "alg"), pc_jws_alg_name(alg));
	assert_string_equal(str_of(h, "typ"), "at+jwt");
	assert_string_equal(str_of(h, "kid"), pc_mint_key_kid(pc_minter_key(m)));
	if (kid != NULL)
		assert_string_equal(str_of(h, "kid"), kid);
	else
		assert_int_equal(strlen(str_of(h, "kid")), 43);
	assert_int_equal(json_object_size(h), 3);
	c = part(view(&b), 1);
	assert_string_equal(str_of(c, "iss"), GW_ISS);
	assert_string_equal(str_of(c, "sub"), "alice");
	assert_string_equal(str_of(c, "aud"), AUD);
	assert_int_equal(json_integer_value(json_object_get(c, "iat")), NOW);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW + 60);
	assert_int_equal(strlen(str_of(c, "jti")), 22);	/* 128 random bits */
	assert_string_equal(str_of(c, "auth_type"), "jwt");
	assert_string_equal(str_of(c, "client_id"), "app-1");
	assert_string_equal(str_of(c, "orig_iss"), "https://issuer.test");
	/* A scope with a space would become two scopes: it is left out. */
	assert_string_equal(str_of(c, "scope"), "items:read items:write");
	assert_int_equal(json_object_size(c), 10);
	/* A backend with the published key set accepts it, and reads the same principal. */
	assert_int_equal(verify(m, view(&b), NOW, 0, a, &got, &reason), 0);
	assert_true(pc_str_eq(got.id, PC_STR("alice")));
	assert_int_equal(got.nscopes, 2);
	/* Valid for lifetime_s, not a second more. */
	assert_int_equal(verify(m, view(&b), NOW + 59, 0, a, &got, &reason), 0);
	assert_int_not_equal(verify(m, view(&b), NOW + 61, 0, a, &got, &reason), 0);
	assert_int_equal(reason, PC_R_AUTH_EXPIRED);
	/* Another audience's token is not this upstream's. */
	b.len = 0;
	assert_int_equal(pc_mint_sign(m, &p, PC_STR("portcullis:upstream:other"), NOW, &b), 0);
	assert_int_not_equal(verify(m, view(&b), NOW, 0, a, &got, &reason), 0);
	assert_int_equal(reason, PC_R_AUTH_AUDIENCE);
	/* Two tokens never share a jti. */
	json_decref(h);
	h = part(view(&b), 1);
	b.len = 0;
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), 0);
	json_decref(c);
	c = part(view(&b), 1);
	assert_string_not_equal(str_of(c, "jti"), str_of(h, "jti"));
	json_decref(h);
	json_decref(c);
	pc_buf_fini(&b);
	pc_arena_free(a);
	pc_minter_free(m);
}

static void
test_eddsa_token_claims_and_signature(void **state)
{
	(void)state;
	check_token(PC_ALG_EDDSA, NULL);
}

static void
test_es256_token_with_configured_kid(void **state)
{
	(void)state;
	check_token(PC_ALG_ES256, "gw-2024");
}

static void
test_lifetime_never_past_the_client_credential(void **state)
{
	struct pc_minter	*m = minter(fresh_key(PC_ALG_EDDSA, NULL), 60);
	struct pc_principal	 p = alice();
	struct pc_buf		 b;
	json_t			*c;

	(void)state;
	pc_buf_init(&b, 16384);
	p.exp = NOW + 20;
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), 0);
	c = part(view(&b), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW + 20);
	json_decref(c);
	/* Accepted within the verifier's leeway after its exp: one second, no more. */
	p.exp = NOW - 5;
	b.len = 0;
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), 0);
	c = part(view(&b), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW + 1);
	json_decref(c);
	/* No exp (an API key that never expires): the configured lifetime. */
	p.exp = 0;
	p.type = PC_PRINCIPAL_APIKEY;
	p.issuer = PC_STR_NULL;
	p.claims = PC_STR_NULL;
	b.len = 0;
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), 0);
	c = part(view(&b), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW + 60);
	assert_string_equal(str_of(c, "auth_type"), "apikey");
	assert_null(json_object_get(c, "orig_iss"));
	assert_null(json_object_get(c, "client_id"));
	json_decref(c);
	pc_buf_fini(&b);
	pc_minter_free(m);
}

static void
test_hostile_strings_are_escaped(void **state)
{
	static const char nul_sub[] = "a\"b\0";	/* four bytes: a " b NUL */
	static const char inject[] = "x\",\"sub\":\"admin\",\"aud\":\"y";
	struct pc_minter	*m = minter(fresh_key(PC_ALG_EDDSA, NULL), 60);
	struct pc_principal	 p = alice(), got;
	struct pc_arena		*a = pc_arena_new(1 << 16);
	enum pc_reason		 reason;
	struct pc_buf		 b;
	json_t			*c;

	(void)state;
	pc_buf_init(&b, 16384);
	p.id = pc_str_make(nul_sub, sizeof(nul_sub) - 1);
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), 0);
	c = part(view(&b), 1);
	assert_int_equal(json_string_length(json_object_get(c, "sub")), 4);
	assert_memory_equal(json_string_value(json_object_get(c, "sub")), nul_sub, 4);
	assert_int_equal(json_object_size(c), 10);
	json_decref(c);
	/* The gateway's own verifier refuses \u0000 in a token (auth_json.c): fail closed
	 * for a chained gateway, not a different identity. */
	assert_int_not_equal(verify(m, view(&b), NOW, 0, a, &got, &reason), 0);

	b.len = 0;
	p.id = PC_STR(inject);
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), 0);
	c = part(view(&b), 1);
	assert_string_equal(str_of(c, "sub"), inject);
	assert_string_equal(str_of(c, "aud"), AUD);
	json_decref(c);
	assert_int_equal(verify(m, view(&b), NOW, 0, a, &got, &reason), 0);
	assert_true(pc_str_eq(got.id, PC_STR(inject)));

	/* Not UTF-8: refused, never rewritten into someone else's name. */
	b.len = 0;
	p.id = PC_STR("caf\xe9");
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), -PC_EINVAL);
	assert_int_equal(b.len, 0);
	/* Nobody to vouch for. */
	p.id = PC_STR_NULL;
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), -PC_EINVAL);
	p = alice();
	p.type = PC_PRINCIPAL_NONE;
	assert_int_equal(pc_mint_sign(m, &p, PC_STR(AUD), NOW, &b), -PC_EINVAL);
	pc_buf_fini(&b);
	pc_arena_free(a);
	pc_minter_free(m);
}

static void
test_cache_reuses_then_renews(void **state)
{
	struct pc_mint_key	*k = fresh_key(PC_ALG_EDDSA, NULL);
	struct pc_minter	*m = minter(pc_mint_key_ref(k), 60), *m2 = minter(k, 60);
	struct pc_principal	 p = alice(), bob = alice();
	struct pc_buf		 t1, t2;
	uint64_t		 h0, m0, h, mi;

	(void)state;
	bob.id = PC_STR("bob");
	pc_buf_init(&t1, 16384);
	pc_buf_init(&t2, 16384);
	pc_mint_cache_stats(&h0, &m0);
	assert_int_equal(pc_mint_token(m, &p, PC_STR(AUD), NOW, &t1), 0);
	/* Up to half the lifetime: the same token. */
	assert_int_equal(pc_mint_token(m, &p, PC_STR(AUD), NOW + 29, &t2), 0);
	assert_true(pc_str_eq(view(&t1), view(&t2)));
	pc_mint_cache_stats(&h, &mi);
	assert_int_equal(h - h0, 1);
	assert_int_equal(mi - m0, 1);
	/* Another principal, audience or configuration: another token. */
	t2.len = 0;
	assert_int_equal(pc_mint_token(m, &bob, PC_STR(AUD), NOW + 1, &t2), 0);
	assert_false(pc_str_eq(view(&t1), view(&t2)));
	t2.len = 0;
	assert_int_equal(pc_mint_token(m, &p, PC_STR("portcullis:upstream:b"), NOW + 1, &t2),
	    0);
	assert_false(pc_str_eq(view(&t1), view(&t2)));
	t2.len = 0;
	assert_int_equal(pc_mint_token(m2, &p, PC_STR(AUD), NOW + 1, &t2), 0);
	assert_false(pc_str_eq(view(&t1), view(&t2)));
	/* A new client token for the same subject (other claims): a new minted one. */
	p.claims = PC_STR("{\"sub\":\"alice\",\"jti\":\"second\"}");
	t2.len = 0;
	assert_int_equal(pc_mint_token(m, &p, PC_STR(AUD), NOW + 1, &t2), 0);
	assert_false(pc_str_eq(view(&t1), view(&t2)));
	p = alice();
	/* Half the lifetime gone: renewed, and the renewal is reused in turn. */
	t2.len = 0;
	assert_int_equal(pc_mint_token(m, &p, PC_STR(AUD), NOW + 30, &t2), 0);
	assert_false(pc_str_eq(view(&t1), view(&t2)));
	t1.len = 0;
	assert_int_equal(pc_mint_token(m, &p, PC_STR(AUD), NOW + 31, &t1), 0);
	assert_true(pc_str_eq(view(&t1), view(&t2)));
	/* The clock stepped back: never a token issued "in the future". */
	t1.len = 0;
	assert_int_equal(pc_mint_token(m, &p, PC_STR(AUD), NOW + 10, &t1), 0);
	assert_false(pc_str_eq(view(&t1), view(&t2)));
	pc_mint_cache_stats(&h, &mi);
	assert_int_equal(h - h0, 2);
	assert_int_equal(mi - m0, 7);
	pc_buf_fini(&t1);
	pc_buf_fini(&t2);
	pc_minter_free(m);
	pc_minter_free(m2);
}

static unsigned
nkeys(const struct pc_minter *m, const char **kids)
{
	json_t	*set = json_loadb(pc_minter_jwks(m).ptr, pc_minter_jwks(m).len, 0, NULL);
	json_t	*keys = json_object_get(set, "keys"), *jk;
	size_t	 i;
	unsigned n;

	assert_non_null(set);
	json_array_foreach(keys, i, jk) {
		if (kids[i] != NULL)
			assert_string_equal(str_of(jk, "kid"), kids[i]);
	}
	n = (unsigned)json_array_size(keys);
	json_decref(set);
	return n;
}

static void
test_reload_keeps_the_previous_key(void **state)
{
	struct pc_mint_key	*ka = fresh_key(PC_ALG_EDDSA, "a"), *kb = fresh_key(PC_ALG_ES256,
	    "b");
	struct pc_minter	*m1 = minter(ka, 60), *m2 = minter(kb, 60), *m3, *m4, *m5;
	struct pc_principal	 p = alice(), got;
	struct pc_arena		*a = pc_arena_new(1 << 16);
	enum pc_reason		 reason;
	const char		*ab[] = { "b", "a" }, *cb[] = { "c", "b" }, *c_[] = { "c", NULL };
	struct pc_buf		 tok;

	(void)state;
	pc_buf_init(&tok, 16384);
	assert_int_equal(pc_mint_sign(m1, &p, PC_STR(AUD), NOW, &tok), 0);
	/* A reload with a new key_file: the old key stays published, its token verifies. */
	assert_int_equal(pc_minter_follow(m2, m1), 0);
	assert_int_equal(nkeys(m2, ab), 2);
	assert_int_equal(verify(m2, view(&tok), NOW + 1, 0, a, &got, &reason), 0);
	/* A reload that keeps the key: the previous one is still there. */
	m3 = minter(pc_mint_key_ref(kb), 60);
	assert_int_equal(pc_minter_follow(m3, m2), 0);
	assert_int_equal(nkeys(m3, ab), 2);
	/* A third key: the last two only. */
	m4 = minter(fresh_key(PC_ALG_EDDSA, "c"), 60);
	assert_int_equal(pc_minter_follow(m4, m3), 0);
	assert_int_equal(nkeys(m4, cb), 2);
	assert_int_not_equal(verify(m4, view(&tok), NOW + 1, 0, a, &got, &reason), 0);
	/* First load, and a reload from no gateway_identity: nothing to keep. */
	assert_int_equal(pc_minter_follow(m4, NULL), 0);
	assert_int_equal(pc_minter_follow(NULL, m4), 0);
	/* A new key under the previous key's kid: refused (verifiers would pick either). */
	m5 = minter(fresh_key(PC_ALG_EDDSA, "c"), 60);
	assert_int_equal(pc_minter_follow(m5, m4), -PC_EINVAL);
	assert_int_equal(nkeys(m5, c_), 1);
	pc_buf_fini(&tok);
	pc_arena_free(a);
	pc_minter_free(m1);
	pc_minter_free(m2);
	pc_minter_free(m3);
	pc_minter_free(m4);
	pc_minter_free(m5);
}

static void
test_key_set_has_public_members_only(void **state)
{
	static const char *const allowed[] = { "kty", "crv", "kid", "use", "alg", "x", "y" };
	struct pc_minter	*m1 = minter(fresh_key(PC_ALG_EDDSA, NULL), 60);
	struct pc_minter	*m2 = minter(fresh_key(PC_ALG_ES256, NULL), 60);
	const char		*name;
	json_t			*set, *jk, *v;
	size_t			 i, j;

	(void)state;
	assert_int_equal(pc_minter_follow(m2, m1), 0);
	set = json_loadb(pc_minter_jwks(m2).ptr, pc_minter_jwks(m2).len,
	    JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(set);
	assert_int_equal(json_object_size(set), 1);
	assert_int_equal(json_array_size(json_object_get(set, "keys")), 2);
	json_array_foreach(json_object_get(set, "keys"), i, jk) {
		json_object_foreach(jk, name, v) {
			for (j = 0; j < PC_NELEM(allowed); j++)
				if (strcmp(name, allowed[j]) == 0)
					break;
			assert_true(j < PC_NELEM(allowed));
		}
		assert_null(json_object_get(jk, "d"));
		assert_string_equal(str_of(jk, "use"), "sig");
	}
	json_decref(set);
	pc_minter_free(m1);
	pc_minter_free(m2);
}

static void
test_pem_keys(void **state)
{
	struct pc_skey	*sk;
	struct pc_pkey	*pub;
	char		 err[160];

	(void)state;
	sk = pem_key(p256_pem);
	assert_int_equal(pc_skey_alg(sk), PC_ALG_ES256);
	pc_skey_free(sk);
	sk = pem_key(rfc8037_pem);
	assert_int_equal(pc_skey_alg(sk), PC_ALG_EDDSA);
	pc_skey_free(sk);
	err[0] = '\0';
	assert_int_equal(pc_skey_from_pem(p384_pem, strlen(p384_pem), &sk, &pub, err,
	    sizeof(err)), -PC_EINVAL);
	assert_non_null(strstr(err, "expected Ed25519 or P-256"));
	assert_null(sk);
	/* Encrypted: refused, and without a passphrase prompt on a terminal. */
	assert_int_equal(pc_skey_from_pem(encrypted_pem, strlen(encrypted_pem), &sk, &pub, err,
	    sizeof(err)), -PC_EINVAL);
	assert_int_equal(pc_skey_from_pem("junk", 4, &sk, &pub, err, sizeof(err)), -PC_EINVAL);
	assert_non_null(strstr(err, "no unencrypted PEM private key"));
}

static void
test_ephemeral_key_is_one_per_process(void **state)
{
	struct pc_mint_key *k1, *k2;

	(void)state;
	assert_int_equal(pc_mint_key_ephemeral(&k1), 0);
	assert_int_equal(pc_mint_key_ephemeral(&k2), 0);
	assert_ptr_equal(k1, k2);
	assert_int_equal(strlen(pc_mint_key_kid(k1)), 43);
	pc_mint_key_unref(k1);
	pc_mint_key_unref(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jws_compact_rfc8037_a4),
		cmocka_unit_test(test_default_kid_is_the_rfc7638_thumbprint),
		cmocka_unit_test(test_eddsa_token_claims_and_signature),
		cmocka_unit_test(test_es256_token_with_configured_kid),
		cmocka_unit_test(test_lifetime_never_past_the_client_credential),
		cmocka_unit_test(test_hostile_strings_are_escaped),
		cmocka_unit_test(test_cache_reuses_then_renews),
		cmocka_unit_test(test_reload_keeps_the_previous_key),
		cmocka_unit_test(test_key_set_has_public_members_only),
		cmocka_unit_test(test_pem_keys),
		cmocka_unit_test(test_ephemeral_key_is_one_per_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
