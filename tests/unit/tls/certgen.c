/*
 * tests/unit/tls/certgen.c - throwaway keys, certificates and a CRL made in-process with
 * the EVP/X509 API, written as PEM into a test directory. Included by test_tls.c (not a
 * test binary of its own). Nothing here is for production: short lives, no randomness
 * requirements beyond OpenSSL's defaults.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static EVP_PKEY *
cg_ec(void)
{
	return EVP_EC_gen("P-256");
}

static EVP_PKEY *
cg_rsa(unsigned bits)
{
	return EVP_RSA_gen(bits);
}

static EVP_PKEY *
cg_ed25519(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static int
cg_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/*
 * A certificate for <key>: subject O=<org> (if not NULL) then CN=<cn>, SANs <san> in
 * openssl's "DNS:a,URI:b" syntax (NULL: none), signed by <issuer>/<ikey> (NULL: itself),
 * a CA if <ca>, else with the extended key usage <eku> (NULL: none).
 */
static X509 *
cg_cert(EVP_PKEY *key, const char *org, const char *cn, const char *san, X509 *issuer,
    EVP_PKEY *ikey, long serial, bool ca, const char *eku)
{
	X509		*x = X509_new();
	X509_NAME	*subj;

	if (x == NULL)
		return NULL;
	subj = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    (org != NULL && X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC,
	    (const unsigned char *)org, -1, -1, 0) != 1) ||
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)cn,
	    -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subj) != 1 ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	if (ca) {
		if (cg_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
		    "critical,CA:TRUE") != 0 ||
		    cg_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
		    "critical,keyCertSign,cRLSign") != 0)
			goto fail;
	} else if (cg_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") != 0)
		goto fail;
	if (san != NULL && cg_ext(x, issuer, NID_subject_alt_name, san) != 0)
		goto fail;
	if (eku != NULL && cg_ext(x, issuer, NID_ext_key_usage, eku) != 0)
		goto fail;
	if (cg_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier, "hash") != 0)
		goto fail;
	/* Ed25519 signs without a separate digest. */
	if (X509_sign(x, ikey != NULL ? ikey : key,
	    EVP_PKEY_get_base_id(ikey != NULL ? ikey : key) == EVP_PKEY_ED25519 ? NULL :
	    EVP_sha256()) == 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* A CRL from <ca> revoking <serial> (0: none), valid for a day. */
static X509_CRL *
cg_crl(X509 *ca, EVP_PKEY *cakey, long serial)
{
	X509_CRL	*crl = X509_CRL_new();
	X509_REVOKED	*rev = NULL;
	ASN1_TIME	*t = NULL;
	ASN1_INTEGER	*sn = NULL;

	if (crl == NULL)
		return NULL;
	t = ASN1_TIME_new();
	if (t == NULL || X509_CRL_set_version(crl, 1) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 ||
	    X509_gmtime_adj(t, -3600) == NULL || X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    X509_gmtime_adj(t, 86400) == NULL || X509_CRL_set1_nextUpdate(crl, t) != 1)
		goto fail;
	if (serial != 0) {
		rev = X509_REVOKED_new();
		sn = ASN1_INTEGER_new();
		if (rev == NULL || sn == NULL || ASN1_INTEGER_set(sn, serial) != 1 ||
		    X509_REVOKED_set_serialNumber(rev, sn) != 1 ||
		    X509_gmtime_adj(t, -60) == NULL ||
		    X509_REVOKED_set_revocationDate(rev, t) != 1 ||
		    X509_CRL_add0_revoked(crl, rev) != 1)
			goto fail;
		rev = NULL;
	}
	if (X509_CRL_sort(crl) != 1 || X509_CRL_sign(crl, cakey, EVP_sha256()) == 0)
		goto fail;
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	return crl;
fail:
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return NULL;
}

static char cg_dir[64];

/* <dir>/<name> into <buf> (static, one at a time is enough for the fixtures). */
static const char *
cg_path(const char *name, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%s/%s", cg_dir, name);
	return buf;
}

static FILE *
cg_open(const char *name, mode_t mode)
{
	char	path[256];
	int	fd;

	fd = open(cg_path(name, path, sizeof(path)), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return NULL;
	/* open's mode is filtered by the umask: set the exact mode the test wants. */
	if (fchmod(fd, mode) != 0) {
		(void)close(fd);
		return NULL;
	}
	return fdopen(fd, "w");
}

/* Writes <x> then <x2> (if not NULL: a chain) as PEM. */
static int
cg_write_cert(const char *name, X509 *x, X509 *x2)
{
	FILE	*f = cg_open(name, 0644);
	int	 ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_X509(f, x) == 1 && (x2 == NULL || PEM_write_X509(f, x2) == 1);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Writes <key> as PEM with file mode <mode>; encrypted under <pass> if not NULL. */
static int
cg_write_key(const char *name, EVP_PKEY *key, mode_t mode, const char *pass)
{
	FILE	*f = cg_open(name, mode);
	int	 ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_PrivateKey(f, key, pass != NULL ? EVP_aes_256_cbc() : NULL,
	    (const unsigned char *)pass, pass != NULL ? (int)strlen(pass) : 0, NULL, NULL);
	return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

static int
cg_write_crl(const char *name, X509_CRL *crl)
{
	FILE	*f = cg_open(name, 0644);
	int	 ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_X509_CRL(f, crl);
	return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

static int
cg_write_text(const char *name, const char *text, mode_t mode)
{
	FILE	*f = cg_open(name, mode);
	int	 ok;

	if (f == NULL)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}
