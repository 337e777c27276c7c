/*
 * tls/tls_tickets.c - the process-wide session-ticket keys: a current key that encrypts and
 * a previous one that still decrypts (and asks for renewal), made with RAND_bytes, rotated
 * lazily when the current one is older than the period, wiped when rotated out. Every
 * listener and every configuration snapshot shares them, so a reload keeps resumption.
 * Refuses: to write a key anywhere, or to decrypt with a key older than two periods.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tls/tls_int.h"
#include "core/banned.h"

#define NAME_LEN	16
#define AES_LEN		32	/* AES-256-CBC */
#define HMAC_LEN	32	/* HMAC-SHA256 */
#define IV_LEN		16	/* AES block; OpenSSL's buffer is EVP_MAX_IV_LENGTH */

struct ticket_key {
	unsigned char	 name[NAME_LEN];
	unsigned char	 aes[AES_LEN];
	unsigned char	 hmac[HMAC_LEN];
	uint64_t	 created_ms;
	bool		 valid;
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static struct ticket_key keys[2];	/* [0] current, [1] previous; under lock */
static uint32_t		 rotation_s = 3600;	/* under lock */

static void
key_wipe(struct ticket_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* Makes a new current key; the old current becomes previous. Under lock. */
static int
rotate_locked(uint64_t now)
{
	struct ticket_key fresh;

	if (RAND_bytes(fresh.name, NAME_LEN) != 1 || RAND_bytes(fresh.aes, AES_LEN) != 1 ||
	    RAND_bytes(fresh.hmac, HMAC_LEN) != 1) {
		key_wipe(&fresh);
		return -1;
	}
	fresh.created_ms = now;
	fresh.valid = true;
	key_wipe(&keys[1]);
	keys[1] = keys[0];
	keys[0] = fresh;
	key_wipe(&fresh);
	return 0;
}

/* Brings the keys up to date at <now>. Under lock. */
static int
refresh_locked(uint64_t now)
{
	uint64_t period_ms = (uint64_t)rotation_s * 1000;

	if (!keys[0].valid)
		return rotate_locked(now);
	if (now - keys[0].created_ms < period_ms)
		return 0;
	/* Idle for two periods or more: the current key is too old even to decrypt. */
	if (now - keys[0].created_ms >= 2 * period_ms)
		key_wipe(&keys[0]);
	return rotate_locked(now);
}

static int
setup(struct ticket_key *k, unsigned char *iv, EVP_CIPHER_CTX *cctx,
    EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM	params[3];
	char		digest[] = "SHA256";

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k->hmac,
	    HMAC_LEN);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	if (enc)
		return EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) == 1 ? 0 : -1;
	return EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) == 1 ? 0 : -1;
}

/*
 * OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb). Encrypting:
 * fills <key_name> and <iv> and returns 1. Decrypting: 1 with the current key, 2 with the
 * previous one (a new ticket is issued), 0 for an unknown name (full handshake), -1 on
 * error. The key is copied out under the lock and wiped after use.
 */
int
pc_tls__ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_key	k;
	int			ret = 0;

	(void)ssl;
	memset(&k, 0, sizeof(k));
	if (enc && RAND_bytes(iv, IV_LEN) != 1)
		return -1;
	pthread_mutex_lock(&lock);
	if (refresh_locked(pc_now_ms()) != 0) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	if (enc) {
		k = keys[0];
		memcpy(key_name, k.name, NAME_LEN);
		ret = 1;
	} else if (CRYPTO_memcmp(key_name, keys[0].name, NAME_LEN) == 0) {
		k = keys[0];
		ret = 1;
	} else if (keys[1].valid && CRYPTO_memcmp(key_name, keys[1].name, NAME_LEN) == 0) {
		k = keys[1];
		ret = 2;
	}
	pthread_mutex_unlock(&lock);
	if (ret != 0 && setup(&k, iv, cctx, hctx, enc) != 0)
		ret = -1;
	key_wipe(&k);
	return ret;
}

void
pc_tls_tickets_set_rotation(uint32_t seconds)
{
	if (seconds == 0)
		seconds = 1;
	pthread_mutex_lock(&lock);
	rotation_s = seconds;
	pthread_mutex_unlock(&lock);
}

uint32_t
pc_tls__tickets_rotation(void)
{
	uint32_t s;

	pthread_mutex_lock(&lock);
	s = rotation_s;
	pthread_mutex_unlock(&lock);
	return s;
}

void
pc_tls__tickets_rotate(void)
{
	pthread_mutex_lock(&lock);
	(void)rotate_locked(pc_now_ms());
	pthread_mutex_unlock(&lock);
}
