/*
 * tls/tls_io.c - non-blocking record I/O on one SSL: handshake, read, write, close, and
 * what the access log says about it (why it failed, ALPN, version, cipher, resumption).
 * Owns: the mapping of SSL_get_error to PC_TLS_*; the failure text kept on the SSL.
 * Does not: wait for readiness (the caller's loop does).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>

#include "tls/tls_int.h"
#include "core/banned.h"

static pthread_once_t	ex_once = PTHREAD_ONCE_INIT;
static int		ex_index = -1;

static void
ex_init(void)
{
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int
pc_tls__ex_index(void)
{
	(void)pthread_once(&ex_once, ex_init);
	return ex_index;
}

/* Keeps a static text on <ssl> for pc_tls_last_error; its presence also marks the
 * connection as failed, so pc_tls_close sends no close_notify on it. */
static void
set_failure(SSL *ssl, const char *why)
{
	int idx = pc_tls__ex_index();

	if (idx >= 0)
		(void)SSL_set_ex_data(ssl, idx, (void *)(uintptr_t)why);
}

static const char *
get_failure(const SSL *ssl)
{
	int idx = pc_tls__ex_index();

	return idx >= 0 ? SSL_get_ex_data(ssl, idx) : NULL;
}

static bool
is_unexpected_eof(unsigned long e)
{
	return ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/* Maps the result <ret> of an SSL call to PC_TLS_*; <err_no> is errno right after it. */
static int
map_result(SSL *ssl, int ret, int err_no)
{
	unsigned long	 e;
	const char	*why;

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return PC_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return PC_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return PC_TLS_EOF;
	case SSL_ERROR_SYSCALL:
		e = ERR_peek_last_error();
		/* No queued error and no errno: the peer closed the socket (OpenSSL < 3 said
		 * it this way). */
		if (e == 0 && err_no == 0) {
			set_failure(ssl, "unexpected eof while reading");
			return PC_TLS_EOF;
		}
		if (e != 0)
			why = ERR_reason_error_string(e);
		else if (err_no == ECONNRESET)
			why = "connection reset by peer";
		else if (err_no == EPIPE)
			why = "broken pipe";
		else
			why = "socket error";
		set_failure(ssl, why != NULL ? why : "socket error");
		return PC_TLS_ERROR;
	case SSL_ERROR_SSL:
		e = ERR_peek_last_error();
		why = e != 0 ? ERR_reason_error_string(e) : NULL;
		set_failure(ssl, why != NULL ? why : "handshake failed");
		/* A peer that closes without close_notify is common (RFC 8446 6.1 allows the
		 * application to decide); HTTP framing detects a truncated message. */
		if (is_unexpected_eof(e))
			return PC_TLS_EOF;
		return PC_TLS_ERROR;
	default:
		set_failure(ssl, "handshake failed");
		return PC_TLS_ERROR;
	}
}

int
pc_tls_handshake(struct ssl_st *ssl)
{
	int ret, rc;

	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(ssl);
	if (ret == 1)
		return 1;
	rc = map_result(ssl, ret, errno);
	ERR_clear_error();
	return rc;
}

ssize_t
pc_tls_read(struct ssl_st *ssl, void *buf, size_t len)
{
	int ret, rc;

	PC_ASSERT(len > 0);
	if (len > INT_MAX)
		len = INT_MAX;
	ERR_clear_error();
	errno = 0;
	ret = SSL_read(ssl, buf, (int)len);
	if (ret > 0)
		return ret;
	rc = map_result(ssl, ret, errno);
	ERR_clear_error();
	return rc;
}

ssize_t
pc_tls_write(struct ssl_st *ssl, const void *buf, size_t len)
{
	int ret, rc;

	PC_ASSERT(len > 0);
	if (len > INT_MAX)
		len = INT_MAX;
	ERR_clear_error();
	errno = 0;
	ret = SSL_write(ssl, buf, (int)len);
	if (ret > 0)
		return ret;
	rc = map_result(ssl, ret, errno);
	ERR_clear_error();
	return rc;
}

void
pc_tls_close(struct ssl_st *ssl)
{
	if (ssl == NULL)
		return;
	/* One close_notify, never waiting for the peer's (RFC 8446 6.1 allows it); after a
	 * failure OpenSSL forbids SSL_shutdown, and it would only write into a dead socket. */
	if (SSL_is_init_finished(ssl) && get_failure(ssl) == NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
}

const char *
pc_tls_last_error(struct ssl_st *ssl)
{
	const char	*why;
	long		 vr;

	if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0) {
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK)
			return X509_verify_cert_error_string(vr);
	}
	why = get_failure(ssl);
	return why != NULL ? why : "handshake failed";
}

struct pc_str
pc_tls_alpn(struct ssl_st *ssl)
{
	const unsigned char	*p = NULL;
	unsigned		 n = 0;

	SSL_get0_alpn_selected(ssl, &p, &n);
	if (p == NULL || n == 0)
		return PC_STR("");
	return pc_str_make((const char *)p, n);
}

const char *
pc_tls_version_name(struct ssl_st *ssl)
{
	return SSL_get_version(ssl);
}

const char *
pc_tls_cipher_name(struct ssl_st *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	return c != NULL ? SSL_CIPHER_get_name(c) : "";
}

bool
pc_tls_resumed(struct ssl_st *ssl)
{
	return SSL_session_reused(ssl) == 1;
}
