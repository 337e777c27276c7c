/*
 * tests/unit/auth/test_jwt.c - auth/jwt.c and jwt_claims.c: one table row per rule of
 * pc_jwt_verify, each named after the attack it stops (alg none, key confusion, padding and
 * non-canonical base64url, duplicate members, header-embedded keys, crit, kid games, claim
 * and time rules, size and nesting bombs, DER ECDSA signatures), every algorithm accepted
 * with a real signature, the RFC 7515 A.1-A.3 tokens as fixed vectors, and the principal.
 * Keys are made in-process: EdDSA and ES256 with crypto/'s pc_skey_generate, RSA, P-384,
 * P-521 and HMAC signatures with OpenSSL directly (tests may reach inside).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/auth.h"
#include "core/banned.h"

#define NOW	1700000000
#define ISS	"https://issuer.example"
#define TOK_MAX	16384

static unsigned failures;

/* ---- keys ---- */

static struct pc_skey	*sk_ed, *sk_es, *sk_evil;
static EVP_PKEY		*rsa, *p384, *p521;
static struct pc_jwks	*jwks;
static struct pc_pkey	*hmac_key;
static uint8_t		 hmac_secret[64];
static char		 rsa_pem[1024];
static size_t		 rsa_pem_len;
static char		 evil_x[64];

static size_t
b64(const void *p, size_t n, char *out, size_t cap)
{
	size_t w = pc_b64url_encode(p, n, out, cap);

	assert_true(w > 0 || n == 0);
	out[w] = '\0';
	return w;
}

static void
bn_b64(EVP_PKEY *k, const char *param, char *out, size_t cap)
{
	BIGNUM		*bn = NULL;
	uint8_t		 buf[1024];
	int		 n;

	assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	(void)b64(buf, (size_t)n, out, cap);
}

/* x and y of an EC key, each padded to the curve size (RFC 7518 6.2.1.2). */
static void
ec_xy(EVP_PKEY *k, size_t csize, char *x, char *y, size_t cap)
{
	uint8_t	 pt[200];
	size_t	 len;

	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &len), 1);
	assert_int_equal(len, 1 + 2 * csize);
	(void)b64(pt + 1, csize, x, cap);
	(void)b64(pt + 1 + csize, csize, y, cap);
}

static int
setup(void **state)
{
	char	 set[8192], ed_x[64], es_x[64], es_y[64], n[400], e[16];
	char	 x384[80], y384[80], x521[100], y521[100], err[160];
	BIO	*bio;
	struct pc_pkey *pub;

	(void)state;
	assert_int_equal(pc_skey_generate(PC_ALG_EDDSA, &sk_ed, &pub), 0);
	pc_pkey_free(pub);
	assert_int_equal(pc_skey_generate(PC_ALG_ES256, &sk_es, &pub), 0);
	pc_pkey_free(pub);
	assert_int_equal(pc_skey_generate(PC_ALG_EDDSA, &sk_evil, &pub), 0);
	pc_pkey_free(pub);
	assert_int_equal(pc_skey_public_jwk(sk_ed, ed_x, sizeof(ed_x), NULL, 0), 0);
	assert_int_equal(pc_skey_public_jwk(sk_es, es_x, sizeof(es_x), es_y, sizeof(es_y)), 0);
	assert_int_equal(pc_skey_public_jwk(sk_evil, evil_x, sizeof(evil_x), NULL, 0), 0);
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	assert_non_null(rsa);
	assert_non_null(p384);
	assert_non_null(p521);
	bn_b64(rsa, OSSL_PKEY_PARAM_RSA_N, n, sizeof(n));
	bn_b64(rsa, OSSL_PKEY_PARAM_RSA_E, e, sizeof(e));
	ec_xy(p384, 48, x384, y384, sizeof(x384));
	ec_xy(p521, 66, x521, y521, sizeof(x521));
	/* The RSA public key as PEM: what a key-confusion attacker uses as an HMAC secret. */
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa), 1);
	rsa_pem_len = (size_t)BIO_read(bio, rsa_pem, sizeof(rsa_pem));
	BIO_free(bio);
	(void)snprintf(set, sizeof(set),
	    "{\"keys\":["
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed\",\"x\":\"%s\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"es\",\"alg\":\"ES256\",\"x\":\"%s\",\"y\":\"%s\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"rsa\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"rs-only\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"%s\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"p384\",\"x\":\"%s\",\"y\":\"%s\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-521\",\"kid\":\"p521\",\"x\":\"%s\",\"y\":\"%s\"}"
	    "]}", ed_x, es_x, es_y, n, e, n, e, x384, y384, x521, y521);
	err[0] = '\0';
	assert_int_equal(pc_jwks_parse(set, strlen(set), &jwks, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(jwks->nkeys, 6);
	assert_int_equal(pc_random_bytes(hmac_secret, sizeof(hmac_secret)), 0);
	assert_int_equal(pc_pkey_hmac(hmac_secret, sizeof(hmac_secret), &hmac_key, err,
	    sizeof(err)), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pc_jwks_free(jwks);
	pc_pkey_free(hmac_key);
	pc_skey_free(sk_ed);
	pc_skey_free(sk_es);
	pc_skey_free(sk_evil);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p521);
	return 0;
}

/* ---- signing ---- */

enum signer { S_DEFAULT, S_EVIL, S_CONFUSE, S_WRONG_HMAC };

/* ES* DER -> r||s of <csize> bytes each. */
static size_t
der_to_raw(const uint8_t *der, size_t len, size_t csize, uint8_t *out)
{
	const unsigned char	*p = der;
	ECDSA_SIG		*s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM		*r, *ss;

	assert_non_null(s);
	ECDSA_SIG_get0(s, &r, &ss);
	assert_true(BN_bn2binpad(r, out, (int)csize) > 0);
	assert_true(BN_bn2binpad(ss, out + csize, (int)csize) > 0);
	ECDSA_SIG_free(s);
	return 2 * csize;
}

static size_t
ossl_sign(EVP_PKEY *k, const EVP_MD *md, bool pss, size_t ec_csize, const char *in,
    size_t len, uint8_t *sig, bool der)
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX	*pctx = NULL;
	uint8_t		 tmp[1024];
	size_t		 n = sizeof(tmp);

	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, k), 1);
	if (pss) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
	}
	assert_int_equal(EVP_DigestSign(ctx, tmp, &n, (const uint8_t *)in, len), 1);
	EVP_MD_CTX_free(ctx);
	if (ec_csize > 0 && !der)
		return der_to_raw(tmp, n, ec_csize, sig);
	memcpy(sig, tmp, n);
	return n;
}

