/*
 * tls/tls_policy.c - what every context of the program shares: the protocol, cipher and
 * group policy (issue 3), OpenSSL's start-up, and the loading of PEM files with messages
 * that say which file and why. Key files are refused when group or others can read them.
 * Does not: decide which certificate serves which name (tls_server.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "tls/tls_int.h"
#include "core/banned.h"

/*
 * TLS 1.2: forward secrecy (ECDHE) and AEAD only, ECDSA before RSA, AES-128 before the
 * larger and the ChaCha suites (the server's order wins). TLS 1.3 suites are all AEAD.
 */
static const char	ciphers12[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char	ciphers13[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

void
pc_tls__errf(struct pc_tls_err *err, int index, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->index = index;
}

/* The reason text of the most recent queued OpenSSL error: static, for messages. */
const char *
pc_tls__ossl_reason(void)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*r;

	if (e == 0)
		return "unknown error";
	r = ERR_reason_error_string(e);
	return r != NULL ? r : "unknown error";
}

int
pc_tls__ctx_policy(SSL_CTX *ctx, enum pc_tls_version min)
{
	/* A local, writable copy: the OpenSSL macro casts away const. */
	char	groups[] = "X25519:P-256";
	int	minv = min == PC_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;

	if (SSL_CTX_set_min_proto_version(ctx, minv) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, ciphers12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, ciphers13) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, groups) != 1)
		return -PC_EIO;
	/* Level 2: 112-bit security, so no RSA-1024 or SHA-1 signatures in any chain we
	 * verify or send, whatever the system's OpenSSL configuration says. */
	SSL_CTX_set_security_level(ctx, 2);
	/* Renegotiation is a DoS lever and a source of identity confusion mid-connection;
	 * compression is CRIME. */
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	/* RELEASE_BUFFERS: an idle keep-alive connection holds no record buffers (we are
	 * measured per idle connection against nginx). PARTIAL_WRITE and MOVING buffer: our
	 * send loop writes what it can and retries from a buffer that may have moved. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* One read(2) per socket-full instead of one per record header and one per record
	 * body; the callers read until WANT_READ, so nothing buffered is ever stranded. */
	SSL_CTX_set_read_ahead(ctx, 1);
	return 0;
}

int
pc_tls__file_read(const char *what, const char *path, bool is_key, int index,
    struct pc_tls_err *err, struct pc_tls_file *f)
{
	struct stat	 st;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, e;

	f->data = NULL;
	f->len = 0;
	f->secret = is_key;
	/* O_NONBLOCK: a FIFO named here must not hang a load or reload (it then
	 * fails the regular-file check below). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		e = errno;
		pc_tls__errf(err, index, "%s %s: cannot open: %s", what, path, strerror(e));
		return pc_err_errno(e);
	}
	/* fstat on the descriptor we read: the mode checked is the file's we load. */
	if (fstat(fd, &st) == -1) {
		e = errno;
		pc_tls__errf(err, index, "%s %s: cannot stat: %s", what, path, strerror(e));
		(void)close(fd);
		return pc_err_errno(e);
	}
	if (!S_ISREG(st.st_mode)) {
		pc_tls__errf(err, index, "%s %s: not a regular file", what, path);
		(void)close(fd);
		return -PC_EINVAL;
	}
	if (is_key && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		pc_tls__errf(err, index,
		    "%s %s is readable by group or others (mode %04o): chmod 600 it", what, path,
		    (unsigned)(st.st_mode & 07777));
		(void)close(fd);
		return -PC_EINVAL;
	}
	if (st.st_size > (off_t)PC_TLS_FILE_MAX) {
		pc_tls__errf(err, index, "%s %s: larger than %u bytes", what, path,
		    PC_TLS_FILE_MAX);
		(void)close(fd);
		return -PC_ETOOBIG;
	}
	/* One byte more than the size read so a file that grew is noticed, +1 for a NUL. */
	f->data = malloc((size_t)st.st_size + 2);
	if (f->data == NULL) {
		pc_tls__errf(err, index, "%s %s: out of memory", what, path);
		(void)close(fd);
		return -PC_ENOMEM;
	}
	for (;;) {
		n = read(fd, f->data + off, (size_t)st.st_size + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			pc_tls__errf(err, index, "%s %s: cannot read: %s", what, path,
			    strerror(e));
			(void)close(fd);
			pc_tls__file_free(f);
			return pc_err_errno(e);
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off > (size_t)st.st_size) {
			pc_tls__errf(err, index, "%s %s: changed while being read", what, path);
			(void)close(fd);
			pc_tls__file_free(f);
			return -PC_EIO;
		}
	}
	(void)close(fd);
	f->data[off] = '\0';
	f->len = off;
	return 0;
}

void
pc_tls__file_free(struct pc_tls_file *f)
{
	if (f->data == NULL)
		return;
	if (f->secret)
		pc_secret_free(f->data, f->len + 2);
	else
		free(f->data);
	f->data = NULL;
	f->len = 0;
}

