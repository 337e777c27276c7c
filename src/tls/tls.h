/*
 * tls/tls.h - the public interface of tls/: OpenSSL 3 contexts built from configuration
 * values (server side per listener, client side per upstream), the session-ticket key store,
 * non-blocking record I/O, and the verified peer identity of a connection.
 * Owns: every OpenSSL call of the program, the protocol/cipher/group policy, ticket keys.
 * Does not: parse YAML (config/ hands it plain values), own sockets (proxy/ does), or decide
 * what a route requires (pipeline/ reads struct pc_tls_peer).
 *
 * OpenSSL's headers stay inside tls/: callers hold SSL objects as struct ssl_st pointers.
 */
#ifndef PC_TLS_H
#define PC_TLS_H

#include <sys/types.h>

#include "core/core.h"

struct ssl_st;
struct sockaddr;

/* An error building a context: the message (names the file, never a secret) and which
 * certificate entry it concerns (-1: the section as a whole), so config/ can point at the
 * right line. */
struct pc_tls_err {
	char		 msg[320];
	int		 index;
};

enum pc_tls_version { PC_TLS_1_2 = 0, PC_TLS_1_3 };

enum pc_tls_client_cert {
	PC_TLS_CLIENT_NONE = 0,		/* no certificate asked */
	PC_TLS_CLIENT_OPTIONAL,		/* asked; a presented one must verify, none is fine */
	PC_TLS_CLIENT_REQUIRED,		/* handshake fails without a verifying certificate */
};

struct pc_tls_cert_conf {
	const char	*cert;		/* PEM chain: leaf first */
	const char	*key;		/* PEM private key; must not be readable by group/others */
};

struct pc_tls_server_conf {
	const struct pc_tls_cert_conf *certs;	/* 1..16; grouped by their names for SNI */
	unsigned	 ncerts;
	enum pc_tls_client_cert client_cert;
	const char	*client_ca;	/* PEM bundle; required unless client_cert is NONE */
	const char	*client_crl;	/* PEM CRL file(s) for client_ca; NULL: none */
	enum pc_tls_version min_version;	/* default 1.2 */
	bool		 session_tickets;	/* default true */
	bool		 alpn_h2;	/* offer "h2" before "http/1.1" (HTTP/2 enabled) */
};

/*
 * A listener's TLS state: one SSL_CTX per group of certificates sharing the same names
 * (an ECDSA and an RSA certificate for the same names share one context, and OpenSSL picks
 * by what the client supports); SNI picks the group; the first group is the default.
 * Reference-counted: a connection holds one while its SSL may still call back into it.
 */
struct pc_tls_server;

PC_MUST_CHECK int pc_tls_server_new(const struct pc_tls_server_conf *sc,
    struct pc_tls_server **out, struct pc_tls_err *err);
struct pc_tls_server *pc_tls_server_ref(struct pc_tls_server *s);
void		 pc_tls_server_unref(struct pc_tls_server *s);	/* accepts NULL */
/* A new server-side SSL on <fd> in accept state, or NULL (out of memory). */
struct ssl_st	*pc_tls_server_ssl(struct pc_tls_server *s, int fd);

struct pc_tls_client_conf {
	bool		 verify;	/* default true: chain and name are checked */
	const char	*ca;		/* PEM bundle; NULL: the system's default paths */
	const char	*server_name;	/* SNI and the checked name; NULL: check the IP */
	const char	*cert;		/* client certificate to the upstream; NULL: none */
	const char	*key;
	enum pc_tls_version min_version;
};

/* An upstream's TLS state (one SSL_CTX). Plain pointer ownership: the configuration
 * snapshot frees it, and SSL objects made from it keep the SSL_CTX alive on their own. */
struct pc_tls_client;

PC_MUST_CHECK int pc_tls_client_new(const struct pc_tls_client_conf *cc,
    struct pc_tls_client **out, struct pc_tls_err *err);
void		 pc_tls_client_free(struct pc_tls_client *c);	/* accepts NULL */
/* A new client-side SSL on <fd>, in connect state, with SNI and the name or IP check
 * (<peer> is the target's address, used when no server_name is configured). */
struct ssl_st	*pc_tls_client_ssl(struct pc_tls_client *c, int fd, const struct sockaddr *peer);

