/*
 * tls/tls_int.h - what the files of tls/ share: the server and client objects, the
 * protocol/cipher/group policy, bounded file reading with the key-file mode check, PEM
 * loading with messages that name the file, and the ticket-key callback.
 * Private to src/tls/ (scripts/lint.sh checks): only tls/ sees OpenSSL.
 */
#ifndef PC_TLS_INT_H
#define PC_TLS_INT_H

#include <stdatomic.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls/tls.h"

#define PC_TLS_CERTS_MAX	16	/* certificate entries per listener (tlsconf) */
#define PC_TLS_CHAIN_MAX	10	/* certificates in one PEM chain file */
#define PC_TLS_NAMES_MAX	256	/* DNS names of one certificate used for SNI */
#define PC_TLS_NAME_MAX		253	/* one DNS name (RFC 1035 2.3.4, no final dot) */
#define PC_TLS_FILE_MAX		(4u * 1024 * 1024)	/* PEM files; CA bundles are big */
#define PC_TLS_VERIFY_DEPTH	5
#define PC_TLS_RSA_MIN_BITS	2048

/* Key types a group may hold one certificate of each (OpenSSL picks by the client). */
enum pc_tls_key_type { PC_TLS_KT_RSA = 0, PC_TLS_KT_EC, PC_TLS_KT_COUNT };

/* Certificates that serve the same set of names: one SSL_CTX. */
struct pc_tls_group {
	SSL_CTX		*ctx;
	char		**names;	/* lowercase, sorted, distinct; owned */
	unsigned	 nnames;
	/* Borrowed from the conf, for messages while building only; NULL: no such cert. */
	const char	*cert_path[PC_TLS_KT_COUNT];
};

struct pc_tls_server {
	atomic_uint	 refs;
	int		 verify_mode;	/* SSL_VERIFY_* for every group's connections */
	bool		 alpn_h2;
	unsigned	 ngroups;
	struct pc_tls_group groups[PC_TLS_CERTS_MAX];	/* [0] is the default */
};

struct pc_tls_client {
	SSL_CTX		*ctx;
	bool		 verify;
	char		*server_name;	/* NULL: check the target's IP */
	bool		 name_is_ip;	/* server_name is an IP literal: no SNI, IP check */
};

/* A whole file read through one descriptor (no check-then-open race). */
struct pc_tls_file {
	char		*data;
	size_t		 len;
	bool		 secret;	/* wiped when freed */
};

/* tls_policy.c */
void		 pc_tls__errf(struct pc_tls_err *err, int index, const char *fmt, ...)
		    PC_PRINTF(3, 4);
const char	*pc_tls__ossl_reason(void);
PC_MUST_CHECK int pc_tls__ctx_policy(SSL_CTX *ctx, enum pc_tls_version min);
PC_MUST_CHECK int pc_tls__file_read(const char *what, const char *path, bool is_key,
    int index, struct pc_tls_err *err, struct pc_tls_file *f);
void		 pc_tls__file_free(struct pc_tls_file *f);
PC_MUST_CHECK int pc_tls__load_chain(const char *path, int index, struct pc_tls_err *err,
    X509 **leaf, STACK_OF(X509) **chain);
PC_MUST_CHECK int pc_tls__load_key(const char *path, int index, struct pc_tls_err *err,
    EVP_PKEY **key);
PC_MUST_CHECK int pc_tls__check_pair(const char *cert_path, const char *key_path, X509 *leaf,
    EVP_PKEY *key, int index, struct pc_tls_err *err, enum pc_tls_key_type *type);
/* Both also feed the file's bytes to <h> if not NULL (the session id context). */
PC_MUST_CHECK int pc_tls__load_cas(const char *what, const char *path, X509_STORE *store,
    STACK_OF(X509_NAME) *names, EVP_MD_CTX *h, struct pc_tls_err *err);
PC_MUST_CHECK int pc_tls__load_crls(const char *path, X509_STORE *store, EVP_MD_CTX *h,
    struct pc_tls_err *err);

/* tls_tickets.c */
int		 pc_tls__ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
		    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc);
uint32_t	 pc_tls__tickets_rotation(void);
/* Rotates now, as if the period had elapsed (tests; never called by the program). */
void		 pc_tls__tickets_rotate(void);

/* tls_io.c */
int		 pc_tls__ex_index(void);	/* SSL ex_data slot: the last failure text */

#endif
