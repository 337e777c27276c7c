/*
 * crypto/crypto.h - the public interface of crypto/: the JOSE algorithms (RFC 7518, RFC
 * 8037) over OpenSSL 3 EVP: public keys imported from JWK parameters, JWS signature
 * verification and signing, SHA-256, HMAC-SHA-256, constant-time comparison.
 * Owns: which algorithm fits which key, and every check on a key or a signature's encoding
 * (RSA under 2048 bits, points off the curve, ECDSA r or s of 0 or not below the order).
 * Does not: parse JSON or tokens (auth/), or know about TLS (tls/). OpenSSL's headers stay
 * inside crypto/ and tls/ (scripts/lint.sh).
 */
#ifndef PC_CRYPTO_H
#define PC_CRYPTO_H

#include "core/core.h"

/* JWS "alg" values we implement. PC_ALG_NONE is "none" and every unknown name: never valid. */
enum pc_jws_alg {
	PC_ALG_NONE = 0,
	PC_ALG_RS256, PC_ALG_RS384, PC_ALG_RS512,
	PC_ALG_PS256, PC_ALG_PS384, PC_ALG_PS512,
	PC_ALG_ES256, PC_ALG_ES384, PC_ALG_ES512,
	PC_ALG_EDDSA,			/* Ed25519 only (RFC 8037) */
	PC_ALG_HS256, PC_ALG_HS384, PC_ALG_HS512,
	PC_ALG_COUNT
};

/* The exact, case-sensitive JWS name ("RS256", "EdDSA", ...) -> alg; PC_ALG_NONE otherwise. */
enum pc_jws_alg	 pc_jws_alg_from_str(struct pc_str name);
const char	*pc_jws_alg_name(enum pc_jws_alg alg);	/* "" for PC_ALG_NONE */
bool		 pc_jws_alg_is_hmac(enum pc_jws_alg alg);

enum pc_key_type {
	PC_KEY_RSA,
	PC_KEY_P256, PC_KEY_P384, PC_KEY_P521,
	PC_KEY_ED25519,
	PC_KEY_HMAC,			/* a shared secret: HS* only, and never from a JWKS URL */
};

/* A key, immutable once made; safe to share between threads. */
struct pc_pkey;

/*
 * Imports from JWK members (RFC 7518 6), each given as its base64url text exactly as in the
 * JSON; strict base64url (core: pc_b64url_decode). On error returns -PC_EINVAL (malformed),
 * -PC_ERANGE (too weak: RSA under 2048 bits or a public exponent that is not odd and > 1;
 * an HMAC secret under 32 bytes) or -PC_ENOMEM, with a message in <err> naming the problem
 * (never the key material).
 */
PC_MUST_CHECK int pc_pkey_rsa(struct pc_str n, struct pc_str e, struct pc_pkey **out,
    char *err, size_t errlen);
/* crv "P-256", "P-384", "P-521"; the point must be on the curve. */
PC_MUST_CHECK int pc_pkey_ec(struct pc_str crv, struct pc_str x, struct pc_str y,
    struct pc_pkey **out, char *err, size_t errlen);
/* kty "OKP": crv "Ed25519" only (X25519 is not a signature key). */
PC_MUST_CHECK int pc_pkey_okp(struct pc_str crv, struct pc_str x, struct pc_pkey **out,
    char *err, size_t errlen);
/* A raw HMAC secret (from ${env:}/${file:}, never from a key set). */
PC_MUST_CHECK int pc_pkey_hmac(const uint8_t *secret, size_t len, struct pc_pkey **out,
    char *err, size_t errlen);
void		 pc_pkey_free(struct pc_pkey *k);	/* accepts NULL */
enum pc_key_type pc_pkey_type(const struct pc_pkey *k);
unsigned	 pc_pkey_bits(const struct pc_pkey *k);	/* RSA modulus bits; curve bits; HMAC bytes*8 */

/* True if <alg> may be used with <k>: RS* and PS* with RSA, ES256 with P-256, ES384 with
 * P-384, ES512 with P-521, EdDSA with Ed25519, HS* with HMAC only. */
bool		 pc_jws_alg_fits(enum pc_jws_alg alg, const struct pc_pkey *k);

/*
 * Verifies a JWS signature over <data> (the ASCII "header.payload"). <sig> is the decoded
 * signature: for ES* the raw r||s of exactly twice the curve's byte size (RFC 7518 3.4),
 * refused if r or s is 0 or not below the group order; for HS* compared in constant time.
 * Returns 0 if the signature is valid, -PC_EPROTO if not (or the alg does not fit the key),
 * -PC_ENOMEM on allocation failure. Never "valid" on an error.
 */
PC_MUST_CHECK int pc_jws_verify(enum pc_jws_alg alg, const struct pc_pkey *k,
    const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen);

/*
 * A private signing key made fresh in memory (EdDSA or ES256), for tokens the gateway
 * signs itself (its demo issuer; internal tokens to upstreams). <pub> receives the public
 * key, usable with pc_jws_verify.
 */
struct pc_skey;
PC_MUST_CHECK int pc_skey_generate(enum pc_jws_alg alg, struct pc_skey **out,
    struct pc_pkey **pub);
void		 pc_skey_free(struct pc_skey *k);
/*
 * The one unencrypted private key of PEM text <pem>/<len> (PKCS#8 or traditional): Ed25519
 * or P-256 only, anything else -PC_EINVAL with a message in <err> naming the key type,
 * never its material. <pub> receives the public key as with pc_skey_generate().
 */
PC_MUST_CHECK int pc_skey_from_pem(const char *pem, size_t len, struct pc_skey **out,
    struct pc_pkey **pub, char *err, size_t errlen);
enum pc_jws_alg	 pc_skey_alg(const struct pc_skey *k);	/* PC_ALG_EDDSA or PC_ALG_ES256 */
/* Signs <data>; <sig> gets the JWS form (ES256: r||s, 64 bytes). Returns its length or -PC_E*. */
PC_MUST_CHECK int pc_jws_sign(const struct pc_skey *k, const uint8_t *data, size_t len,
    uint8_t *sig, size_t sigcap);
/* The public key as JWK members (base64url into the caller's buffers): for EdDSA x, for
 * ES256 x and y. 0 or -PC_E*. */
PC_MUST_CHECK int pc_skey_public_jwk(const struct pc_skey *k, char *x, size_t xcap,
    char *y, size_t ycap);

void		 pc_sha256(const void *p, size_t n, uint8_t out[32]);
void		 pc_hmac_sha256(const uint8_t *key, size_t keylen, const void *p, size_t n,
    uint8_t out[32]);
/* Compares in time independent of where they differ. */
bool		 pc_ct_equal(const void *a, const void *b, size_t n);

#endif