/* True if the queued error is the normal end of a PEM stream (no more BEGIN lines). */
static bool
pem_at_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

int
pc_tls__load_chain(const char *path, int index, struct pc_tls_err *err, X509 **leaf,
    STACK_OF(X509) **chain)
{
	struct pc_tls_file	 f;
	BIO			*bio = NULL;
	X509			*x;
	int			 rc, n = 0;

	*leaf = NULL;
	*chain = NULL;
	rc = pc_tls__file_read("tls cert", path, false, index, err, &f);
	if (rc != 0)
		return rc;
	rc = -PC_ENOMEM;
	bio = BIO_new_mem_buf(f.data, (int)f.len);
	*chain = sk_X509_new_null();
	if (bio == NULL || *chain == NULL) {
		pc_tls__errf(err, index, "tls cert %s: out of memory", path);
		goto fail;
	}
	rc = -PC_EINVAL;
	for (;;) {
		ERR_clear_error();
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (x == NULL) {
			if (n > 0 && pem_at_end())
				break;
			if (n == 0 && pem_at_end())
				pc_tls__errf(err, index, "tls cert %s: no PEM certificate in it",
				    path);
			else
				pc_tls__errf(err, index, "tls cert %s: invalid PEM certificate "
				    "(%s)", path, pc_tls__ossl_reason());
			goto fail;
		}
		if (n == PC_TLS_CHAIN_MAX) {
			X509_free(x);
			pc_tls__errf(err, index, "tls cert %s: more than %d certificates",
			    path, PC_TLS_CHAIN_MAX);
			goto fail;
		}
		if (n == 0)
			*leaf = x;
		else if (sk_X509_push(*chain, x) == 0) {
			X509_free(x);
			pc_tls__errf(err, index, "tls cert %s: out of memory", path);
			rc = -PC_ENOMEM;
			goto fail;
		}
		n++;
	}
	ERR_clear_error();
	BIO_free(bio);
	pc_tls__file_free(&f);
	return 0;
fail:
	ERR_clear_error();
	BIO_free(bio);
	pc_tls__file_free(&f);
	X509_free(*leaf);
	*leaf = NULL;
	sk_X509_pop_free(*chain, X509_free);
	*chain = NULL;
	return rc;
}

/* Never prompt on a terminal for a passphrase: an encrypted key is a configuration error. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)arg = true;
	return -1;
}

int
pc_tls__load_key(const char *path, int index, struct pc_tls_err *err, EVP_PKEY **key)
{
	struct pc_tls_file	 f;
	BIO			*bio;
	bool			 asked = false;
	int			 rc;

	*key = NULL;
	rc = pc_tls__file_read("tls key", path, true, index, err, &f);
	if (rc != 0)
		return rc;
	bio = BIO_new_mem_buf(f.data, (int)f.len);
	if (bio == NULL) {
		pc_tls__errf(err, index, "tls key %s: out of memory", path);
		pc_tls__file_free(&f);
		return -PC_ENOMEM;
	}
	ERR_clear_error();
	*key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, &asked);
	rc = 0;
	if (*key == NULL) {
		if (asked)
			pc_tls__errf(err, index, "tls key %s: encrypted keys are not supported",
			    path);
		else if (pem_at_end() || memmem(f.data, f.len, "-----BEGIN ", 11) == NULL)
			/* OpenSSL 3's decoders say "unsupported" for a file with no PEM at
			 * all: look for a BEGIN line ourselves to say it plainly. */
			pc_tls__errf(err, index, "tls key %s: no PEM private key in it", path);
		else
			pc_tls__errf(err, index, "tls key %s: invalid PEM private key (%s)", path,
			    pc_tls__ossl_reason());
		rc = -PC_EINVAL;
	}
	ERR_clear_error();
	BIO_free(bio);
	pc_tls__file_free(&f);
	return rc;
}

int
pc_tls__check_pair(const char *cert_path, const char *key_path, X509 *leaf, EVP_PKEY *key,
    int index, struct pc_tls_err *err, enum pc_tls_key_type *type)
{
	EVP_PKEY	*pub = X509_get0_pubkey(leaf);
	int		 bits;

	if (pub == NULL) {
		pc_tls__errf(err, index, "tls cert %s: unreadable public key", cert_path);
		return -PC_EINVAL;
	}
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_RSA:
		*type = PC_TLS_KT_RSA;
		bits = EVP_PKEY_get_bits(pub);
		if (bits < PC_TLS_RSA_MIN_BITS) {
			pc_tls__errf(err, index, "tls cert %s: RSA key of %d bits is too weak "
			    "(at least %d)", cert_path, bits, PC_TLS_RSA_MIN_BITS);
			return -PC_EINVAL;
		}
		break;
	case EVP_PKEY_EC:
		*type = PC_TLS_KT_EC;
		break;
	default:
		/* Our TLS 1.2 suites authenticate with ECDSA or RSA only. */
		pc_tls__errf(err, index, "tls cert %s: unsupported key type (RSA or ECDSA only)",
		    cert_path);
		return -PC_EINVAL;
	}
	ERR_clear_error();
	if (X509_check_private_key(leaf, key) != 1) {
		ERR_clear_error();
		pc_tls__errf(err, index, "tls key %s does not match tls cert %s", key_path,
		    cert_path);
		return -PC_EINVAL;
	}
	return 0;
}

