/*
 * crypto/skey.c - signing keys made in memory (Ed25519 and P-256), JWS signatures with
 * them, and their public halves as JWK members.
 * Owns: struct pc_skey. The private key never leaves OpenSSL: there is no export of it,
 * and EVP_PKEY_free clears it.
 * Refuses: any other alg: the gateway signs only with the two fast, misuse-resistant
 * choices (RFC 8725 3.2).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/crypto_int.h"
#include "core/banned.h"

#define P256_BYTES	32

void
pc_skey_free(struct pc_skey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* Big-endian coordinate <name> ("qx", "qy") of <pkey>, padded to P256_BYTES. */
static int
ec_coord(EVP_PKEY *pkey, const char *name, uint8_t out[P256_BYTES])
{
	BIGNUM	*bn = NULL;
	int	 rc = -PC_EINVAL;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) == 1 &&
	    BN_bn2binpad(bn, out, P256_BYTES) == P256_BYTES)
		rc = 0;
	BN_free(bn);
	return rc;
}

/* Base64url of <p>/<n> into <out>/<cap> with a NUL. 0 or -PC_ETOOBIG. */
static int
b64_cstr(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t len;

	if (cap == 0)
		return -PC_ETOOBIG;
	len = pc_b64url_encode(p, n, out, cap - 1);
	if (len == 0 && n != 0) {
		out[0] = '\0';
		return -PC_ETOOBIG;
	}
	out[len] = '\0';
	return 0;
}

/*
 * Writes the public key of <k> as NUL-terminated base64url JWK members: for EdDSA "x"
 * (43 characters; <y> gets "" if given), for ES256 "x" and "y" (43 each). <x>/<y> need
 * 44 bytes. Returns 0, -PC_ETOOBIG or -PC_EINVAL.
 */
int
pc_skey_public_jwk(const struct pc_skey *k, char *x, size_t xcap, char *y, size_t ycap)
{
	uint8_t	 cx[P256_BYTES], cy[P256_BYTES];
	size_t	 len = sizeof(cx);
	int	 rc = -PC_EINVAL;

	if (k->alg == PC_ALG_EDDSA) {
		if (EVP_PKEY_get_raw_public_key(k->pkey, cx, &len) != 1 || len != sizeof(cx))
			goto fail;
		rc = b64_cstr(cx, len, x, xcap);
		if (rc == 0 && y != NULL && ycap > 0)
			y[0] = '\0';
	} else if (k->alg == PC_ALG_ES256) {
		if (y == NULL || ec_coord(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, cx) != 0 ||
		    ec_coord(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, cy) != 0)
			goto fail;
		rc = b64_cstr(cx, sizeof(cx), x, xcap);
		if (rc == 0)
			rc = b64_cstr(cy, sizeof(cy), y, ycap);
	}
fail:
	ERR_clear_error();
	return rc;
}

/*
 * Makes a new key for <alg> (PC_ALG_EDDSA: Ed25519; PC_ALG_ES256: P-256) into *<out>, and
 * its public half, imported back through the same checks as any JWK, into *<pub>.
 * Returns 0, -PC_EINVAL (another alg) or -PC_ENOMEM.
 */
int
pc_skey_generate(enum pc_jws_alg alg, struct pc_skey **out, struct pc_pkey **pub)
{
	struct pc_skey	*k = NULL;
	char		 x[64], y[64];
	int		 rc = -PC_EINVAL;

	*out = NULL;
	*pub = NULL;
	if (alg != PC_ALG_EDDSA && alg != PC_ALG_ES256)
		return rc;
	rc = -PC_ENOMEM;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		goto fail;
	k->alg = alg;
	if (alg == PC_ALG_EDDSA)
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (k->pkey == NULL)
		goto fail;
	rc = pc_skey_public_jwk(k, x, sizeof(x), y, sizeof(y));
	if (rc != 0)
		goto fail;
	if (alg == PC_ALG_EDDSA)
		rc = pc_pkey_okp(PC_STR("Ed25519"), pc_str_c(x), pub, NULL, 0);
	else
		rc = pc_pkey_ec(PC_STR("P-256"), pc_str_c(x), pc_str_c(y), pub, NULL, 0);
	if (rc != 0)
		goto fail;
	*out = k;
	return 0;
fail:
	ERR_clear_error();
	pc_skey_free(k);
	return rc;
}

