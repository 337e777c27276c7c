/*
 * crypto/pkey.c - public keys from JWK members (RFC 7518 6.2, 6.3; RFC 8037 2) and HMAC
 * secrets, each checked before it can verify anything.
 * Owns: struct pc_pkey and every refusal of a weak or malformed key: RSA moduli under
 * 2048 bits, even or < 3 exponents, EC coordinates of the wrong size or a point off the
 * curve, OKP curves other than Ed25519, HMAC secrets under 32 bytes.
 * Does not: read JSON (auth/jwks.c hands over the members' text) or put key material in
 * an error message: messages name the member and the rule, never the value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "crypto/crypto_int.h"
#include "core/banned.h"

struct curve {
	const char	*crv;		/* JWK "crv" */
	const char	*group;		/* OpenSSL group name */
	int		 nid;
	enum pc_key_type type;
	size_t		 size;		/* coordinate bytes */
	unsigned	 bits;
};

static const struct curve curves[] = {
	{ "P-256", "prime256v1", NID_X9_62_prime256v1, PC_KEY_P256, 32, 256 },
	{ "P-384", "secp384r1", NID_secp384r1, PC_KEY_P384, 48, 384 },
	{ "P-521", "secp521r1", NID_secp521r1, PC_KEY_P521, 66, 521 },
};

static struct pc_pkey *
pkey_new(enum pc_key_type type, unsigned bits)
{
	static uint64_t	 serials;
	struct pc_pkey	*k = calloc(1, sizeof(*k));

	if (k != NULL) {
		k->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
		k->type = type;
		k->bits = bits;
	}
	return k;
}

void
pc_pkey_free(struct pc_pkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	pc_secret_free(k->secret, k->secretlen);
	free(k);
}

enum pc_key_type
pc_pkey_type(const struct pc_pkey *k)
{
	return k->type;
}

unsigned
pc_pkey_bits(const struct pc_pkey *k)
{
	return k->bits;
}

/*
 * Decodes member <what> into <buf>/<cap>. A text that decodes to more than <cap> bytes is
 * -PC_ERANGE (the caller's limit), anything not strict base64url is -PC_EINVAL.
 */
static int
member(struct pc_str in, const char *what, uint8_t *buf, size_t cap, size_t *len, char *err,
    size_t errlen)
{
	int rc = pc_b64url_decode(in, buf, cap, len);

	if (rc == -PC_ETOOBIG) {
		pc_crypto__err(err, errlen, "member '%s' is longer than %zu bytes", what, cap);
		return -PC_ERANGE;
	}
	if (rc != 0) {
		pc_crypto__err(err, errlen, "member '%s' is not base64url", what);
		return -PC_EINVAL;
	}
	if (*len == 0) {
		pc_crypto__err(err, errlen, "member '%s' is empty", what);
		return -PC_EINVAL;
	}
	return 0;
}

/* Makes a public EVP_PKEY of type <name> from <params>. 0 or -PC_E*. */
static int
fromdata(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	int		 rc = -PC_ENOMEM;

	*out = NULL;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	if (params == NULL || ctx == NULL)
		goto fail;
	rc = -PC_EINVAL;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1 || *out == NULL)
		goto fail;
	rc = 0;
fail:
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* Leading zero bytes carry no value; JWK forbids them but some issuers still send them
 * for n, and they change neither the key nor its strength. */
static const uint8_t *
strip_zeros(const uint8_t *p, size_t *len)
{
	while (*len > 0 && *p == 0) {
		p++;
		(*len)--;
	}
	return p;
}