/* Signs <in> as <alg> with the key the row asks for; <der>: an ES256 DER signature. */
static size_t
sign(enum pc_jws_alg alg, enum signer who, bool der, const char *in, uint8_t *sig)
{
	const uint8_t	*key = hmac_secret;
	size_t		 klen = sizeof(hmac_secret);
	unsigned	 n = 0;
	int		 rc;

	if (who == S_CONFUSE) {
		key = (const uint8_t *)rsa_pem;
		klen = rsa_pem_len;
	} else if (who == S_WRONG_HMAC) {
		static const uint8_t other[64] = { 1, 2, 3 };

		key = other;
		klen = sizeof(other);
	}
	switch (alg) {
	case PC_ALG_EDDSA:
	case PC_ALG_ES256:
		if (alg == PC_ALG_ES256 && der) {
			uint8_t raw[64], tmp[80];
			ECDSA_SIG *s = ECDSA_SIG_new();
			unsigned char *p = tmp;
			int dlen;

			rc = pc_jws_sign(sk_es, (const uint8_t *)in, strlen(in), raw, sizeof(raw));
			assert_int_equal(rc, 64);
			assert_int_equal(ECDSA_SIG_set0(s, BN_bin2bn(raw, 32, NULL),
			    BN_bin2bn(raw + 32, 32, NULL)), 1);
			dlen = i2d_ECDSA_SIG(s, &p);
			ECDSA_SIG_free(s);
			memcpy(sig, tmp, (size_t)dlen);
			return (size_t)dlen;
		}
		rc = pc_jws_sign(alg == PC_ALG_ES256 ? sk_es : who == S_EVIL ? sk_evil : sk_ed,
		    (const uint8_t *)in, strlen(in), sig, 1024);
		assert_true(rc > 0);
		return (size_t)rc;
	case PC_ALG_RS256: return ossl_sign(rsa, EVP_sha256(), false, 0, in, strlen(in), sig, false);
	case PC_ALG_RS384: return ossl_sign(rsa, EVP_sha384(), false, 0, in, strlen(in), sig, false);
	case PC_ALG_RS512: return ossl_sign(rsa, EVP_sha512(), false, 0, in, strlen(in), sig, false);
	case PC_ALG_PS256: return ossl_sign(rsa, EVP_sha256(), true, 0, in, strlen(in), sig, false);
	case PC_ALG_PS384: return ossl_sign(rsa, EVP_sha384(), true, 0, in, strlen(in), sig, false);
	case PC_ALG_PS512: return ossl_sign(rsa, EVP_sha512(), true, 0, in, strlen(in), sig, false);
	case PC_ALG_ES384: return ossl_sign(p384, EVP_sha384(), false, 48, in, strlen(in), sig, der);
	case PC_ALG_ES512: return ossl_sign(p521, EVP_sha512(), false, 66, in, strlen(in), sig, der);
	case PC_ALG_HS256:
		assert_non_null(HMAC(EVP_sha256(), key, (int)klen, (const uint8_t *)in, strlen(in),
		    sig, &n));
		return n;
	case PC_ALG_HS384:
		assert_non_null(HMAC(EVP_sha384(), key, (int)klen, (const uint8_t *)in, strlen(in),
		    sig, &n));
		return n;
	case PC_ALG_HS512:
		assert_non_null(HMAC(EVP_sha512(), key, (int)klen, (const uint8_t *)in, strlen(in),
		    sig, &n));
		return n;
	default:
		return 16;	/* "none" and unknown: any bytes, the verifier must stop first */
	}
}

/* ---- building tokens ---- */

enum mangle {
	M_NONE,
	M_PAD,		/* '=' padding on the header part */
	M_TRAIL,	/* a non-zero unused bit in the header's last character */
	M_PLUSSLASH,	/* '-' and '_' of the payload as '+' and '/' (base64, not base64url) */
	M_NOSIG,	/* "header.payload." */
	M_4PARTS,	/* "header.payload.sig.sig" */
	M_2PARTS,	/* "header.payload" */
	M_TAMPER,	/* one signature byte changed */
	M_DER,		/* ES256 signature in DER instead of r||s */
	M_PAYLOAD_SWAP,	/* signature of another payload */
};

/* out = a b c d e (any may be ""), bounded: the test fails rather than truncating. */
static void
join(char *out, size_t cap, const char *a, const char *b, const char *c, const char *d,
    const char *e)
{
	const char	*parts[5] = { a, b, c, d, e };
	size_t		 n = 0, l, i;

	for (i = 0; i < 5; i++) {
		l = strlen(parts[i]);
		assert_true(n + l < cap);
		memmove(out + n, parts[i], l);
		n += l;
	}
	out[n] = '\0';
}

