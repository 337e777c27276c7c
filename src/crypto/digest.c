/*
 * crypto/digest.c - SHA-256, HMAC (EVP_MAC) and constant-time comparison.
 * Owns: the process-wide HMAC method and SHA-2 digests, fetched once (EVP_MAC and EVP_MD
 * are immutable and may be shared by threads; each call makes its own context). A fetch by
 * name at every call (EVP_sha256(), EVP_DigestVerifyInit_ex with a name) looks the method
 * up in OpenSSL's store under a lock each time: measurable on the request path.
 * Does not: keep any key: callers pass and own theirs.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/crypto_int.h"
#include "core/banned.h"

static pthread_once_t	 hmac_once = PTHREAD_ONCE_INIT;
static EVP_MAC		*hmac_mac;	/* process lifetime; NULL if the fetch failed */

static void
hmac_fetch(void)
{
	hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static const char *const md_names[] = { "SHA256", "SHA384", "SHA512" };
static pthread_once_t	 md_once = PTHREAD_ONCE_INIT;
static EVP_MD		*mds[3];	/* process lifetime; NULL if a fetch failed */

static void
md_fetch(void)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		mds[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
	ERR_clear_error();
}

const EVP_MD *
pc_crypto__md(const char *name)
{
	unsigned i;

	(void)pthread_once(&md_once, md_fetch);
	for (i = 0; name != NULL && i < 3; i++)
		if (strcmp(name, md_names[i]) == 0)
			return mds[i];
	return NULL;
}

int
pc_crypto__hmac(const char *md, const uint8_t *key, size_t keylen, const void *p, size_t n,
    uint8_t *out, size_t cap)
{
	EVP_MAC_CTX	*ctx;
	OSSL_PARAM	 params[2];
	static const uint8_t empty[1];
	size_t		 outlen = 0;
	int		 rc = -PC_EINVAL;

	(void)pthread_once(&hmac_once, hmac_fetch);	/* cannot fail once initialised */
	if (hmac_mac == NULL) {
		ERR_clear_error();
		return -PC_ENOMEM;
	}
	ctx = EVP_MAC_CTX_new(hmac_mac);
	if (ctx == NULL) {
		ERR_clear_error();
		return -PC_ENOMEM;
	}
	/* OSSL_PARAM wants a non-const pointer but only reads the name. */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)md,
	    0);
	params[1] = OSSL_PARAM_construct_end();
	/* A NULL key means "keep the previous key" to EVP_MAC_init: an empty one is not. */
	if (keylen == 0)
		key = empty;
	if (EVP_MAC_init(ctx, key, keylen, params) != 1 || EVP_MAC_update(ctx, p, n) != 1 ||
	    EVP_MAC_final(ctx, out, &outlen, cap) != 1 || outlen > (size_t)INT32_MAX)
		goto fail;
	rc = (int)outlen;
fail:
	/* Leave no stale error for the next SSL call on this thread (tls/ reads the queue). */
	if (rc < 0)
		ERR_clear_error();
	EVP_MAC_CTX_free(ctx);
	return rc;
}

/*
 * SHA-256 of <p>/<n>. Only an allocation failure inside OpenSSL can stop it, and there is
 * no digest to return then: that is fatal rather than a wrong answer.
 */
void
pc_sha256(const void *p, size_t n, uint8_t out[32])
{
	const EVP_MD	*md = pc_crypto__md("SHA256");
	unsigned int	 len = 0;

	if (EVP_Digest(p, n, out, &len, md != NULL ? md : EVP_sha256(), NULL) != 1 || len != 32)
		pc_panic(__FILE__, __LINE__, "SHA-256 failed");
}

/* HMAC-SHA-256; as pc_sha256, a failure is fatal rather than a wrong MAC. */
void
pc_hmac_sha256(const uint8_t *key, size_t keylen, const void *p, size_t n, uint8_t out[32])
{
	if (pc_crypto__hmac("SHA256", key, keylen, p, n, out, 32) != 32)
		pc_panic(__FILE__, __LINE__, "HMAC-SHA-256 failed");
}

bool
pc_ct_equal(const void *a, const void *b, size_t n)
{
	return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
}