/* Reads every PEM object of <f> (certificates and CRLs) as X509_INFO entries. */
static STACK_OF(X509_INFO) *
read_infos(const struct pc_tls_file *f)
{
	STACK_OF(X509_INFO)	*infos;
	BIO			*bio;

	bio = BIO_new_mem_buf(f->data, (int)f->len);
	if (bio == NULL)
		return NULL;
	ERR_clear_error();
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return infos;
}

int
pc_tls__load_cas(const char *what, const char *path, X509_STORE *store,
    STACK_OF(X509_NAME) *names, EVP_MD_CTX *h, struct pc_tls_err *err)
{
	STACK_OF(X509_INFO)	*infos;
	struct pc_tls_file	 f;
	X509_INFO		*xi;
	X509_NAME		*nm;
	int			 i, n = 0, rc;

	rc = pc_tls__file_read(what, path, false, -1, err, &f);
	if (rc != 0)
		return rc;
	if (h != NULL && EVP_DigestUpdate(h, f.data, f.len) != 1) {
		pc_tls__file_free(&f);
		pc_tls__errf(err, -1, "%s %s: %s", what, path, pc_tls__ossl_reason());
		return -PC_EIO;
	}
	infos = read_infos(&f);
	pc_tls__file_free(&f);
	if (infos == NULL) {
		pc_tls__errf(err, -1, "%s %s: invalid PEM (%s)", what, path,
		    pc_tls__ossl_reason());
		ERR_clear_error();
		return -PC_EINVAL;
	}
	rc = 0;
	for (i = 0; i < sk_X509_INFO_num(infos) && rc == 0; i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 == NULL)
			continue;
		n++;
		if (X509_STORE_add_cert(store, xi->x509) != 1) {
			pc_tls__errf(err, -1, "%s %s: certificate %d: %s", what, path, n,
			    pc_tls__ossl_reason());
			rc = -PC_EINVAL;
			break;
		}
		if (names == NULL)
			continue;
		nm = X509_NAME_dup(X509_get_subject_name(xi->x509));
		if (nm == NULL || sk_X509_NAME_push(names, nm) == 0) {
			X509_NAME_free(nm);
			pc_tls__errf(err, -1, "%s %s: out of memory", what, path);
			rc = -PC_ENOMEM;
		}
	}
	if (rc == 0 && n == 0) {
		pc_tls__errf(err, -1, "%s %s: no PEM certificate in it", what, path);
		rc = -PC_EINVAL;
	}
	ERR_clear_error();
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	return rc;
}

int
pc_tls__load_crls(const char *path, X509_STORE *store, EVP_MD_CTX *h, struct pc_tls_err *err)
{
	STACK_OF(X509_INFO)	*infos;
	struct pc_tls_file	 f;
	X509_INFO		*xi;
	int			 i, n = 0, rc;

	rc = pc_tls__file_read("tls client_crl", path, false, -1, err, &f);
	if (rc != 0)
		return rc;
	if (h != NULL && EVP_DigestUpdate(h, f.data, f.len) != 1) {
		pc_tls__file_free(&f);
		pc_tls__errf(err, -1, "tls client_crl %s: %s", path, pc_tls__ossl_reason());
		return -PC_EIO;
	}
	infos = read_infos(&f);
	pc_tls__file_free(&f);
	if (infos == NULL) {
		pc_tls__errf(err, -1, "tls client_crl %s: invalid PEM (%s)", path,
		    pc_tls__ossl_reason());
		ERR_clear_error();
		return -PC_EINVAL;
	}
	rc = 0;
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (xi->crl == NULL)
			continue;
		n++;
		if (X509_STORE_add_crl(store, xi->crl) != 1) {
			pc_tls__errf(err, -1, "tls client_crl %s: CRL %d: %s", path, n,
			    pc_tls__ossl_reason());
			rc = -PC_EINVAL;
			break;
		}
	}
	if (rc == 0 && n == 0) {
		pc_tls__errf(err, -1, "tls client_crl %s: no PEM CRL in it", path);
		rc = -PC_EINVAL;
	}
	/* Only the leaf is checked: a CRL for every intermediate would make a missing one
	 * fail every client, and the CA bundle is the operator's own. */
	if (rc == 0 && X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) != 1)
		rc = -PC_ENOMEM;
	ERR_clear_error();
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	return rc;
}

int
pc_tls_init(void)
{
	/* No openssl.cnf: the policy is ours, not the system's. */
	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1)
		return -PC_EIO;
	if (pc_tls__ex_index() < 0)
		return -PC_ENOMEM;
	return 0;
}