static void
replace(char *s, size_t cap, const char *what, const char *with)
{
	char	*p = strstr(s, what), head[TOK_MAX], tail[TOK_MAX];

	if (p == NULL)
		return;
	memcpy(head, s, (size_t)(p - s));
	head[p - s] = '\0';
	join(tail, sizeof(tail), p + strlen(what), "", "", "", "");
	join(s, cap, head, with, tail, "", "");
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Builds base64url(header) "." base64url(payload) "." base64url(sig) into <out>. */
static void
make_token(enum pc_jws_alg alg, enum signer who, const char *hdr_in, const char *payload,
    enum mangle m, char *out, size_t cap)
{
	char		 hdr[2048], in[TOK_MAX], s64[2048];
	uint8_t		 sig[1024];
	size_t		 n, slen;
	char		*p;

	join(hdr, sizeof(hdr), hdr_in, "", "", "", "");
	replace(hdr, sizeof(hdr), "@EVIL_X@", evil_x);
	n = b64(hdr, strlen(hdr), in, sizeof(in));
	if (m == M_PAD) {
		assert_true(n % 4 != 0);
		while (n % 4 != 0)
			in[n++] = '=';
	} else if (m == M_TRAIL) {
		assert_true(strlen(hdr) % 3 != 0);
		p = strchr(b64chars, in[n - 1]);
		in[n - 1] = b64chars[((p - b64chars) ^ 1) & 63];
	}
	in[n++] = '.';
	n += b64(payload, strlen(payload), in + n, sizeof(in) - n);
	if (m == M_PLUSSLASH) {
		for (p = in; *p != '\0'; p++)
			if (*p == '-')
				*p = '+';
			else if (*p == '_')
				*p = '/';
	}
	slen = sign(alg, who, m == M_DER, in, sig);
	if (m == M_PAYLOAD_SWAP)
		slen = sign(alg, who, false, "eyJhbGciOiJFZERTQSJ9.e30", sig);
	if (m == M_TAMPER)
		sig[slen / 2] ^= 0x01;
	(void)b64(sig, slen, s64, sizeof(s64));
	if (m == M_NOSIG)
		s64[0] = '\0';
	if (m == M_2PARTS)
		join(out, cap, in, "", "", "", "");
	else if (m == M_4PARTS)
		join(out, cap, in, ".", s64, ".", s64);
	else
		join(out, cap, in, ".", s64, "", "");
}

/* ---- issuers ---- */

enum { V_TYP = 0x1, V_NO_HMAC = 0x2, V_SMALL = 0x4, V_REQ = 0x8, V_NO_LIFETIME = 0x10,
	V_SCP = 0x20 };

static const char *const auds[] = { "api", "https://api.example" };
static const char *const req_claims[] = { "client_id" };

static void
make_issuer(struct pc_jwt_issuer *is, unsigned v)
{
	memset(is, 0, sizeof(*is));
	is->name = "main";
	is->iss = ISS;
	is->audiences = auds;
	is->naudiences = 2;
	is->algs = ~(uint32_t)1 & ((1u << PC_ALG_COUNT) - 1);
	is->keys = jwks;
	is->hmac = (v & V_NO_HMAC) ? NULL : hmac_key;
	is->leeway_s = 30;
	is->max_lifetime_s = (v & V_NO_LIFETIME) ? 0 : 3600;
	is->max_bytes = (v & V_SMALL) ? 100 : 0;
	is->require_at_jwt = (v & V_TYP) != 0;
	is->required_claims = (v & V_REQ) ? req_claims : NULL;
	is->nrequired = (v & V_REQ) ? 1 : 0;
	is->scopes_claim = (v & V_SCP) ? "scp" : NULL;
	is->roles_claim = "realm_access.roles";
}

/* ---- the table ---- */

#define H_ED	"{\"alg\":\"EdDSA\",\"kid\":\"ed\"}"
#define PL(extra) "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"api\"," \
	"\"iat\":1700000000,\"exp\":1700000600" extra "}"
#define OK	PC_R_NONE

struct jcase {
	const char	*name;
	enum pc_jws_alg	 alg;
	enum signer	 who;
	const char	*hdr;
	const char	*payload;
	enum mangle	 m;
	unsigned	 v;
	enum pc_reason	 want;
};

static const struct jcase cases[] = {
	/* every algorithm, really signed */
	{ "EdDSA accepted", PC_ALG_EDDSA, 0, H_ED, PL(""), 0, 0, OK },
	{ "EdDSA without kid: the only Ed25519 key", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\"}",
	    PL(""), 0, 0, OK },
	{ "ES256 accepted", PC_ALG_ES256, 0, "{\"alg\":\"ES256\",\"kid\":\"es\"}", PL(""), 0, 0, OK },
	{ "ES384 accepted", PC_ALG_ES384, 0, "{\"alg\":\"ES384\",\"kid\":\"p384\"}", PL(""), 0, 0, OK },
	{ "ES512 accepted", PC_ALG_ES512, 0, "{\"alg\":\"ES512\",\"kid\":\"p521\"}", PL(""), 0, 0, OK },
	{ "RS256 accepted", PC_ALG_RS256, 0, "{\"alg\":\"RS256\",\"kid\":\"rsa\"}", PL(""), 0, 0, OK },
	{ "RS256 on a key pinned to RS256", PC_ALG_RS256, 0,
	    "{\"alg\":\"RS256\",\"kid\":\"rs-only\"}", PL(""), 0, 0, OK },
	{ "RS384 accepted", PC_ALG_RS384, 0, "{\"alg\":\"RS384\",\"kid\":\"rsa\"}", PL(""), 0, 0, OK },
	{ "RS512 accepted", PC_ALG_RS512, 0, "{\"alg\":\"RS512\",\"kid\":\"rsa\"}", PL(""), 0, 0, OK },
	{ "PS256 accepted", PC_ALG_PS256, 0, "{\"alg\":\"PS256\",\"kid\":\"rsa\"}", PL(""), 0, 0, OK },
	{ "PS384 accepted", PC_ALG_PS384, 0, "{\"alg\":\"PS384\",\"kid\":\"rsa\"}", PL(""), 0, 0, OK },
	{ "PS512 accepted", PC_ALG_PS512, 0, "{\"alg\":\"PS512\",\"kid\":\"rsa\"}", PL(""), 0, 0, OK },
	{ "HS256 with the configured secret", PC_ALG_HS256, 0, "{\"alg\":\"HS256\"}", PL(""), 0, 0, OK },
	{ "HS384 with the configured secret", PC_ALG_HS384, 0, "{\"alg\":\"HS384\"}", PL(""), 0, 0, OK },
	{ "HS512 with the configured secret", PC_ALG_HS512, 0, "{\"alg\":\"HS512\"}", PL(""), 0, 0, OK },
	{ "HS256 kid ignored: the secret is the issuer's", PC_ALG_HS256, 0,
	    "{\"alg\":\"HS256\",\"kid\":\"rsa\"}", PL(""), 0, 0, OK },
	/* alg */
	{ "alg none", PC_ALG_NONE, 0, "{\"alg\":\"none\"}", PL(""), 0, 0, PC_R_AUTH_ALG },
	{ "alg None", PC_ALG_NONE, 0, "{\"alg\":\"None\"}", PL(""), 0, 0, PC_R_AUTH_ALG },
	{ "alg NONE", PC_ALG_NONE, 0, "{\"alg\":\"NONE\"}", PL(""), 0, 0, PC_R_AUTH_ALG },
	{ "alg none, empty signature", PC_ALG_NONE, 0, "{\"alg\":\"none\"}", PL(""), M_NOSIG, 0,
	    PC_R_AUTH_MALFORMED },
	{ "alg lowercase es256", PC_ALG_NONE, 0, "{\"alg\":\"es256\",\"kid\":\"es\"}", PL(""), 0, 0,
	    PC_R_AUTH_ALG },
	{ "alg missing", PC_ALG_EDDSA, 0, "{\"kid\":\"ed\"}", PL(""), 0, 0, PC_R_AUTH_MALFORMED },
	{ "alg not a string", PC_ALG_EDDSA, 0, "{\"alg\":[\"EdDSA\"]}", PL(""), 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "key confusion: HS256 keyed with the RSA public key, no secret configured",
	    PC_ALG_HS256, S_CONFUSE, "{\"alg\":\"HS256\",\"kid\":\"rsa\"}", PL(""), 0, V_NO_HMAC,
	    PC_R_AUTH_ALG },
	{ "key confusion: HS256 keyed with the RSA public key, a secret configured",
	    PC_ALG_HS256, S_CONFUSE, "{\"alg\":\"HS256\",\"kid\":\"rsa\"}", PL(""), 0, 0,
	    PC_R_AUTH_SIGNATURE },
	{ "HS256 with another secret", PC_ALG_HS256, S_WRONG_HMAC, "{\"alg\":\"HS256\"}", PL(""),
	    0, 0, PC_R_AUTH_SIGNATURE },
	/* encodings */
	{ "empty signature", PC_ALG_EDDSA, 0, H_ED, PL(""), M_NOSIG, 0, PC_R_AUTH_MALFORMED },
	{ "padding '='", PC_ALG_EDDSA, 0, H_ED, PL(""), M_PAD, 0, PC_R_AUTH_MALFORMED },
	{ "non-canonical trailing bits", PC_ALG_EDDSA, 0, H_ED, PL(""), M_TRAIL, 0,
	    PC_R_AUTH_MALFORMED },
	{ "'+' and '/' of base64", PC_ALG_EDDSA, 0, H_ED,
	    PL(",\"x\":\"~~~~~~??????\""), M_PLUSSLASH, 0, PC_R_AUTH_MALFORMED },
	{ "the same payload with '-' and '_' is fine", PC_ALG_EDDSA, 0, H_ED,
	    PL(",\"x\":\"~~~~~~??????\""), 0, 0, OK },
	{ "4 parts", PC_ALG_EDDSA, 0, H_ED, PL(""), M_4PARTS, 0, PC_R_AUTH_MALFORMED },
	{ "2 parts", PC_ALG_EDDSA, 0, H_ED, PL(""), M_2PARTS, 0, PC_R_AUTH_MALFORMED },
	{ "header not JSON", PC_ALG_EDDSA, 0, "{alg:EdDSA}", PL(""), 0, 0, PC_R_AUTH_MALFORMED },
	{ "header a JSON array", PC_ALG_EDDSA, 0, "[\"EdDSA\"]", PL(""), 0, 0, PC_R_AUTH_MALFORMED },
	{ "header with trailing bytes", PC_ALG_EDDSA, 0, H_ED "x", PL(""), 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "payload not JSON", PC_ALG_EDDSA, 0, H_ED, "It's a Dangerous Business", 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "payload with a NUL escape", PC_ALG_EDDSA, 0, H_ED, PL(",\"x\":\"a\\u0000b\""), 0, 0,
	    PC_R_AUTH_MALFORMED },
	/* duplicates: two parsers, two answers */
	{ "duplicate alg in header", PC_ALG_EDDSA, 0,
	    "{\"alg\":\"none\",\"kid\":\"ed\",\"alg\":\"EdDSA\"}", PL(""), 0, 0, PC_R_AUTH_MALFORMED },
	{ "duplicate exp in payload", PC_ALG_EDDSA, 0, H_ED, PL(",\"exp\":9999999999"), 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "duplicate sub in payload", PC_ALG_EDDSA, 0, H_ED, PL(",\"sub\":\"admin\""), 0, 0,
	    PC_R_AUTH_MALFORMED },
	/* the token never names its own key */
	{ "jwk header with the attacker's key", PC_ALG_EDDSA, S_EVIL,
	    "{\"alg\":\"EdDSA\",\"jwk\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"@EVIL_X@\"}}",
	    PL(""), 0, 0, PC_R_AUTH_SIGNATURE },
	{ "jwk header, kid of ours, attacker's signature", PC_ALG_EDDSA, S_EVIL,
	    "{\"alg\":\"EdDSA\",\"kid\":\"ed\",\"jwk\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"@EVIL_X@\"}}", PL(""), 0, 0, PC_R_AUTH_SIGNATURE },
	{ "jku, x5u, x5c present but ignored", PC_ALG_EDDSA, 0,
	    "{\"alg\":\"EdDSA\",\"kid\":\"ed\",\"jku\":\"https://evil.example/k\","
	    "\"x5u\":\"https://evil.example/c\",\"x5c\":[\"MIIB\"]}", PL(""), 0, 0, OK },
	{ "jku to the attacker's set, attacker's signature", PC_ALG_EDDSA, S_EVIL,
	    "{\"alg\":\"EdDSA\",\"jku\":\"https://evil.example/k\"}", PL(""), 0, 0,
	    PC_R_AUTH_SIGNATURE },
	{ "crit present", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\",\"kid\":\"ed\",\"crit\":[\"exp\"]," 
	    "\"exp\":1}", PL(""), 0, 0, PC_R_AUTH_CRIT },
	{ "crit b64 (RFC 7797)", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\",\"b64\":false,"
	    "\"crit\":[\"b64\"]}", PL(""), 0, 0, PC_R_AUTH_CRIT },
	/* kid */
	{ "kid unknown", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\",\"kid\":\"nope\"}", PL(""), 0, 0,
	    PC_R_AUTH_KEY_UNKNOWN },
	{ "kid injection text", PC_ALG_EDDSA, 0,
	    "{\"alg\":\"EdDSA\",\"kid\":\"../../dev/null' OR 1=1\"}", PL(""), 0, 0,
	    PC_R_AUTH_KEY_UNKNOWN },
	{ "kid empty", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\",\"kid\":\"\"}", PL(""), 0, 0,
	    PC_R_AUTH_KEY_UNKNOWN },
	{ "kid not a string", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\",\"kid\":1}", PL(""), 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "kid of a key pinned to another alg", PC_ALG_PS256, 0,
	    "{\"alg\":\"PS256\",\"kid\":\"rs-only\"}", PL(""), 0, 0, PC_R_AUTH_KEY_UNKNOWN },
	{ "kid of a key of another type", PC_ALG_ES256, 0, "{\"alg\":\"ES256\",\"kid\":\"ed\"}",
	    PL(""), 0, 0, PC_R_AUTH_KEY_UNKNOWN },
	{ "kid of a P-384 key for ES256", PC_ALG_ES256, 0, "{\"alg\":\"ES256\",\"kid\":\"p384\"}",
	    PL(""), 0, 0, PC_R_AUTH_KEY_UNKNOWN },
	{ "no kid with two keys that fit", PC_ALG_RS256, 0, "{\"alg\":\"RS256\"}", PL(""), 0, 0,
	    PC_R_AUTH_KEY_UNKNOWN },
	/* signatures */
	{ "signature tampered", PC_ALG_EDDSA, 0, H_ED, PL(""), M_TAMPER, 0, PC_R_AUTH_SIGNATURE },
	{ "signature of another token", PC_ALG_EDDSA, 0, H_ED, PL(""), M_PAYLOAD_SWAP, 0,
	    PC_R_AUTH_SIGNATURE },
	{ "ES256 with a DER signature instead of r||s", PC_ALG_ES256, 0,
	    "{\"alg\":\"ES256\",\"kid\":\"es\"}", PL(""), M_DER, 0, PC_R_AUTH_SIGNATURE },
	{ "RS256 signature tampered", PC_ALG_RS256, 0, "{\"alg\":\"RS256\",\"kid\":\"rsa\"}",
	    PL(""), M_TAMPER, 0, PC_R_AUTH_SIGNATURE },
	/* iss */
	{ "wrong iss", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"https://evil.example\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1700000600}",
	    0, 0, PC_R_AUTH_ISSUER },
	{ "iss with a trailing slash", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "/\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1700000600}",
	    0, 0, PC_R_AUTH_ISSUER },
	{ "iss missing", PC_ALG_EDDSA, 0, H_ED,
	    "{\"sub\":\"a\",\"aud\":\"api\",\"exp\":1700000600}", 0, 0, PC_R_AUTH_ISSUER },
	{ "iss not a string", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":[\"" ISS "\"],\"sub\":\"a\",\"aud\":\"api\",\"exp\":1700000600}", 0, 0,
	    PC_R_AUTH_MALFORMED },
	/* aud */
	{ "aud array with ours", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":[\"x\",\"https://api.example\"],"
	    "\"exp\":1700000600}", 0, 0, OK },
	{ "aud array without ours", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":[\"x\",\"y\"],\"exp\":1700000600}", 0, 0,
	    PC_R_AUTH_AUDIENCE },
	{ "aud wrong string", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"API\",\"exp\":1700000600}", 0, 0,
	    PC_R_AUTH_AUDIENCE },
	{ "aud missing", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"exp\":1700000600}", 0, 0, PC_R_AUTH_AUDIENCE },
	{ "aud a number", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":1,\"exp\":1700000600}", 0, 0,
	    PC_R_AUTH_MALFORMED },
	/* times (now = 1700000000, leeway 30) */
	{ "exp missing", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\"}", 0, 0, PC_R_AUTH_EXPIRED },
	{ "exp a string", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":\"1700000600\"}", 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "exp negative", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":-1}", 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "exp over 2^53", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":9007199254740993}", 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "exp 1e400 (real overflow)", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1e400}", 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "exp past", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1699999970}", 0, 0,
	    PC_R_AUTH_EXPIRED },
	{ "exp past, within leeway", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1699999971}", 0, 0, OK },
	{ "exp as a real", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1700000600.5}", 0, 0, OK },
	{ "nbf future", PC_ALG_EDDSA, 0, H_ED, PL(",\"nbf\":1700000031"), 0, 0,
	    PC_R_AUTH_NOT_YET_VALID },
	{ "nbf future within leeway", PC_ALG_EDDSA, 0, H_ED, PL(",\"nbf\":1700000030"), 0, 0, OK },
	{ "iat future", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"iat\":1700000100,"
	    "\"exp\":1700000600}", 0, 0, PC_R_AUTH_NOT_YET_VALID },
	{ "nbf a string", PC_ALG_EDDSA, 0, H_ED, PL(",\"nbf\":\"0\""), 0, 0, PC_R_AUTH_MALFORMED },
	{ "lifetime over max (from iat)", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"iat\":1700000000,"
	    "\"exp\":1700003601}", 0, 0, PC_R_AUTH_LIFETIME },
	{ "lifetime at max", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"iat\":1700000000,"
	    "\"exp\":1700003600}", 0, 0, OK },
	{ "lifetime over max (from nbf)", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"nbf\":1700000000,"
	    "\"exp\":1700003601}", 0, 0, PC_R_AUTH_LIFETIME },
	{ "lifetime over max (from now, no iat or nbf)", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1700003601}", 0, 0,
	    PC_R_AUTH_LIFETIME },
	{ "no lifetime limit: a 10-year token", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":2000000000}", 0,
	    V_NO_LIFETIME, OK },
	/* typ */
	{ "typ required, missing", PC_ALG_EDDSA, 0, H_ED, PL(""), 0, V_TYP, PC_R_AUTH_TYP },
	{ "typ required, JWT", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", PL(""), 0,
	    V_TYP, PC_R_AUTH_TYP },
	{ "typ required, at+jwt", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\"}",
	    PL(""), 0, V_TYP, OK },
	{ "typ required, application/AT+JWT", PC_ALG_EDDSA, 0,
	    "{\"alg\":\"EdDSA\",\"typ\":\"application/AT+JWT\"}", PL(""), 0, V_TYP, OK },
	{ "typ not required, JWT", PC_ALG_EDDSA, 0, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", PL(""),
	    0, 0, OK },
	/* claims */
	{ "required claim missing", PC_ALG_EDDSA, 0, H_ED, PL(""), 0, V_REQ,
	    PC_R_AUTH_CLAIM_MISSING },
	{ "required claim null", PC_ALG_EDDSA, 0, H_ED, PL(",\"client_id\":null"), 0, V_REQ,
	    PC_R_AUTH_CLAIM_MISSING },
	{ "required claim present", PC_ALG_EDDSA, 0, H_ED, PL(",\"client_id\":\"c\""), 0, V_REQ,
	    OK },
	{ "sub missing", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":1700000600}", 0, 0,
	    PC_R_AUTH_CLAIM_MISSING },
	{ "sub a number", PC_ALG_EDDSA, 0, H_ED,
	    "{\"iss\":\"" ISS "\",\"sub\":7,\"aud\":\"api\",\"exp\":1700000600}", 0, 0,
	    PC_R_AUTH_CLAIM_MISSING },
	{ "scope a number", PC_ALG_EDDSA, 0, H_ED, PL(",\"scope\":7"), 0, 0, PC_R_AUTH_MALFORMED },
	{ "roles not an array", PC_ALG_EDDSA, 0, H_ED,
	    PL(",\"realm_access\":{\"roles\":\"admin\"}"), 0, 0, PC_R_AUTH_MALFORMED },
	/* size and nesting */
	{ "token over the issuer's max_bytes", PC_ALG_EDDSA, 0, H_ED, PL(""), 0, V_SMALL,
	    PC_R_AUTH_TOO_LARGE },
	{ "16 levels of nesting", PC_ALG_EDDSA, 0, H_ED,
	    PL(",\"x\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]"), 0, 0, OK },
	{ "17 levels of nesting", PC_ALG_EDDSA, 0, H_ED,
	    PL(",\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]"), 0, 0, PC_R_AUTH_MALFORMED },
	{ "deep nesting in the header", PC_ALG_EDDSA, 0,
	    "{\"alg\":\"EdDSA\",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}", PL(""), 0, 0,
	    PC_R_AUTH_MALFORMED },
	{ "brackets inside strings do not count", PC_ALG_EDDSA, 0, H_ED,
	    PL(",\"x\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[[\""), 0, 0, OK },
};