/* A PEM passphrase callback that has none to give: an encrypted key fails to load instead
 * of OpenSSL's default callback prompting on a terminal that a daemon does not have. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/*
 * Loads the one private key of PEM text <pem>/<len> (PKCS#8 or traditional, unencrypted)
 * into *<out>, with its public half in *<pub> as pc_skey_generate() gives it. Only Ed25519
 * (EdDSA) and P-256 (ES256) keys: anything else is -PC_EINVAL with a message in <err>
 * naming the key type, never its material. -PC_ENOMEM on allocation failure.
 */
int
pc_skey_from_pem(const char *pem, size_t len, struct pc_skey **out, struct pc_pkey **pub,
    char *err, size_t errlen)
{
	struct pc_skey	*k = NULL;
	EVP_PKEY	*pk = NULL;
	BIO		*bio;
	char		 x[64], y[64], group[32];
	size_t		 glen = 0;
	int		 rc = -PC_EINVAL;

	*out = NULL;
	*pub = NULL;
	if (len > INT32_MAX) {
		pc_crypto__err(err, errlen, "the PEM text is too large");
		return -PC_ETOOBIG;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return -PC_ENOMEM;
	pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pk == NULL) {
		pc_crypto__err(err, errlen, "no unencrypted PEM private key found");
		goto fail;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rc = -PC_ENOMEM;
		goto fail;
	}
	if (EVP_PKEY_is_a(pk, "ED25519")) {
		k->alg = PC_ALG_EDDSA;
	} else if (EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_group_name(pk, group,
	    sizeof(group), &glen) == 1 && strcmp(group, "prime256v1") == 0) {
		k->alg = PC_ALG_ES256;
	} else {
		pc_crypto__err(err, errlen, "a %s key; expected Ed25519 or P-256 (EdDSA or ES256)",
		    EVP_PKEY_is_a(pk, "EC") ? "non-P-256 EC" : EVP_PKEY_get0_type_name(pk) != NULL ?
		    EVP_PKEY_get0_type_name(pk) : "unknown");
		goto fail;
	}
	k->pkey = pk;
	pk = NULL;
	rc = pc_skey_public_jwk(k, x, sizeof(x), y, sizeof(y));
	if (rc == 0 && k->alg == PC_ALG_EDDSA)
		rc = pc_pkey_okp(PC_STR("Ed25519"), pc_str_c(x), pub, err, errlen);
	else if (rc == 0)
		rc = pc_pkey_ec(PC_STR("P-256"), pc_str_c(x), pc_str_c(y), pub, err, errlen);
	if (rc != 0)
		goto fail;
	*out = k;
	return 0;
fail:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	pc_skey_free(k);
	return rc;
}

enum pc_jws_alg
pc_skey_alg(const struct pc_skey *k)
{
	return k->alg;
}

/* DER ECDSA-Sig-Value -> r||s, each P256_BYTES. 0 or -PC_EINVAL. */
static int
ecdsa_raw(const uint8_t *der, size_t len, uint8_t *out)
{
	const unsigned char	*p = der;
	const BIGNUM		*r, *s;
	ECDSA_SIG		*es;
	int			 rc = -PC_EINVAL;

	es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (es == NULL)
		return rc;
	ECDSA_SIG_get0(es, &r, &s);
	if (p == der + len && BN_bn2binpad(r, out, P256_BYTES) == P256_BYTES &&
	    BN_bn2binpad(s, out + P256_BYTES, P256_BYTES) == P256_BYTES)
		rc = 0;
	ECDSA_SIG_free(es);
	return rc;
}

int
pc_jws_sign(const struct pc_skey *k, const uint8_t *data, size_t len, uint8_t *sig,
    size_t sigcap)
{
	EVP_MD_CTX	*md;
	uint8_t		 der[80];	/* a P-256 DER signature is at most 72 bytes */
	size_t		 dlen = sizeof(der), want = 64;
	int		 rc = -PC_ENOMEM;

	if (sigcap < want)
		return -PC_ETOOBIG;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return rc;
	rc = -PC_EINVAL;
	if (k->alg == PC_ALG_EDDSA) {
		/* Ed25519 hashes internally (PureEdDSA): no digest, one shot. */
		dlen = sigcap;
		if (EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, k->pkey, NULL) == 1 &&
		    EVP_DigestSign(md, sig, &dlen, data, len) == 1 && dlen == want)
			rc = (int)want;
	} else if (k->alg == PC_ALG_ES256) {
		if (EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, k->pkey, NULL) == 1 &&
		    EVP_DigestSign(md, der, &dlen, data, len) == 1 &&
		    ecdsa_raw(der, dlen, sig) == 0)
			rc = (int)want;
	}
	EVP_MD_CTX_free(md);
	if (rc < 0)
		ERR_clear_error();
	return rc;
}
