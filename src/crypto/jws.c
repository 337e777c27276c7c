/*
 * crypto/jws.c - JWS signature verification (RFC 7515 5.2 step 8, RFC 7518 3, RFC 8037 3.1).
 * Owns: the signature's encoding checks (exact lengths; ECDSA r and s in [1, n-1], turned
 * into DER here rather than by a lenient parser) and one OpenSSL verification per call.
 * Keys are shared between threads: every call makes its own contexts.
 * Refuses: an alg that does not fit the key (pc_jws_alg_fits), before any arithmetic.
 */
#include <pthread.h>
#include <stdlib.h>
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

/*
 * Prepared verification contexts, per thread. EVP_DigestVerifyInit builds a new
 * EVP_PKEY_CTX at every call, and in OpenSSL 3 that means method-store lookups under locks
 * (name maps walked, signature and key-management methods fetched): with the digest, a
 * quarter of a first-seen ES256 verification in `make bench`. A context prepared once per
 * (thread, key, alg) verifies any number of digests with EVP_PKEY_verify, as `openssl
 * speed` does. Keys are found by their serial, never reused (an address is: a key freed
 * by a rotation and a new one may share it), and a context holds its own reference to the
 * EVP_PKEY, so a stale slot can only waste memory until it is reused, never verify with the
 * wrong key. Ed25519 signs the message itself (no digest to hand over): not here.
 */
#define VCTX_SLOTS	16

struct vctx {
	uint64_t	 serial;
	enum pc_jws_alg	 alg;
	EVP_PKEY_CTX	*ctx;
};

static pthread_once_t	vctx_once = PTHREAD_ONCE_INIT;
static pthread_key_t	vctx_key;
static bool		vctx_ok;

static void
vctx_free(void *p)
{
	struct vctx	*v = p;
	unsigned	 i;

	for (i = 0; i < VCTX_SLOTS; i++)
		EVP_PKEY_CTX_free(v[i].ctx);
	free(v);
}

static void
vctx_init(void)
{
	vctx_ok = pthread_key_create(&vctx_key, vctx_free) == 0;
}

static EVP_PKEY_CTX *
vctx_prepare(const struct pc_alg_info *a, const struct pc_pkey *k, const EVP_MD *md)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);

	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
		goto fail;
	/* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash (exact: there is one
	 * valid PS384 encoding per signature, not several). */
	if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)a->mdlen) != 1))
		goto fail;
	return ctx;
fail:
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

/* This thread's prepared context for (<k>, <alg>), or NULL (then the caller takes the
 * one-shot path). */
static EVP_PKEY_CTX *
vctx_get(enum pc_jws_alg alg, const struct pc_alg_info *a, const struct pc_pkey *k,
    const EVP_MD *md)
{
	struct vctx	*v, *s;

	(void)pthread_once(&vctx_once, vctx_init);
	if (!vctx_ok)
		return NULL;
	if ((v = pthread_getspecific(vctx_key)) == NULL) {
		if ((v = calloc(VCTX_SLOTS, sizeof(*v))) == NULL)
			return NULL;
		if (pthread_setspecific(vctx_key, v) != 0) {
			free(v);
			return NULL;
		}
	}
	s = &v[(k->serial * 31 + (uint64_t)alg) % VCTX_SLOTS];
	if (s->ctx != NULL && s->serial == k->serial && s->alg == alg)
		return s->ctx;
	EVP_PKEY_CTX_free(s->ctx);
	s->ctx = vctx_prepare(a, k, md);
	s->serial = k->serial;
	s->alg = alg;
	return s->ctx;
}

/* RSA and ECDSA: the digest here (a method fetched once), the signature check with this
 * thread's prepared context. 0, -PC_EPROTO or -PC_ENOMEM; NULL context: -PC_EAGAIN. */
static int
verify_prepared(enum pc_jws_alg alg, const struct pc_alg_info *a, const struct pc_pkey *k,
    const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen)
{
	const EVP_MD	*md = pc_crypto__md(a->md);
	EVP_PKEY_CTX	*ctx;
	uint8_t		 dg[EVP_MAX_MD_SIZE];
	unsigned int	 dl = 0;

	if (md == NULL || (ctx = vctx_get(alg, a, k, md)) == NULL)
		return -PC_EAGAIN;
	if (EVP_Digest(data, len, dg, &dl, md, NULL) != 1 || dl != a->mdlen)
		return -PC_ENOMEM;
	return EVP_PKEY_verify(ctx, sig, siglen, dg, dl) == 1 ? 0 : -PC_EPROTO;
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
		rc = verify_prepared(alg, a, k, data, len, buf, (size_t)n);
		if (rc == -PC_EAGAIN)
			rc = verify_pkey(a, k, data, len, buf, (size_t)n);
		break;
	case PC_KEY_RSA:
		/* Exactly the modulus size (RFC 8017 8.2.2 step 1): no short, padded forms. */
		if (siglen != (k->bits + 7) / 8)
			return -PC_EPROTO;
		rc = verify_prepared(alg, a, k, data, len, sig, siglen);
		if (rc == -PC_EAGAIN)
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