static void
test_table(void **state)
{
	struct pc_jwt_issuer	 is;
	const struct pc_jwt_issuer *list[1] = { &is };
	struct pc_principal	 p;
	struct pc_arena		*a;
	char			 tok[TOK_MAX];
	const char		*detail;
	enum pc_reason		 r;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++) {
		const struct jcase *c = &cases[i];

		make_issuer(&is, c->v);
		make_token(c->alg, c->who, c->hdr, c->payload, c->m, tok, sizeof(tok));
		a = pc_arena_new(64 * 1024);
		assert_non_null(a);
		detail = NULL;
		r = PC_R_INTERNAL;
		rc = pc_jwt_verify(list, 1, pc_str_c(tok), NOW, a, &p, &r, &detail);
		if (rc != (c->want == OK ? 0 : -PC_EPROTO) || r != c->want) {
			(void)fprintf(stderr, "FAIL %s: rc %d reason %s (%s), want %s\n", c->name,
			    rc, pc_reason_name(r), detail ? detail : "-", pc_reason_name(c->want));
			failures++;
		} else if (rc != 0 && (detail == NULL || strstr(tok, detail) != NULL)) {
			(void)fprintf(stderr, "FAIL %s: detail missing or echoes the token\n",
			    c->name);
			failures++;
		}
		pc_arena_free(a);
	}
	(void)fprintf(stderr, "jwt table: %zu cases, %u failures\n", PC_NELEM(cases), failures);
	assert_int_equal(failures, 0);
}

