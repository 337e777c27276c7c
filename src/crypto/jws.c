/*
 * crypto/jws.c - JWS signature verification (RFC 7515 5.2 step 8, RFC 7518 3, RFC 8037 3.1).
 * Owns: the signature's encoding checks (exact lengths; ECDSA r and s in [1, n-1], turned
 * into DER here rather than by a lenient parser) and one OpenSSL verification per call.
 * Keys are shared between threads: every call makes its own contexts.
 * Refuses: an alg that does not fit the key (pc_jws_alg_fits), before any arithmetic.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto/crypto_int.h"
#include "core/banned.h"

/* A DER INTEGER of the unsigned big-endian <p>/<n> at <out>: minimal, with a 0x00 in
 * front when the top bit is set. Returns the bytes written. <n> is at most 66 and the
 * value is non-zero (checked by the caller), so the length fits in one byte. */
static size_t
der_int(uint8_t *out, const uint8_t *p, size_t n)
{
	size_t o = 0;

	while (n > 1 && *p == 0) {
		p++;
		n--;
	}
	out[o++] = 0x02;
	out[o++] = (uint8_t)(n + (*p & 0x80 ? 1 : 0));
	if (*p & 0x80)
		out[o++] = 0x00;
	memcpy(out + o, p, n);
	return o + n;
}

/* True if 0 < <v> < <order>, both big-endian of <n> bytes. Public values: no need for
 * constant time. */
static bool
in_range(const uint8_t *v, const uint8_t *order, size_t n)
{
	size_t i;
	bool zero = true;

	for (i = 0; i < n; i++)
		if (v[i] != 0)
			zero = false;
	return !zero && memcmp(v, order, n) < 0;
}

/*
 * ECDSA r||s -> DER ECDSA-Sig-Value (RFC 3279 2.2.3) into <der> (<cap> bytes). Refuses,
 * before OpenSSL sees them, r or s of 0 or >= n: s = 0 verifies every message with some
 * libraries ("psychic signatures", CVE-2022-21449), and r, s >= n are other texts for
 * the same signature. Returns the DER length or -PC_EPROTO.
 */
static int
ecdsa_der(const struct pc_pkey *k, const uint8_t *sig, size_t siglen, uint8_t *der,
    size_t cap)
{
	uint8_t	 body[2 * (2 + 1 + PC_EC_MAX_BYTES)];
	size_t	 n = k->csize, blen, o = 0;

	if (n == 0 || siglen != 2 * n || !in_range(sig, k->order, n) ||
	    !in_range(sig + n, k->order, n))
		return -PC_EPROTO;
	blen = der_int(body, sig, n);
	blen += der_int(body + blen, sig + n, n);
	if (blen + 3 > cap)
		return -PC_EPROTO;
	der[o++] = 0x30;
	if (blen >= 0x80)
		der[o++] = 0x81;	/* P-521: up to 138 bytes of body */
	der[o++] = (uint8_t)blen;
	memcpy(der + o, body, blen);
	return (int)(o + blen);
}

/* Public-key verification of <sig> over <data> under <k>. 0, -PC_EPROTO or -PC_ENOMEM. */
static int
verify_pkey(const struct pc_alg_info *a, const struct pc_pkey *k, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX	*md;
	EVP_PKEY_CTX	*pctx = NULL;
	int		 rc = -PC_EPROTO, r;

	md = EVP_MD_CTX_new();
	if (md == NULL)
		return -PC_ENOMEM;
	/* The key is shared: OpenSSL only reads it here (EVP_PKEY is reference counted and
	 * the operation state lives in <md>/<pctx>, which are ours). */
	if (a->md != NULL && pc_crypto__md(a->md) != NULL)
		r = EVP_DigestVerifyInit(md, &pctx, pc_crypto__md(a->md), NULL, k->pkey);
	else
		r = EVP_DigestVerifyInit_ex(md, &pctx, a->md, NULL, NULL, k->pkey, NULL);
	if (r != 1)
		goto fail;
	/* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash. An exact salt
	 * length, not "auto": there is one valid PS384 encoding per signature, not several. */
	if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, a->md, NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)a->mdlen) != 1))
		goto fail;
	r = EVP_DigestVerify(md, sig, siglen, data, len);
	if (r == 1)
		rc = 0;
fail:
	EVP_MD_CTX_free(md);
	return rc;
}

int
pc_jws_verify(enum pc_jws_alg alg, const struct pc_pkey *k, const uint8_t *data, size_t len,
    const uint8_t *sig, size_t siglen)
{
	const struct pc_alg_info *a = pc_crypto__alg(alg);
	uint8_t		 buf[EVP_MAX_MD_SIZE + 2 * (2 + 2 + 1 + PC_EC_MAX_BYTES)];
	int		 rc, n;

	if (a == NULL || !pc_jws_alg_fits(alg, k) || (sig == NULL && siglen != 0))
		return -PC_EPROTO;
	switch (k->type) {
	case PC_KEY_HMAC:
		if (siglen != a->mdlen)
			return -PC_EPROTO;
		n = pc_crypto__hmac(a->md, k->secret, k->secretlen, data, len, buf, sizeof(buf));
		if (n < 0)
			return n == -PC_ENOMEM ? n : -PC_EPROTO;
		/* The full MAC, in constant time: no truncated tags, and no timing oracle that
		 * would let a client find a valid MAC byte by byte. */
		rc = (size_t)n == siglen && CRYPTO_memcmp(buf, sig, siglen) == 0 ? 0 : -PC_EPROTO;
		OPENSSL_cleanse(buf, sizeof(buf));
		return rc;
	case PC_KEY_P256:
	case PC_KEY_P384:
	case PC_KEY_P521:
		/* RFC 7518 3.4: the JWS form is r||s, each exactly the curve's size. */
		n = ecdsa_der(k, sig, siglen, buf, sizeof(buf));
		if (n < 0)
			return n;
		rc = verify_pkey(a, k, data, len, buf, (size_t)n);
		break;
	case PC_KEY_RSA:
		/* Exactly the modulus size (RFC 8017 8.2.2 step 1): no short, padded forms. */
		if (siglen != (k->bits + 7) / 8)
			return -PC_EPROTO;
		rc = verify_pkey(a, k, data, len, sig, siglen);
		break;
	case PC_KEY_ED25519:
		if (siglen != 64)
			return -PC_EPROTO;
		rc = verify_pkey(a, k, data, len, sig, siglen);
		break;
	default:
		return -PC_EPROTO;
	}
	/* A bad signature leaves errors on this thread's OpenSSL queue; tls/ reads that
	 * queue after its own calls, so it must be empty when we return. */
	ERR_clear_error();
	return rc;
}
