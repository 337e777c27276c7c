/*
 * crypto/alg.c - the JWS algorithm names (RFC 7518 3.1, RFC 8037 3.1) and which key each
 * one may be used with.
 * Owns: the alg table; pc_jws_alg_fits, the one place that pairs algorithms with keys.
 * Refuses: "none" and every name not in the table, compared byte for byte (RFC 7515
 * 4.1.1: case-sensitive), so "RS256 ", "rs256" and "HS256\0" are all PC_ALG_NONE.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto_int.h"
#include "core/banned.h"

static const struct pc_alg_info algs[PC_ALG_COUNT] = {
	[PC_ALG_RS256] = { "RS256", PC_KEY_RSA, "SHA256", 32, false },
	[PC_ALG_RS384] = { "RS384", PC_KEY_RSA, "SHA384", 48, false },
	[PC_ALG_RS512] = { "RS512", PC_KEY_RSA, "SHA512", 64, false },
	[PC_ALG_PS256] = { "PS256", PC_KEY_RSA, "SHA256", 32, true },
	[PC_ALG_PS384] = { "PS384", PC_KEY_RSA, "SHA384", 48, true },
	[PC_ALG_PS512] = { "PS512", PC_KEY_RSA, "SHA512", 64, true },
	[PC_ALG_ES256] = { "ES256", PC_KEY_P256, "SHA256", 32, false },
	[PC_ALG_ES384] = { "ES384", PC_KEY_P384, "SHA384", 48, false },
	[PC_ALG_ES512] = { "ES512", PC_KEY_P521, "SHA512", 64, false },
	[PC_ALG_EDDSA] = { "EdDSA", PC_KEY_ED25519, NULL, 0, false },
	[PC_ALG_HS256] = { "HS256", PC_KEY_HMAC, "SHA256", 32, false },
	[PC_ALG_HS384] = { "HS384", PC_KEY_HMAC, "SHA384", 48, false },
	[PC_ALG_HS512] = { "HS512", PC_KEY_HMAC, "SHA512", 64, false },
};

const struct pc_alg_info *
pc_crypto__alg(enum pc_jws_alg alg)
{
	if ((unsigned)alg >= PC_ALG_COUNT || algs[alg].name == NULL)
		return NULL;
	return &algs[alg];
}

enum pc_jws_alg
pc_jws_alg_from_str(struct pc_str name)
{
	unsigned i;

	for (i = 0; i < PC_ALG_COUNT; i++)
		if (algs[i].name != NULL && pc_str_eq(name, pc_str_c(algs[i].name)))
			return (enum pc_jws_alg)i;
	return PC_ALG_NONE;
}

const char *
pc_jws_alg_name(enum pc_jws_alg alg)
{
	const struct pc_alg_info *a = pc_crypto__alg(alg);

	return a == NULL ? "" : a->name;
}

bool
pc_jws_alg_is_hmac(enum pc_jws_alg alg)
{
	const struct pc_alg_info *a = pc_crypto__alg(alg);

	return a != NULL && a->key == PC_KEY_HMAC;
}

/*
 * True if <alg> may be used with <k>. The key's type, never the token's header, decides:
 * an RSA public key offered as an HS256 secret is the classic alg confusion (RFC 8725
 * 2.1), and a P-256 key with ES512 a curve confusion. HS* also need a secret at least as
 * long as their output (RFC 7518 3.2: "a key of the same size as the hash output ... or
 * larger MUST be used"): a 32-byte secret fits HS256 only.
 */
bool
pc_jws_alg_fits(enum pc_jws_alg alg, const struct pc_pkey *k)
{
	const struct pc_alg_info *a = pc_crypto__alg(alg);

	if (a == NULL || k == NULL || a->key != k->type)
		return false;
	if (k->type == PC_KEY_HMAC)
		return k->secretlen >= a->mdlen;
	return true;
}

void
pc_crypto__err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);	/* truncation is fine for a message */
	va_end(ap);
}