/* ---- fixed vectors: RFC 7515 appendix A ---- */

#define RFC_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define RFC_A1 "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." RFC_PAYLOAD \
	".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define RFC_A1_K "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
#define RFC_A2 "eyJhbGciOiJSUzI1NiJ9." RFC_PAYLOAD \
	".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
#define RFC_A2_N "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define RFC_A3 "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD \
	".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
#define RFC_A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC_A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"

/*
 * The RFC tokens carry iss "joe", exp 1300819380 and no aud or sub. Verified at a time
 * before exp, the first refusal after a good signature is the audience: reaching it proves
 * the signature verified; one flipped signature character must stop at the signature.
 */
static void
rfc_vector(const char *tok, const struct pc_jwks *ks, const struct pc_pkey *hk,
    enum pc_jws_alg alg)
{
	static const char *const none[] = { "nobody" };
	struct pc_jwt_issuer	 is;
	const struct pc_jwt_issuer *list[1] = { &is };
	struct pc_principal	 p;
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	char			 bad[1024];
	const char		*d;
	enum pc_reason		 r;
	size_t			 n;

	memset(&is, 0, sizeof(is));
	is.name = "rfc";
	is.iss = "joe";
	is.audiences = none;
	is.naudiences = 1;
	is.algs = 1u << alg;
	is.keys = ks;
	is.hmac = hk;
	assert_int_equal(pc_jwt_verify(list, 1, pc_str_c(tok), 1300819000, a, &p, &r, &d),
	    -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_AUDIENCE);
	join(bad, sizeof(bad), tok, "", "", "", "");
	n = strlen(bad);
	bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(pc_jwt_verify(list, 1, pc_str_c(bad), 1300819000, a, &p, &r, &d),
	    -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_SIGNATURE);
	/* Not in the issuer's list: the same token is refused for its alg. */
	is.algs = 1u << PC_ALG_EDDSA;
	assert_int_equal(pc_jwt_verify(list, 1, pc_str_c(tok), 1300819000, a, &p, &r, &d),
	    -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_ALG);
	pc_arena_free(a);
}

