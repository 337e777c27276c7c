/*
 * crypto/crypto_int.h - what the files of crypto/ share: the key structs and the
 * per-algorithm table. Private to src/crypto/ (scripts/lint.sh); tests may include it.
 */
#ifndef PC_CRYPTO_INT_H
#define PC_CRYPTO_INT_H

#include <openssl/evp.h>

#include "crypto/crypto.h"

#define PC_EC_MAX_BYTES		66	/* P-521: ceil(521 / 8) */
#define PC_RSA_MIN_BITS		2048
/* OpenSSL's own ceiling (OPENSSL_RSA_MAX_MODULUS_BITS); verification cost grows with the
 * square of the size, so a key set cannot make every token cost a second. */
#define PC_RSA_MAX_BITS		16384
/* A big public exponent makes each verification as slow as a signature: a key set must
 * not be able to do that (OpenSSL caps e at 64 bits above 3072-bit moduli for the same
 * reason). 65537 is what everyone uses. */
#define PC_RSA_MAX_E_BYTES	8
#define PC_HMAC_MIN_BYTES	32
#define PC_ED25519_BYTES	32
#define PC_SIG_MAX_BYTES	(PC_RSA_MAX_BITS / 8)

struct pc_pkey {
	uint64_t	 serial;	/* unique for the process, never reused (jws.c's
					 * per-thread contexts are found by it, not by address) */
	enum pc_key_type type;
	unsigned	 bits;
	EVP_PKEY	*pkey;		/* RSA, EC, Ed25519; NULL for HMAC */
	uint8_t		*secret;	/* HMAC only; wiped on free */
	size_t		 secretlen;
	size_t		 csize;		/* EC: bytes of a coordinate and of r, s */
	uint8_t		 order[PC_EC_MAX_BYTES];	/* EC: group order, big-endian, csize */
};

struct pc_skey {
	enum pc_jws_alg	 alg;		/* PC_ALG_EDDSA or PC_ALG_ES256 */
	EVP_PKEY	*pkey;
};

/* One row per alg: what it needs from a key and how OpenSSL computes it. */
struct pc_alg_info {
	const char	*name;		/* JWS "alg" */
	enum pc_key_type key;		/* PC_KEY_RSA for RS and PS */
	const char	*md;		/* OpenSSL digest name; NULL for EdDSA */
	size_t		 mdlen;		/* digest bytes (PSS salt, HMAC output) */
	bool		 pss;
};

/* The row of <alg>, or NULL for PC_ALG_NONE and anything out of range. */
const struct pc_alg_info *pc_crypto__alg(enum pc_jws_alg alg);

/*
 * HMAC with digest <md> (OpenSSL name) of <p>/<n> under <key>/<keylen> into <out>
 * (<cap> bytes). Returns the MAC length, or -PC_ENOMEM / -PC_EINVAL.
 */
int		 pc_crypto__hmac(const char *md, const uint8_t *key, size_t keylen,
    const void *p, size_t n, uint8_t *out, size_t cap);

/* The digest <name> ("SHA256", "SHA384", "SHA512") fetched once for the process, or NULL
 * (another name, or the fetch failed: the caller falls back to fetching by name). */
const EVP_MD	*pc_crypto__md(const char *name);

/* snprintf into <err>/<errlen> if there is room; never fails. */
void		 pc_crypto__err(char *err, size_t errlen, const char *fmt, ...) PC_PRINTF(3, 4);

#endif
