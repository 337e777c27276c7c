/*
 * tls/tls_client.c - an upstream's TLS state: one SSL_CTX with the common policy, the
 * trust anchors (a CA file or the system's), an optional client certificate, and per
 * connection the SNI and the name or IP the upstream's certificate must carry.
 * Refuses: an upstream key file others can read; a verifying SSL without a name or an
 * address to check. Does not: pool connections (proxy/ does).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/tls_int.h"
#include "core/banned.h"

static bool
is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int
load_client_cert(SSL_CTX *ctx, const struct pc_tls_client_conf *cc, struct pc_tls_err *err)
{
	enum pc_tls_key_type	 kt;
	STACK_OF(X509)		*chain = NULL;
	EVP_PKEY		*key = NULL;
	X509			*leaf = NULL;
	int			 rc;

	rc = pc_tls__load_chain(cc->cert, -1, err, &leaf, &chain);
	if (rc == 0)
		rc = pc_tls__load_key(cc->key, -1, err, &key);
	if (rc == 0)
		rc = pc_tls__check_pair(cc->cert, cc->key, leaf, key, -1, err, &kt);
	if (rc == 0 && SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1) != 1) {
		pc_tls__errf(err, -1, "tls cert %s: refused by OpenSSL (%s)", cc->cert,
		    pc_tls__ossl_reason());
		rc = -PC_EINVAL;
	}
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int
pc_tls_client_new(const struct pc_tls_client_conf *cc, struct pc_tls_client **out,
    struct pc_tls_err *err)
{
	static const unsigned char	 alpn[] = "\x08http/1.1";
	struct pc_tls_client		*c;
	int				 rc = -PC_ENOMEM;

	*out = NULL;
	err->msg[0] = '\0';
	err->index = -1;
	if ((cc->cert == NULL) != (cc->key == NULL)) {
		pc_tls__errf(err, -1, "tls cert and key go together: %s is missing",
		    cc->cert == NULL ? "cert" : "key");
		return -PC_EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto nomem;
	c->verify = cc->verify;
	if (cc->server_name != NULL) {
		c->server_name = strdup(cc->server_name);
		if (c->server_name == NULL)
			goto nomem;
		c->name_is_ip = is_ip_literal(cc->server_name);
	}
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL || pc_tls__ctx_policy(c->ctx, cc->min_version) != 0)
		goto ossl;
	/* Upstream sessions are not kept: every pooled connection does a full handshake. */
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
	/* set_alpn_protos returns 0 on success. We speak HTTP/1.1 to upstreams for now. */
	if (SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof(alpn) - 1) != 0)
		goto ossl;
	if (cc->verify) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (cc->ca != NULL) {
			rc = pc_tls__load_cas("tls ca", cc->ca, SSL_CTX_get_cert_store(c->ctx),
			    NULL, NULL, err);
			if (rc != 0)
				goto fail;
		} else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1)
			goto ossl;
	} else
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	if (cc->cert != NULL) {
		rc = load_client_cert(c->ctx, cc, err);
		if (rc != 0)
			goto fail;
	}
	ERR_clear_error();
	*out = c;
	return 0;
ossl:
	pc_tls__errf(err, -1, "tls: cannot set up a context (%s)", pc_tls__ossl_reason());
	rc = -PC_EIO;
	goto fail;
nomem:
	pc_tls__errf(err, -1, "tls: out of memory");
	rc = -PC_ENOMEM;
fail:
	ERR_clear_error();
	pc_tls_client_free(c);
	return rc;
}

void
pc_tls_client_free(struct pc_tls_client *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c->server_name);
	free(c);
}

/* The address the certificate must carry as an IP SAN when no name is configured. */
static int
set_peer_ip(SSL *ssl, const struct sockaddr *peer)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	X509_VERIFY_PARAM		*vp = SSL_get0_param(ssl);

	if (peer == NULL)
		return -1;
	switch (peer->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)peer;
		return X509_VERIFY_PARAM_set1_ip(vp, (const unsigned char *)&sin->sin_addr,
		    sizeof(sin->sin_addr)) == 1 ? 0 : -1;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)peer;
		return X509_VERIFY_PARAM_set1_ip(vp, (const unsigned char *)&sin6->sin6_addr,
		    sizeof(sin6->sin6_addr)) == 1 ? 0 : -1;
	default:
		return -1;
	}
}

struct ssl_st *
pc_tls_client_ssl(struct pc_tls_client *c, int fd, const struct sockaddr *peer)
{
	SSL *ssl;

	ssl = SSL_new(c->ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
		goto fail;
	SSL_set_connect_state(ssl);
	/* SNI carries DNS names only (RFC 6066 3: "Literal IPv4 and IPv6 addresses are not
	 * permitted"). */
	if (c->server_name != NULL && !c->name_is_ip &&
	    SSL_set_tlsext_host_name(ssl, c->server_name) != 1)
		goto fail;
	if (!c->verify)
		return ssl;
	if (c->server_name != NULL && c->name_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->server_name) != 1)
			goto fail;
	} else if (c->server_name != NULL) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(ssl, c->server_name) != 1)
			goto fail;
	} else if (set_peer_ip(ssl, peer) != 0) {
		/* Verifying with nothing to check the certificate against would accept any
		 * certificate the CA ever signed: fail closed. */
		goto fail;
	}
	return ssl;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}