static void
test_rfc7515_vectors(void **state)
{
	struct pc_jwks	*ks = NULL;
	struct pc_pkey	*hk = NULL;
	uint8_t		 k[64];
	size_t		 klen;
	char		 set[1024], err[160];

	(void)state;
	assert_int_equal(pc_b64url_decode(PC_STR(RFC_A1_K), k, sizeof(k), &klen), 0);
	assert_int_equal(pc_pkey_hmac(k, klen, &hk, err, sizeof(err)), 0);
	rfc_vector(RFC_A1, NULL, hk, PC_ALG_HS256);
	pc_pkey_free(hk);

	(void)snprintf(set, sizeof(set), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}",
	    RFC_A2_N);
	assert_int_equal(pc_jwks_parse(set, strlen(set), &ks, NULL, NULL, err, sizeof(err)), 0);
	rfc_vector(RFC_A2, ks, NULL, PC_ALG_RS256);
	pc_jwks_free(ks);

	(void)snprintf(set, sizeof(set), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}]}", RFC_A3_X, RFC_A3_Y);
	assert_int_equal(pc_jwks_parse(set, strlen(set), &ks, NULL, NULL, err, sizeof(err)), 0);
	rfc_vector(RFC_A3, ks, NULL, PC_ALG_ES256);
	pc_jwks_free(ks);
}