/* Non-blocking I/O. Results: > 0 bytes; PC_TLS_EOF (peer closed, with or without
 * close_notify); PC_TLS_WANT_READ / PC_TLS_WANT_WRITE (retry when the socket is readable /
 * writable, with the same arguments for writes); PC_TLS_ERROR (the connection is done).
 * A read may return fewer bytes than are buffered inside OpenSSL: callers must keep reading
 * until WANT_READ, never infer "drained" from a short read. Read-ahead is on, so the same
 * holds after a handshake: its last read may already hold the peer's first bytes. */
#define PC_TLS_EOF		0
#define PC_TLS_ERROR		(-1)
#define PC_TLS_WANT_READ	(-2)
#define PC_TLS_WANT_WRITE	(-3)

/* Drives the handshake: 1 done, or one of the codes above. */
int		 pc_tls_handshake(struct ssl_st *ssl);
ssize_t		 pc_tls_read(struct ssl_st *ssl, void *buf, size_t len);
ssize_t		 pc_tls_write(struct ssl_st *ssl, const void *buf, size_t len);
/* Sends close_notify if the handshake completed (best effort, never blocks) and frees. */
void		 pc_tls_close(struct ssl_st *ssl);
/* Why the last operation failed, for the log: a short static text (certificate verify
 * result, "handshake failure", "unsupported protocol", ...). */
const char	*pc_tls_last_error(struct ssl_st *ssl);
/* The negotiated ALPN protocol ("h2", "http/1.1") or "" if none. */
struct pc_str	 pc_tls_alpn(struct ssl_st *ssl);
/* "TLSv1.3" etc., and the cipher name, for the access log. */
const char	*pc_tls_version_name(struct ssl_st *ssl);
const char	*pc_tls_cipher_name(struct ssl_st *ssl);
bool		 pc_tls_resumed(struct ssl_st *ssl);

/*
 * The verified client certificate of a connection: present only if one was presented AND
 * verified against the listener's CA (and CRL). One allocation; free with free().
 * Strings are NUL-terminated and never truncated: a certificate whose subject or SAN is
 * longer than PC_TLS_PEER_STR_MAX, or holds control bytes, yields no identity (fail closed).
 */
#define PC_TLS_PEER_STR_MAX	1024

struct pc_tls_peer {
	char		 sha256[65];	/* hex of SHA-256 over the DER certificate (RFC 8705 x5t#S256 is its base64url) */
	unsigned char	 sha256_raw[32];
	const char	*subject;	/* RFC 2253 */
	const char	*san_uri;	/* first URI SAN, "" if none */
	const char	*san_dns;	/* first DNS SAN, "" if none */
};

/* Returns the verified peer (caller frees), or NULL if none presented or on no memory. */
struct pc_tls_peer *pc_tls_peer_get(struct ssl_st *ssl);
/* The identity as one header value: sha256=<hex>;subject="...";uri="...";dns="..."
 * (quotes and backslashes escaped, control bytes refused). 0 or -PC_ENOMEM/-PC_EINVAL. */
PC_MUST_CHECK int pc_tls_peer_header(const struct pc_tls_peer *p, struct pc_buf *out);

/* Session-ticket keys: process-wide, generated in memory, never written anywhere; the
 * current key encrypts and the previous one still decrypts, so a ticket lives at most two
 * periods. Configuration snapshots share the store, so a reload keeps resumption working. */
void		 pc_tls_tickets_set_rotation(uint32_t seconds);	/* default 3600 */

/*
 * A throwaway self-signed ECDSA P-256 certificate for <name> (DNS SAN, plus IP SAN
 * 127.0.0.1 and ::1), valid <days>, written as <cert_path> (0644) and <key_path> (0600,
 * created exclusively). <fp> receives the SHA-256 fingerprint as "AB:CD:..." (96 bytes).
 * For the demo only. 0 or -PC_E*.
 */
PC_MUST_CHECK int pc_tls_selfsigned(const char *name, unsigned days, const char *cert_path,
    const char *key_path, char fp[96]);

/* Process start: OpenSSL's init. 0 or -PC_E*. */
PC_MUST_CHECK int pc_tls_init(void);

#endif