int
pc_pkey_rsa(struct pc_str n, struct pc_str e, struct pc_pkey **out, char *err, size_t errlen)
{
	uint8_t		 nbuf[PC_RSA_MAX_BITS / 8 + 1], ebuf[PC_RSA_MAX_E_BYTES + 1];
	const uint8_t	*np, *ep;
	size_t		 nlen, elen;
	unsigned	 bits, top;
	BIGNUM		*bn = NULL, *be = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	struct pc_pkey	*k = NULL;
	int		 rc;

	*out = NULL;
	rc = member(n, "n", nbuf, sizeof(nbuf), &nlen, err, errlen);
	if (rc == 0)
		rc = member(e, "e", ebuf, sizeof(ebuf), &elen, err, errlen);
	if (rc != 0)
		goto fail;
	np = strip_zeros(nbuf, &nlen);
	ep = strip_zeros(ebuf, &elen);
	rc = -PC_ERANGE;
	if (nlen == 0) {
		pc_crypto__err(err, errlen, "RSA modulus is zero");
		goto fail;
	}
	for (top = 0; (np[0] >> top) != 0; top++)
		;
	bits = (unsigned)(nlen - 1) * 8 + top;
	if (bits < PC_RSA_MIN_BITS || bits > PC_RSA_MAX_BITS) {
		pc_crypto__err(err, errlen, "RSA key of %u bits; %u to %u required", bits,
		    PC_RSA_MIN_BITS, PC_RSA_MAX_BITS);
		goto fail;
	}
	/* An even modulus has the factor 2: whatever it is, it is not an RSA key. */
	if ((np[nlen - 1] & 1) == 0) {
		pc_crypto__err(err, errlen, "RSA modulus is even");
		rc = -PC_EINVAL;
		goto fail;
	}
	/* e = 1 makes every "signature" its own message; an even e is not invertible. */
	if (elen > PC_RSA_MAX_E_BYTES) {
		pc_crypto__err(err, errlen, "RSA public exponent longer than %d bits",
		    PC_RSA_MAX_E_BYTES * 8);
		goto fail;
	}
	if (elen == 0 || (ep[elen - 1] & 1) == 0 || (elen == 1 && ep[0] < 3)) {
		pc_crypto__err(err, errlen, "RSA public exponent must be odd and at least 3");
		goto fail;
	}
	rc = -PC_ENOMEM;
	bn = BN_bin2bn(np, (int)nlen, NULL);
	be = BN_bin2bn(ep, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	k = pkey_new(PC_KEY_RSA, bits);
	if (bn == NULL || be == NULL || bld == NULL || k == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1)
		goto fail;
	rc = fromdata("RSA", bld, &k->pkey);
	if (rc != 0) {
		pc_crypto__err(err, errlen, "RSA key refused by OpenSSL");
		goto fail;
	}
	*out = k;
	k = NULL;
fail:
	if (rc == -PC_ENOMEM)
		pc_crypto__err(err, errlen, "out of memory");
	ERR_clear_error();
	pc_pkey_free(k);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

/* The order n of <c>'s group into <k>->order, big-endian, padded to the coordinate size:
 * verification compares r and s with it before OpenSSL sees them. */
static int
ec_order(const struct curve *c, struct pc_pkey *k)
{
	EC_GROUP	*g = EC_GROUP_new_by_curve_name(c->nid);
	const BIGNUM	*order;
	int		 rc = -PC_ENOMEM;

	if (g == NULL)
		return rc;
	order = EC_GROUP_get0_order(g);
	if (order != NULL && BN_bn2binpad(order, k->order, (int)c->size) == (int)c->size) {
		k->csize = c->size;
		rc = 0;
	}
	EC_GROUP_free(g);
	return rc;
}

int
pc_pkey_ec(struct pc_str crv, struct pc_str x, struct pc_str y, struct pc_pkey **out,
    char *err, size_t errlen)
{
	uint8_t		 pub[1 + 2 * PC_EC_MAX_BYTES];
	const struct curve *c = NULL;
	size_t		 i, xlen, ylen;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY_CTX	*chk = NULL;
	struct pc_pkey	*k = NULL;
	int		 rc;

	*out = NULL;
	for (i = 0; i < PC_NELEM(curves); i++)
		if (pc_str_eq(crv, pc_str_c(curves[i].crv)))
			c = &curves[i];
	rc = -PC_EINVAL;
	if (c == NULL) {
		pc_crypto__err(err, errlen, "EC curve is not P-256, P-384 or P-521");
		goto fail;
	}
	/* RFC 7518 6.2.1.2-3: each coordinate is the full size of the curve, so there is one
	 * text per key and a short one is malformed, not "padded for you". */
	pub[0] = POINT_CONVERSION_UNCOMPRESSED;
	rc = member(x, "x", pub + 1, c->size, &xlen, err, errlen);
	if (rc == 0)
		rc = member(y, "y", pub + 1 + c->size, c->size, &ylen, err, errlen);
	if (rc != 0 || xlen != c->size || ylen != c->size) {
		if (rc == 0)
			pc_crypto__err(err, errlen, "EC coordinates must be %zu bytes for %s",
			    c->size, c->crv);
		rc = -PC_EINVAL;
		goto fail;
	}
	rc = -PC_ENOMEM;
	bld = OSSL_PARAM_BLD_new();
	k = pkey_new(c->type, c->bits);
	if (bld == NULL || k == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    1 + 2 * c->size) != 1)
		goto fail;
	/* OpenSSL refuses an off-curve point on import; the explicit public check also
	 * refuses coordinates not below p and points outside the prime-order group (invalid
	 * curve attacks need a point the verifier did not check). */
	rc = fromdata("EC", bld, &k->pkey);
	if (rc == 0) {
		chk = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
		if (chk == NULL)
			rc = -PC_ENOMEM;
		else if (EVP_PKEY_public_check(chk) != 1)
			rc = -PC_EINVAL;
	}
	if (rc == -PC_EINVAL)
		pc_crypto__err(err, errlen, "EC point is not on the curve %s", c->crv);
	if (rc == 0)
		rc = ec_order(c, k);
	if (rc != 0)
		goto fail;
	*out = k;
	k = NULL;
fail:
	if (rc == -PC_ENOMEM)
		pc_crypto__err(err, errlen, "out of memory");
	ERR_clear_error();
	EVP_PKEY_CTX_free(chk);
	OSSL_PARAM_BLD_free(bld);
	pc_pkey_free(k);
	return rc;
}

int
pc_pkey_okp(struct pc_str crv, struct pc_str x, struct pc_pkey **out, char *err,
    size_t errlen)
{
	uint8_t		 raw[PC_ED25519_BYTES];
	size_t		 len;
	struct pc_pkey	*k = NULL;
	int		 rc;

	*out = NULL;
	/* X25519/X448 are key agreement keys and Ed448 is not implemented: only Ed25519
	 * signs (RFC 8037 3.1). */
	if (!pc_str_eq(crv, PC_STR("Ed25519"))) {
		pc_crypto__err(err, errlen, "OKP curve is not Ed25519");
		return -PC_EINVAL;
	}
	rc = member(x, "x", raw, sizeof(raw), &len, err, errlen);
	if (rc != 0 || len != sizeof(raw)) {
		pc_crypto__err(err, errlen, "Ed25519 'x' must be %zu bytes", sizeof(raw));
		return -PC_EINVAL;
	}
	k = pkey_new(PC_KEY_ED25519, 256);
	if (k == NULL) {
		pc_crypto__err(err, errlen, "out of memory");
		return -PC_ENOMEM;
	}
	/* OpenSSL 3.0 does not decode the point here; one that is not on the curve fails
	 * every verification instead (its Ed25519 verify decodes A first). */
	k->pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, raw, sizeof(raw));
	if (k->pkey == NULL) {
		ERR_clear_error();
		pc_pkey_free(k);
		pc_crypto__err(err, errlen, "Ed25519 key refused by OpenSSL");
		return -PC_EINVAL;
	}
	*out = k;
	return 0;
}

int
pc_pkey_hmac(const uint8_t *secret, size_t len, struct pc_pkey **out, char *err,
    size_t errlen)
{
	struct pc_pkey *k;

	*out = NULL;
	/* RFC 7518 3.2: at least the hash size; HS384/HS512 ask more (pc_jws_alg_fits). */
	if (len < PC_HMAC_MIN_BYTES || len > UINT32_MAX / 8) {
		pc_crypto__err(err, errlen, "HMAC secret of %zu bytes; at least %d required", len,
		    PC_HMAC_MIN_BYTES);
		return -PC_ERANGE;
	}
	k = pkey_new(PC_KEY_HMAC, (unsigned)(len * 8));
	if (k != NULL)
		k->secret = malloc(len);
	if (k == NULL || k->secret == NULL) {
		pc_pkey_free(k);
		pc_crypto__err(err, errlen, "out of memory");
		return -PC_ENOMEM;
	}
	memcpy(k->secret, secret, len);
	k->secretlen = len;
	*out = k;
	return 0;
}