/* ---- the principal ---- */

static int
verify_one(unsigned v, const char *hdr, const char *payload, struct pc_arena *a,
    struct pc_principal *p, enum pc_reason *r)
{
	struct pc_jwt_issuer	 is;
	const struct pc_jwt_issuer *list[1] = { &is };
	char			 tok[TOK_MAX];
	const char		*d;

	make_issuer(&is, v);
	make_token(PC_ALG_EDDSA, S_DEFAULT, hdr, payload, M_NONE, tok, sizeof(tok));
	return pc_jwt_verify(list, 1, pc_str_c(tok), NOW, a, p, r, &d);
}

static bool
str_is(struct pc_str s, const char *c)
{
	return pc_str_eq(s, pc_str_c(c));
}

static void
test_principal(void **state)
{
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	struct pc_principal	 p;
	enum pc_reason		 r;
	const char		*pl = PL(",\"scope\":\"read  write admin:x\",\"acr\":\"urn:mfa\","
	    "\"amr\":[\"pwd\",\"otp\"],\"auth_time\":1699999000,"
	    "\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2\"},"
	    "\"realm_access\":{\"roles\":[\"admin\",\"ops\"]}");

	(void)state;
	assert_int_equal(verify_one(0, H_ED, pl, a, &p, &r), 0);
	assert_int_equal(p.type, PC_PRINCIPAL_JWT);
	assert_true(str_is(p.id, "alice"));
	assert_true(str_is(p.issuer, ISS));
	assert_string_equal(p.issuer_name, "main");
	assert_int_equal(p.nscopes, 3);
	assert_true(str_is(p.scopes[0], "read"));
	assert_true(str_is(p.scopes[1], "write"));
	assert_true(str_is(p.scopes[2], "admin:x"));
	assert_true(pc_principal_has_scope(&p, PC_STR("write")));
	assert_false(pc_principal_has_scope(&p, PC_STR("WRITE")));
	assert_false(pc_principal_has_scope(&p, PC_STR("writ")));
	assert_false(pc_principal_has_scope(&p, PC_STR("admin")));
	assert_false(pc_principal_has_scope(NULL, PC_STR("read")));
	assert_int_equal(p.nroles, 2);
	assert_true(str_is(p.roles[0], "admin"));
	assert_true(str_is(p.roles[1], "ops"));
	assert_true(str_is(p.acr, "urn:mfa"));
	assert_true(str_is(p.amr, "pwd otp"));
	assert_int_equal(p.auth_time, 1699999000);
	assert_int_equal(p.exp, 1700000600);
	assert_true(str_is(p.cnf_x5t, "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"));
	assert_true(str_is(p.claims, pl));
	/* Every string lives in the arena, none in the token or in jansson's heap. */
	assert_true(pc_arena_used(a) > p.claims.len);

	/* "scp" array, configured as scp */
	pc_arena_reset(a);
	assert_int_equal(verify_one(V_SCP, H_ED, PL(",\"scp\":[\"a\",\"b c\"]"), a, &p, &r), 0);
	assert_int_equal(p.nscopes, 2);
	assert_true(str_is(p.scopes[1], "b c"));
	assert_int_equal(p.nroles, 0);
	assert_int_equal(p.amr.len, 0);
	assert_int_equal(p.cnf_x5t.len, 0);
	/* the string shape under the name "scp", and the array shape under "scope" */
	pc_arena_reset(a);
	assert_int_equal(verify_one(V_SCP, H_ED, PL(",\"scp\":\"x y\""), a, &p, &r), 0);
	assert_int_equal(p.nscopes, 2);
	pc_arena_reset(a);
	assert_int_equal(verify_one(0, H_ED, PL(",\"scope\":[\"x\"]"), a, &p, &r), 0);
	assert_int_equal(p.nscopes, 1);
	/* a scope array holding a number */
	pc_arena_reset(a);
	assert_int_equal(verify_one(0, H_ED, PL(",\"scope\":[\"x\",1]"), a, &p, &r), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_MALFORMED);
	/* the roles path missing halfway: no roles, not an error */
	pc_arena_reset(a);
	assert_int_equal(verify_one(0, H_ED, PL(",\"realm_access\":{}"), a, &p, &r), 0);
	assert_int_equal(p.nroles, 0);
	pc_arena_free(a);
}

