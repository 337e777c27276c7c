/*
 * tls/tls_selfsigned.c - a throwaway self-signed certificate, so `portcullis demo` can serve
 * HTTPS without the user making one first. Never used by `run`: production certificates
 * come from files the operator provides.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tls/tls_int.h"
#include "core/banned.h"

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static X509 *
make_cert(EVP_PKEY *key, const char *name, unsigned days)
{
	X509		*x = X509_new();
	X509_NAME	*subj;
	unsigned char	 serial[16];
	BIGNUM		*bn = NULL;
	char		 san[320];

	if (x == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;	/* a positive serial */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto fail;
	if (snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1,IP:::1", name) >= (int)sizeof(san))
		goto fail;
	subj = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) == NULL ||
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)name,
	    -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, subj) != 1 || X509_set_pubkey(x, key) != 1 ||
	    add_ext(x, NID_subject_alt_name, san) != 0 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") != 0 ||
	    X509_sign(x, key, EVP_sha256()) == 0)
		goto fail;
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* Writes <x> or <key> as PEM to a new file of mode <mode>. */
static int
write_pem(const char *path, mode_t mode, X509 *x, EVP_PKEY *key)
{
	FILE	*f;
	int	 fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd == -1)
		return -PC_EIO;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -PC_EIO;
	}
	ok = x != NULL ? PEM_write_X509(f, x) :
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0)
		ok = 0;
	return ok == 1 ? 0 : -PC_EIO;
}

int
pc_tls_selfsigned(const char *name, unsigned days, const char *cert_path,
    const char *key_path, char fp[96])
{
	static const char	 hex[] = "0123456789ABCDEF";
	EVP_PKEY		*key;
	X509			*x = NULL;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned		 mdlen = 0, i;
	int			 rc = -PC_ENOMEM;

	key = EVP_EC_gen("P-256");
	if (key == NULL)
		return -PC_ENOMEM;
	x = make_cert(key, name, days);
	if (x == NULL || X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		goto out;
	for (i = 0; i < mdlen; i++) {
		fp[3 * i] = hex[md[i] >> 4];
		fp[3 * i + 1] = hex[md[i] & 15];
		fp[3 * i + 2] = i + 1 < mdlen ? ':' : '\0';
	}
	rc = write_pem(key_path, 0600, NULL, key);
	if (rc == 0)
		rc = write_pem(cert_path, 0644, x, NULL);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}