/* A scope list longer than PC_PRINCIPAL_LIST_MAX keeps the first ones only. */
static void
test_scope_cap(void **state)
{
	struct pc_arena		*a = pc_arena_new(256 * 1024);
	struct pc_principal	 p;
	enum pc_reason		 r;
	char			 pl[4096], sc[2048];
	size_t			 n = 0;
	unsigned		 i;

	(void)state;
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(sc + n, sizeof(sc) - n, "s%u ", i);
	(void)snprintf(pl, sizeof(pl), PL(",\"scope\":\"%s\""), sc);
	assert_int_equal(verify_one(0, H_ED, pl, a, &p, &r), 0);
	assert_int_equal(p.nscopes, PC_PRINCIPAL_LIST_MAX);
	assert_true(pc_principal_has_scope(&p, PC_STR("s63")));
	assert_false(pc_principal_has_scope(&p, PC_STR("s64")));
	pc_arena_free(a);
}

/* Issuers: the payload's iss picks one; each has its own keys; none at all is refused. */
static void
test_issuers(void **state)
{
	struct pc_jwt_issuer	 one, two;
	const struct pc_jwt_issuer *list[3] = { &one, NULL, &two };
	struct pc_arena		*a = pc_arena_new(64 * 1024);
	struct pc_principal	 p;
	char			 tok[TOK_MAX], big[10000];
	const char		*d;
	enum pc_reason		 r;

	(void)state;
	make_issuer(&one, 0);
	make_issuer(&two, 0);
	one.iss = "https://other.example";
	one.keys = NULL;
	two.name = "second";
	make_token(PC_ALG_EDDSA, S_DEFAULT, H_ED, PL(""), M_NONE, tok, sizeof(tok));
	assert_int_equal(pc_jwt_verify(list, 3, pc_str_c(tok), NOW, a, &p, &r, &d), 0);
	assert_string_equal(p.issuer_name, "second");
	/* The verifying issuer itself: the token cache files the verdict under it. */
	assert_ptr_equal(p.via, &two);
	assert_int_equal(pc_jwt_verify(list, 1, pc_str_c(tok), NOW, a, &p, &r, &d), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_ISSUER);
	assert_int_equal(pc_jwt_verify(list, 0, pc_str_c(tok), NOW, a, &p, &r, &d), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_ISSUER);
	/* the other issuer has no public keys: never falls back to another issuer's */
	one.iss = ISS;
	assert_int_equal(pc_jwt_verify(list, 1, pc_str_c(tok), NOW, a, &p, &r, &d), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_KEY_UNKNOWN);
	/* over the default 8192 bytes, refused before decoding */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pc_jwt_verify(list + 2, 1, pc_str_c(big), NOW, a, &p, &r, &d),
	    -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_TOO_LARGE);
	assert_int_equal(pc_jwt_verify(list + 2, 1, PC_STR(""), NOW, a, &p, &r, &d), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_MALFORMED);
	assert_int_equal(pc_jwt_verify(list + 2, 1, PC_STR(".."), NOW, a, &p, &r, &d), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_MALFORMED);
	pc_arena_free(a);
}

/* A tiny arena: the verifier answers -PC_ENOMEM, never crashes or half-fills. */
static void
test_arena_exhausted(void **state)
{
	struct pc_jwt_issuer	 is;
	const struct pc_jwt_issuer *list[1] = { &is };
	struct pc_principal	 p;
	struct pc_arena		*a;
	char			 tok[TOK_MAX];
	const char		*d;
	enum pc_reason		 r;
	size_t			 cap;
	int			 rc, ok = 0, nomem = 0;

	(void)state;
	make_issuer(&is, 0);
	make_token(PC_ALG_EDDSA, S_DEFAULT, H_ED, PL(",\"scope\":\"a b\",\"amr\":[\"x\"]"),
	    M_NONE, tok, sizeof(tok));
	for (cap = 64; cap < 8192; cap += 64) {
		a = pc_arena_new(cap);
		if (a == NULL)
			continue;
		memset(&p, 0, sizeof(p));
		rc = pc_jwt_verify(list, 1, pc_str_c(tok), NOW, a, &p, &r, &d);
		if (rc == 0)
			ok++;
		else {
			assert_int_equal(rc, -PC_ENOMEM);
			assert_int_equal(p.type, PC_PRINCIPAL_NONE);
			nomem++;
		}
		pc_arena_free(a);
	}
	assert_true(ok > 0);
	assert_true(nomem > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_rfc7515_vectors),
		cmocka_unit_test(test_principal),
		cmocka_unit_test(test_scope_cap),
		cmocka_unit_test(test_issuers),
		cmocka_unit_test(test_arena_exhausted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
