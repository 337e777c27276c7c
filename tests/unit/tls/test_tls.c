/*
 * tests/unit/tls/test_tls.c - tls/: every context-building error with its exact message,
 * the key-file mode check, and real handshakes over socketpairs (both ends non-blocking,
 * driven in one thread): SNI and the ECDSA/RSA choice, protocol floors, client
 * certificates (required, optional, revoked, unknown CA) and the verified peer, session
 * tickets across key rotations, upstream name/IP checks, ALPN, record I/O and EOF, and the
 * peer header's escaping. Keys and certificates are made in-process (certgen.c) into a
 * mkdtemp directory, once for the whole binary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certgen.c"

#include "core/core.h"
#include "tls/tls.h"
#include "tls/tls_int.h"
#include "core/banned.h"

/* ---- fixture: paths of the generated files ---- */

static char	 ring[64][160];
static unsigned	 ring_next;

/* The path of a generated file; valid for the next 63 calls. */
static const char *
P(const char *name)
{
	char *b = ring[ring_next++ % PC_NELEM(ring)];

	return cg_path(name, b, sizeof(ring[0]));
}

static unsigned char	client_der_sha256[32];

struct made {
	EVP_PKEY	*ca, *ca2, *ec, *rsa, *wild, *cn, *up, *weak, *ed, *cli, *rev, *str;
	X509		*ca_x, *ca2_x;
};

static int
make_leaf(const char *name, EVP_PKEY *key, const char *org, const char *cn, const char *san,
    X509 *issuer, EVP_PKEY *ikey, long serial, const char *eku, X509 *chain, X509 **keep)
{
	char	 kname[64];
	X509	*x;
	int	 rc;

	x = cg_cert(key, org, cn, san, issuer, ikey, serial, false, eku);
	if (x == NULL)
		return -1;
	(void)snprintf(kname, sizeof(kname), "%s.key", name);
	rc = cg_write_key(kname, key, 0600, NULL);
	(void)snprintf(kname, sizeof(kname), "%s.crt", name);
	if (rc == 0)
		rc = cg_write_cert(kname, x, chain);
	if (keep != NULL)
		*keep = x;
	else
		X509_free(x);
	return rc;
}

static int
setup(void **state)
{
	struct made	 m;
	char		 longsan[PC_TLS_PEER_STR_MAX + 64];
	X509		*cli_x = NULL;
	X509_CRL	*crl;
	unsigned char	*der = NULL;
	int		 derlen, rc = 0;

	(void)state;
	(void)signal(SIGPIPE, SIG_IGN);
	if (pc_tls_init() != 0)
		return -1;
	(void)snprintf(cg_dir, sizeof(cg_dir), "/tmp/pc-tls-test-XXXXXX");
	if (mkdtemp(cg_dir) == NULL)
		return -1;
	memset(&m, 0, sizeof(m));
	m.ca = cg_ec();
	m.ca2 = cg_ec();
	m.ec = cg_ec();
	m.rsa = cg_rsa(2048);
	m.wild = cg_ec();
	m.cn = cg_ec();
	m.up = cg_ec();
	m.weak = cg_rsa(1024);
	m.ed = cg_ed25519();
	m.cli = cg_ec();
	m.rev = cg_ec();
	m.str = cg_ec();
	if (m.ca == NULL || m.ca2 == NULL || m.ec == NULL || m.rsa == NULL || m.wild == NULL ||
	    m.cn == NULL || m.up == NULL || m.weak == NULL || m.ed == NULL || m.cli == NULL ||
	    m.rev == NULL || m.str == NULL)
		return -1;
	m.ca_x = cg_cert(m.ca, NULL, "Test CA", NULL, NULL, NULL, 1, true, NULL);
	m.ca2_x = cg_cert(m.ca2, NULL, "Other CA", NULL, NULL, NULL, 1, true, NULL);
	if (m.ca_x == NULL || m.ca2_x == NULL)
		return -1;
	rc |= cg_write_cert("ca.crt", m.ca_x, NULL);
	rc |= cg_write_cert("ca2.crt", m.ca2_x, NULL);
	rc |= make_leaf("cn", m.cn, NULL, "cn.example.net", NULL, m.ca_x, m.ca, 10,
	    "serverAuth", NULL, NULL);
	rc |= make_leaf("ec", m.ec, NULL, "ec", "DNS:a.example.com,DNS:b.example.com", m.ca_x,
	    m.ca, 11, "serverAuth", m.ca_x, NULL);
	rc |= make_leaf("rsa", m.rsa, NULL, "rsa", "DNS:B.example.com,DNS:a.example.com",
	    m.ca_x, m.ca, 12, "serverAuth", NULL, NULL);
	rc |= make_leaf("rsa2", m.rsa, NULL, "rsa2", "DNS:a.example.com,DNS:b.example.com",
	    m.ca_x, m.ca, 13, "serverAuth", NULL, NULL);
	rc |= make_leaf("wild", m.wild, NULL, "wild", "DNS:*.wild.test", m.ca_x, m.ca, 14,
	    "serverAuth", NULL, NULL);
	rc |= make_leaf("up", m.up, NULL, "up", "DNS:up.example.com,IP:127.0.0.1", m.ca_x,
	    m.ca, 15, "serverAuth", NULL, NULL);
	rc |= make_leaf("weak", m.weak, NULL, "weak", "DNS:weak.test", m.ca_x, m.ca, 16,
	    "serverAuth", NULL, NULL);
	rc |= make_leaf("ed", m.ed, NULL, "ed", "DNS:ed.test", m.ca_x, m.ca, 17, "serverAuth",
	    NULL, NULL);
	rc |= make_leaf("client", m.cli, "Acme", "client1",
	    "URI:spiffe://acme/client1,DNS:client1.acme.test,URI:spiffe://acme/second", m.ca_x,
	    m.ca, 100, "clientAuth", NULL, &cli_x);
	rc |= make_leaf("revoked", m.rev, NULL, "revoked", NULL, m.ca_x, m.ca, 666,
	    "clientAuth", NULL, NULL);
	rc |= make_leaf("stranger", m.str, NULL, "stranger", NULL, m.ca2_x, m.ca2, 5,
	    "clientAuth", NULL, NULL);
	/* A valid certificate whose URI SAN is longer than PC_TLS_PEER_STR_MAX. */
	memset(longsan, 'u', sizeof(longsan) - 1);
	longsan[sizeof(longsan) - 1] = '\0';
	memcpy(longsan, "URI:https://x/", 14);
	rc |= make_leaf("longuri", m.str, NULL, "longuri", longsan, m.ca_x, m.ca, 7,
	    "clientAuth", NULL, NULL);
	rc |= cg_write_key("ec-0644.key", m.ec, 0644, NULL);
	rc |= cg_write_key("ec-0640.key", m.ec, 0640, NULL);
	rc |= cg_write_key("enc.key", m.ec, 0600, "secret");
	rc |= cg_write_text("garbage.pem", "this is not PEM\n", 0600);
	rc |= cg_write_text("broken.crt",
	    "-----BEGIN CERTIFICATE-----\nAAAA!!!!\n-----END CERTIFICATE-----\n", 0644);
	crl = cg_crl(m.ca_x, m.ca, 666);
	rc |= crl == NULL ? -1 : cg_write_crl("crl.pem", crl);
	X509_CRL_free(crl);
	/* The digest the peer must report, computed here over the DER independently. */
	derlen = cli_x != NULL ? i2d_X509(cli_x, &der) : -1;
	if (derlen <= 0 || EVP_Digest(der, (size_t)derlen, client_der_sha256, NULL,
	    EVP_sha256(), NULL) != 1)
		rc = -1;
	OPENSSL_free(der);
	X509_free(cli_x);
	X509_free(m.ca_x);
	X509_free(m.ca2_x);
	EVP_PKEY_free(m.ca);
	EVP_PKEY_free(m.ca2);
	EVP_PKEY_free(m.ec);
	EVP_PKEY_free(m.rsa);
	EVP_PKEY_free(m.wild);
	EVP_PKEY_free(m.cn);
	EVP_PKEY_free(m.up);
	EVP_PKEY_free(m.weak);
	EVP_PKEY_free(m.ed);
	EVP_PKEY_free(m.cli);
	EVP_PKEY_free(m.rev);
	EVP_PKEY_free(m.str);
	return rc == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cg_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

#define CERT(n)	{ P(n ".crt"), P(n ".key") }

static struct pc_tls_server *
must_server(const struct pc_tls_server_conf *sc)
{
	struct pc_tls_server	*s = NULL;
	struct pc_tls_err	 err;
	int			 rc;

	rc = pc_tls_server_new(sc, &s, &err);
	if (rc != 0)
		fail_msg("pc_tls_server_new: %d: [%d] %s", rc, err.index, err.msg);
	return s;
}

static void
expect_server_err(const struct pc_tls_server_conf *sc, int index, const char *want)
{
	struct pc_tls_server	*s = (struct pc_tls_server *)(uintptr_t)1;
	struct pc_tls_err	 err;
	int			 rc;

	rc = pc_tls_server_new(sc, &s, &err);
	if (rc >= 0)
		fail_msg("pc_tls_server_new succeeded, want '%s'", want);
	assert_null(s);
	assert_string_equal(err.msg, want);
	assert_int_equal(err.index, index);
}

/* As expect_server_err, for messages whose tail is OpenSSL's text: a prefix match. */
static void
expect_server_err_prefix(const struct pc_tls_server_conf *sc, int index, const char *want)
{
	struct pc_tls_server	*s = NULL;
	struct pc_tls_err	 err;

	assert_true(pc_tls_server_new(sc, &s, &err) < 0);
	assert_null(s);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("got '%s', want prefix '%s'", err.msg, want);
	assert_int_equal(err.index, index);
}

static void
expect_client_err(const struct pc_tls_client_conf *cc, const char *want)
{
	struct pc_tls_client	*c = NULL;
	struct pc_tls_err	 err;

	assert_true(pc_tls_client_new(cc, &c, &err) < 0);
	assert_null(c);
	assert_string_equal(err.msg, want);
	assert_int_equal(err.index, -1);
}

static const char *
fmt(const char *f, ...) PC_PRINTF(1, 2);

static const char *
fmt(const char *f, ...)
{
	static char	buf[4][512];
	static unsigned	n;
	char		*b = buf[n++ % 4];
	va_list		ap;

	va_start(ap, f);
	(void)vsnprintf(b, sizeof(buf[0]), f, ap);
	va_end(ap);
	return b;
}

struct hs {
	int	 fd[2];
	SSL	*s, *c;
	int	 rs, rc;
};

static void
hs_socks(struct hs *h)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    h->fd), 0);
}

static bool
wants(int r)
{
	return r == PC_TLS_WANT_READ || r == PC_TLS_WANT_WRITE;
}

/* Runs both handshakes until each is done or has failed. */
static void
hs_drive(struct hs *h)
{
	int i;

	h->rs = h->rc = PC_TLS_WANT_READ;
	for (i = 0; i < 2000; i++) {
		if (wants(h->rs))
			h->rs = pc_tls_handshake(h->s);
		if (wants(h->rc))
			h->rc = pc_tls_handshake(h->c);
		if (!wants(h->rs) && !wants(h->rc))
			break;
	}
}

static void
hs_end(struct hs *h)
{
	pc_tls_close(h->s);
	pc_tls_close(h->c);
	(void)close(h->fd[0]);
	(void)close(h->fd[1]);
}

/* A plain OpenSSL client context, for what pc_tls_client deliberately cannot do. */
static SSL_CTX *
test_client_ctx(int minv, int maxv, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	if (minv < TLS1_2_VERSION)
		SSL_CTX_set_security_level(ctx, 0);	/* else OpenSSL 3 refuses 1.1 itself */
	assert_int_equal(SSL_CTX_set_min_proto_version(ctx, minv), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, maxv), 1);
	assert_int_equal(SSL_CTX_load_verify_locations(ctx, P("ca.crt"), NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert != NULL) {
		assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
	}
	return ctx;
}

/* Starts a handshake pair: <s> serves, a client from <cctx> with <sni> (NULL: none). */
static void
hs_start(struct hs *h, struct pc_tls_server *s, SSL_CTX *cctx, const char *sni)
{
	hs_socks(h);
	h->s = pc_tls_server_ssl(s, h->fd[0]);
	assert_non_null(h->s);
	h->c = SSL_new(cctx);
	assert_non_null(h->c);
	assert_int_equal(SSL_set_fd(h->c, h->fd[1]), 1);
	SSL_set_connect_state(h->c);
	if (sni != NULL) {
		/* A writable copy: the OpenSSL macro casts away const (clang -Wcast-qual). */
		char name[256];

		(void)snprintf(name, sizeof(name), "%s", sni);
		assert_int_equal(SSL_set_tlsext_host_name(h->c, name), 1);
	}
}

static const char *
peer_cn(SSL *ssl)
{
	static char	 cn[128];
	X509		*x = SSL_get0_peer_certificate(ssl);

	cn[0] = '\0';
	if (x != NULL)
		(void)X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
		    sizeof(cn));
	return cn;
}

/* ---- context errors ---- */

static void
test_server_errors(void **state)
{
	struct pc_tls_cert_conf		 certs[17];
	struct pc_tls_server_conf	 sc = { .certs = certs, .ncerts = 1,
	    .session_tickets = true };
	unsigned			 i;

	(void)state;
	for (i = 0; i < PC_NELEM(certs); i++)
		certs[i] = (struct pc_tls_cert_conf)CERT("ec");
	sc.ncerts = 0;
	expect_server_err(&sc, -1, "tls needs 1 to 16 certificates, not 0");
	sc.ncerts = 17;
	expect_server_err(&sc, -1, "tls needs 1 to 16 certificates, not 17");
	sc.ncerts = 2;
	certs[1].key = NULL;
	expect_server_err(&sc, 1, "tls certificates need both cert and key");
	certs[1] = (struct pc_tls_cert_conf){ P("nope.crt"), P("ec.key") };
	expect_server_err(&sc, 1, fmt("tls cert %s: cannot open: No such file or directory",
	    P("nope.crt")));
	certs[1] = (struct pc_tls_cert_conf){ cg_dir, P("ec.key") };
	expect_server_err(&sc, 1, fmt("tls cert %s: not a regular file", cg_dir));
	certs[1] = (struct pc_tls_cert_conf){ P("garbage.pem"), P("ec.key") };
	expect_server_err(&sc, 1, fmt("tls cert %s: no PEM certificate in it",
	    P("garbage.pem")));
	certs[1] = (struct pc_tls_cert_conf){ P("broken.crt"), P("ec.key") };
	expect_server_err_prefix(&sc, 1, fmt("tls cert %s: invalid PEM certificate (",
	    P("broken.crt")));
	sc.ncerts = 1;
	certs[0] = (struct pc_tls_cert_conf){ P("ec.crt"), P("nope.key") };
	expect_server_err(&sc, 0, fmt("tls key %s: cannot open: No such file or directory",
	    P("nope.key")));
	certs[0] = (struct pc_tls_cert_conf){ P("ec.crt"), P("garbage.pem") };
	expect_server_err(&sc, 0, fmt("tls key %s: no PEM private key in it",
	    P("garbage.pem")));
	certs[0] = (struct pc_tls_cert_conf){ P("ec.crt"), P("enc.key") };
	expect_server_err(&sc, 0, fmt("tls key %s: encrypted keys are not supported",
	    P("enc.key")));
	certs[0] = (struct pc_tls_cert_conf){ P("ec.crt"), P("wild.key") };
	expect_server_err(&sc, 0, fmt("tls key %s does not match tls cert %s", P("wild.key"),
	    P("ec.crt")));
	certs[0] = (struct pc_tls_cert_conf)CERT("weak");
	expect_server_err(&sc, 0, fmt("tls cert %s: RSA key of 1024 bits is too weak "
	    "(at least 2048)", P("weak.crt")));
	certs[0] = (struct pc_tls_cert_conf)CERT("ed");
	expect_server_err(&sc, 0, fmt("tls cert %s: unsupported key type (RSA or ECDSA only)",
	    P("ed.crt")));
	/* Two of one key type for the same names (in another order, another case). */
	sc.ncerts = 3;
	certs[0] = (struct pc_tls_cert_conf)CERT("ec");
	certs[1] = (struct pc_tls_cert_conf)CERT("rsa");
	certs[2] = (struct pc_tls_cert_conf){ P("rsa2.crt"), P("rsa.key") };
	expect_server_err(&sc, 2, fmt("tls cert %s: same key type (RSA) and names as tls "
	    "cert %s", P("rsa2.crt"), P("rsa.crt")));
	sc.ncerts = 2;
	certs[1] = (struct pc_tls_cert_conf)CERT("ec");
	expect_server_err(&sc, 1, fmt("tls cert %s: same key type (ECDSA) and names as tls "
	    "cert %s", P("ec.crt"), P("ec.crt")));
	/* Client verification settings. */
	sc.ncerts = 1;
	sc.client_cert = PC_TLS_CLIENT_REQUIRED;
	expect_server_err(&sc, -1, "tls client_ca is required when client_cert is optional "
	    "or required");
	sc.client_cert = PC_TLS_CLIENT_OPTIONAL;
	sc.client_ca = P("nope.pem");
	expect_server_err(&sc, -1, fmt("tls client_ca %s: cannot open: No such file or "
	    "directory", P("nope.pem")));
	sc.client_ca = P("garbage.pem");
	expect_server_err(&sc, -1, fmt("tls client_ca %s: no PEM certificate in it",
	    P("garbage.pem")));
	sc.client_ca = P("ca.crt");
	sc.client_crl = P("ca.crt");
	expect_server_err(&sc, -1, fmt("tls client_crl %s: no PEM CRL in it", P("ca.crt")));
	sc.client_crl = P("nope.crl");
	expect_server_err(&sc, -1, fmt("tls client_crl %s: cannot open: No such file or "
	    "directory", P("nope.crl")));
}

static void
test_key_mode(void **state)
{
	struct pc_tls_cert_conf		 cert = { P("ec.crt"), P("ec-0644.key") };
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1 };

	(void)state;
	expect_server_err(&sc, 0, fmt("tls key %s is readable by group or others (mode 0644): "
	    "chmod 600 it", P("ec-0644.key")));
	cert.key = P("ec-0640.key");
	expect_server_err(&sc, 0, fmt("tls key %s is readable by group or others (mode 0640): "
	    "chmod 600 it", P("ec-0640.key")));
	cert.key = P("ec.key");	/* 0600 */
	pc_tls_server_unref(must_server(&sc));
}

static void
test_client_errors(void **state)
{
	struct pc_tls_client_conf cc = { .verify = true };

	(void)state;
	cc.cert = P("client.crt");
	expect_client_err(&cc, "tls cert and key go together: key is missing");
	cc.cert = NULL;
	cc.key = P("client.key");
	expect_client_err(&cc, "tls cert and key go together: cert is missing");
	cc.key = NULL;
	cc.ca = P("nope.pem");
	expect_client_err(&cc, fmt("tls ca %s: cannot open: No such file or directory",
	    P("nope.pem")));
	cc.ca = P("garbage.pem");
	expect_client_err(&cc, fmt("tls ca %s: no PEM certificate in it", P("garbage.pem")));
	cc.ca = P("ca.crt");
	cc.cert = P("client.crt");
	cc.key = P("ec-0644.key");
	expect_client_err(&cc, fmt("tls key %s is readable by group or others (mode 0644): "
	    "chmod 600 it", P("ec-0644.key")));
	cc.key = P("ec.key");
	expect_client_err(&cc, fmt("tls key %s does not match tls cert %s", P("ec.key"),
	    P("client.crt")));
	cc.cert = P("weak.crt");
	cc.key = P("weak.key");
	expect_client_err(&cc, fmt("tls cert %s: RSA key of 1024 bits is too weak (at least "
	    "2048)", P("weak.crt")));
}

static void
test_refcount(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("ec");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1 };
	struct pc_tls_server		*s = must_server(&sc);
	SSL_CTX				*cctx = test_client_ctx(TLS1_2_VERSION,
	    TLS1_3_VERSION, NULL, NULL);
	struct hs			 h;

	(void)state;
	/* A connection holds a reference; the listener's going away must not end it. */
	hs_start(&h, pc_tls_server_ref(s), cctx, "a.example.com");
	pc_tls_server_unref(s);
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	assert_int_equal(h.rc, 1);
	hs_end(&h);
	pc_tls_server_unref(s);
	pc_tls_server_unref(NULL);
	SSL_CTX_free(cctx);
}

/* ---- SNI and key types ---- */

static void
test_sni_and_key_type(void **state)
{
	struct pc_tls_cert_conf		 certs[] = { CERT("cn"), CERT("ec"), CERT("rsa"),
	    CERT("wild") };
	struct pc_tls_server_conf	 sc = { .certs = certs, .ncerts = 4,
	    .session_tickets = true };
	static const struct {
		const char	*sni;
		const char	*sigalgs;	/* NULL: any */
		const char	*want_cn;
		int		 want_type;
	} rows[] = {
		{ NULL, NULL, "cn.example.net", EVP_PKEY_EC },		/* no SNI: default */
		{ "unknown.test", NULL, "cn.example.net", EVP_PKEY_EC },	/* no match */
		{ "cn.example.net", NULL, "cn.example.net", EVP_PKEY_EC },	/* CN only */
		{ "a.example.com", "ECDSA+SHA256", "ec", EVP_PKEY_EC },
		{ "A.Example.COM", "ECDSA+SHA256", "ec", EVP_PKEY_EC },	/* case */
		{ "b.example.com", "rsa_pss_rsae_sha256:RSA+SHA256", "rsa", EVP_PKEY_RSA },
		{ "a.example.com", NULL, "ec", EVP_PKEY_EC },		/* ECDSA preferred */
		{ "x.wild.test", NULL, "wild", EVP_PKEY_EC },		/* one label */
		{ "a.b.wild.test", NULL, "cn.example.net", EVP_PKEY_EC },	/* two labels */
		{ "wild.test", NULL, "cn.example.net", EVP_PKEY_EC },	/* the apex */
		{ ".wild.test", NULL, "cn.example.net", EVP_PKEY_EC },	/* empty label */
	};
	struct pc_tls_server	*s;
	struct hs		 h;
	SSL_CTX			*cctx;
	char			 sigalgs[64];
	unsigned		 i;
	int			 v;

	(void)state;
	s = must_server(&sc);
	for (v = 0; v < 2; v++) {
		for (i = 0; i < PC_NELEM(rows); i++) {
			cctx = test_client_ctx(TLS1_2_VERSION, v == 0 ? TLS1_3_VERSION :
			    TLS1_2_VERSION, NULL, NULL);
			if (rows[i].sigalgs != NULL) {
				(void)snprintf(sigalgs, sizeof(sigalgs), "%s", rows[i].sigalgs);
				assert_int_equal(SSL_CTX_set1_sigalgs_list(cctx, sigalgs), 1);
			}
			/* Chain verification is not this test's subject (CN-only names). */
			SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
			hs_start(&h, s, cctx, rows[i].sni);
			hs_drive(&h);
			if (h.rs != 1 || h.rc != 1)
				fail_msg("row %u v%d: %d/%d %s", i, v, h.rs, h.rc,
				    pc_tls_last_error(h.s));
			if (strcmp(peer_cn(h.c), rows[i].want_cn) != 0)
				fail_msg("row %u v%d: got cert '%s', want '%s'", i, v, peer_cn(h.c),
				    rows[i].want_cn);
			assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(
			    SSL_get0_peer_certificate(h.c))), rows[i].want_type);
			assert_string_equal(pc_tls_version_name(h.s), v == 0 ? "TLSv1.3" :
			    "TLSv1.2");
			hs_end(&h);
			SSL_CTX_free(cctx);
		}
	}
	pc_tls_server_unref(s);
}

/* ---- protocol floors, ciphers ---- */

static void
test_versions(void **state)
{
	struct pc_tls_cert_conf		 certs[] = { CERT("ec"), CERT("rsa") };
	struct pc_tls_server_conf	 sc = { .certs = certs, .ncerts = 2 };
	struct pc_tls_server		*s, *s13;
	struct hs			 h;
	SSL_CTX				*c11, *c12, *c12rsa;

	(void)state;
	s = must_server(&sc);
	sc.min_version = PC_TLS_1_3;
	s13 = must_server(&sc);
	c11 = test_client_ctx(TLS1_1_VERSION, TLS1_1_VERSION, NULL, NULL);
	c12 = test_client_ctx(TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL);
	c12rsa = test_client_ctx(TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL);
	assert_int_equal(SSL_CTX_set_cipher_list(c12rsa, "ECDHE-RSA-AES256-GCM-SHA384:"
	    "AES128-SHA:ECDHE-RSA-AES128-SHA"), 1);

	/* TLS 1.1: refused. */
	hs_start(&h, s, c11, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, PC_TLS_ERROR);
	assert_int_not_equal(h.rc, 1);
	assert_string_equal(pc_tls_last_error(h.s), "unsupported protocol");
	hs_end(&h);

	/* A 1.3-only listener refuses a client that stops at 1.2. */
	hs_start(&h, s13, c12, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, PC_TLS_ERROR);
	assert_int_not_equal(h.rc, 1);
	assert_string_equal(pc_tls_last_error(h.s), "unsupported protocol");
	hs_end(&h);

	/* TLS 1.2: our order wins (ECDSA, AES-128-GCM first). */
	hs_start(&h, s, c12, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	assert_int_equal(h.rc, 1);
	assert_string_equal(pc_tls_cipher_name(h.s), "ECDHE-ECDSA-AES128-GCM-SHA256");
	assert_false(pc_tls_resumed(h.s));
	hs_end(&h);

	/* A client offering a non-AEAD or non-ECDHE suite gets only the AEAD one. */
	hs_start(&h, s, c12rsa, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	assert_string_equal(pc_tls_cipher_name(h.s), "ECDHE-RSA-AES256-GCM-SHA384");
	hs_end(&h);
	assert_int_equal(SSL_CTX_set_cipher_list(c12rsa, "AES128-SHA:ECDHE-RSA-AES128-SHA:"
	    "AES256-GCM-SHA384"), 1);
	hs_start(&h, s, c12rsa, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, PC_TLS_ERROR);
	hs_end(&h);

	/* TLS 1.3 on the 1.3 listener. */
	SSL_CTX_free(c12);
	c12 = test_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL);
	hs_start(&h, s13, c12, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	assert_string_equal(pc_tls_version_name(h.s), "TLSv1.3");
	assert_string_equal(pc_tls_cipher_name(h.s), "TLS_AES_128_GCM_SHA256");
	hs_end(&h);

	SSL_CTX_free(c11);
	SSL_CTX_free(c12);
	SSL_CTX_free(c12rsa);
	pc_tls_server_unref(s);
	pc_tls_server_unref(s13);
}

/* ---- client certificates ---- */

static void
mtls_case(struct pc_tls_server *s, int maxv, const char *cert, const char *key,
    bool want_ok, const char *want_err)
{
	struct pc_tls_peer	*peer;
	SSL_CTX			*cctx = test_client_ctx(TLS1_2_VERSION, maxv, cert, key);
	struct hs		 h;
	char			 buf[8];
	ssize_t			 n;

	hs_start(&h, s, cctx, "a.example.com");
	hs_drive(&h);
	if (!want_ok) {
		/* In TLS 1.3 the client is done before the server has looked at its
		 * certificate: the server side is the one that must fail. */
		assert_int_equal(h.rs, PC_TLS_ERROR);
		assert_null(pc_tls_peer_get(h.s));
		if (strcmp(pc_tls_last_error(h.s), want_err) != 0)
			fail_msg("last_error '%s', want '%s'", pc_tls_last_error(h.s), want_err);
		if (h.rc == 1) {
			n = PC_TLS_WANT_READ;
			for (int i = 0; i < 100 && wants((int)n); i++)
				n = pc_tls_read(h.c, buf, sizeof(buf));
			assert_int_equal(n, PC_TLS_ERROR);
		}
		hs_end(&h);
		SSL_CTX_free(cctx);
		return;
	}
	if (h.rs != 1 || h.rc != 1)
		fail_msg("handshake %d/%d: %s", h.rs, h.rc, pc_tls_last_error(h.s));
	peer = pc_tls_peer_get(h.s);
	if (cert == NULL) {
		assert_null(peer);
	} else {
		assert_non_null(peer);
		assert_string_equal(peer->subject, "CN=client1,O=Acme");
		assert_string_equal(peer->san_uri, "spiffe://acme/client1");
		assert_string_equal(peer->san_dns, "client1.acme.test");
		assert_memory_equal(peer->sha256_raw, client_der_sha256, 32);
		for (int i = 0; i < 32; i++)
			assert_string_equal(fmt("%.2s", peer->sha256 + 2 * i),
			    fmt("%02x", client_der_sha256[i]));
		assert_int_equal(strlen(peer->sha256), 64);
		free(peer);
	}
	/* The client never gets a peer identity from its own side of a server. */
	hs_end(&h);
	SSL_CTX_free(cctx);
}

static void
test_client_cert(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("ec");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1,
	    .session_tickets = true, .client_cert = PC_TLS_CLIENT_REQUIRED,
	    .client_ca = P("ca.crt"), .client_crl = P("crl.pem") };
	struct pc_tls_server		*req, *opt, *none;
	int				 v, maxv;

	(void)state;
	req = must_server(&sc);
	sc.client_cert = PC_TLS_CLIENT_OPTIONAL;
	opt = must_server(&sc);
	sc.client_cert = PC_TLS_CLIENT_NONE;
	sc.client_ca = sc.client_crl = NULL;
	none = must_server(&sc);
	for (v = 0; v < 2; v++) {
		maxv = v == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
		mtls_case(req, maxv, NULL, NULL, false, "peer did not return a certificate");
		mtls_case(req, maxv, P("client.crt"), P("client.key"), true, NULL);
		mtls_case(req, maxv, P("revoked.crt"), P("revoked.key"), false,
		    "certificate revoked");
		mtls_case(req, maxv, P("stranger.crt"), P("stranger.key"), false,
		    "unable to get local issuer certificate");
		mtls_case(opt, maxv, NULL, NULL, true, NULL);
		mtls_case(opt, maxv, P("client.crt"), P("client.key"), true, NULL);
		mtls_case(opt, maxv, P("revoked.crt"), P("revoked.key"), false,
		    "certificate revoked");
		mtls_case(opt, maxv, P("stranger.crt"), P("stranger.key"), false,
		    "unable to get local issuer certificate");
		/* Not asked: even a good certificate is no identity. */
		mtls_case(none, maxv, NULL, NULL, true, NULL);
	}
	pc_tls_server_unref(req);
	pc_tls_server_unref(opt);
	pc_tls_server_unref(none);
}

/* The SNI switch must keep client verification (every group is configured the same). */
static void
test_client_cert_after_sni_switch(void **state)
{
	struct pc_tls_cert_conf		 certs[] = { CERT("cn"), CERT("ec") };
	struct pc_tls_server_conf	 sc = { .certs = certs, .ncerts = 2,
	    .client_cert = PC_TLS_CLIENT_REQUIRED, .client_ca = P("ca.crt") };
	struct pc_tls_server		*s;

	(void)state;
	s = must_server(&sc);
	mtls_case(s, TLS1_3_VERSION, NULL, NULL, false, "peer did not return a certificate");
	mtls_case(s, TLS1_2_VERSION, NULL, NULL, false, "peer did not return a certificate");
	mtls_case(s, TLS1_3_VERSION, P("client.crt"), P("client.key"), true, NULL);
	pc_tls_server_unref(s);
}

/* Verified, but an identity that would not fit unabridged: none at all (fail closed). */
static void
test_peer_too_long(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("ec");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1,
	    .client_cert = PC_TLS_CLIENT_REQUIRED, .client_ca = P("ca.crt") };
	struct pc_tls_server		*s;
	SSL_CTX				*cctx;
	struct hs			 h;

	(void)state;
	s = must_server(&sc);
	cctx = test_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, P("longuri.crt"),
	    P("longuri.key"));
	hs_start(&h, s, cctx, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	assert_int_equal(h.rc, 1);
	assert_null(pc_tls_peer_get(h.s));
	hs_end(&h);
	SSL_CTX_free(cctx);
	pc_tls_server_unref(s);
}

/* ---- session tickets ---- */

/* A handshake with <sess> offered (NULL: none); returns the new session, sets *resumed. */
static SSL_SESSION *
ticket_round(struct pc_tls_server *s, SSL_CTX *cctx, SSL_SESSION *sess, bool *resumed)
{
	SSL_SESSION	*out;
	struct hs	 h;
	char		 buf[4];
	ssize_t		 n = PC_TLS_WANT_READ;
	int		 i;

	hs_start(&h, s, cctx, "a.example.com");
	if (sess != NULL)
		assert_int_equal(SSL_set_session(h.c, sess), 1);
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	assert_int_equal(h.rc, 1);
	*resumed = pc_tls_resumed(h.s);
	assert_int_equal(*resumed, SSL_session_reused(h.c) == 1);
	/* TLS 1.3 tickets come after the handshake: read past them. */
	assert_int_equal(pc_tls_write(h.s, "x", 1), 1);
	for (i = 0; i < 100 && wants((int)n); i++)
		n = pc_tls_read(h.c, buf, sizeof(buf));
	assert_int_equal(n, 1);
	out = SSL_get1_session(h.c);
	assert_non_null(out);
	hs_end(&h);
	return out;
}

static void
test_tickets(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("ec");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1,
	    .session_tickets = true };
	struct pc_tls_server		*s, *s2, *off;
	SSL_SESSION			*first, *next;
	SSL_CTX				*cctx;
	bool				 resumed;
	int				 v;

	(void)state;
	s = must_server(&sc);
	s2 = must_server(&sc);	/* a reload: same settings, a new object */
	sc.session_tickets = false;
	off = must_server(&sc);
	for (v = 0; v < 2; v++) {
		cctx = test_client_ctx(TLS1_2_VERSION, v == 0 ? TLS1_3_VERSION : TLS1_2_VERSION,
		    NULL, NULL);
		first = ticket_round(s, cctx, NULL, &resumed);
		assert_false(resumed);
		next = ticket_round(s, cctx, first, &resumed);
		assert_true(resumed);
		SSL_SESSION_free(next);
		/* The keys are process-wide: a new snapshot resumes the old one's sessions. */
		next = ticket_round(s2, cctx, first, &resumed);
		assert_true(resumed);
		SSL_SESSION_free(next);
		/* One rotation: the previous key still decrypts. */
		pc_tls__tickets_rotate();
		next = ticket_round(s, cctx, first, &resumed);
		assert_true(resumed);
		SSL_SESSION_free(next);
		/* Two: gone, a full handshake. */
		pc_tls__tickets_rotate();
		next = ticket_round(s, cctx, first, &resumed);
		assert_false(resumed);
		SSL_SESSION_free(first);
		/* Tickets off: nothing resumes. */
		first = ticket_round(off, cctx, NULL, &resumed);
		SSL_SESSION_free(next);
		next = ticket_round(off, cctx, first, &resumed);
		assert_false(resumed);
		SSL_SESSION_free(next);
		SSL_SESSION_free(first);
		SSL_CTX_free(cctx);
	}
	pc_tls_server_unref(s);
	pc_tls_server_unref(s2);
	pc_tls_server_unref(off);
}

/* A session from a listener that asks no certificate never resumes on one that requires
 * it (the session id context differs). */
static void
test_tickets_not_across_verify_settings(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("ec");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1,
	    .session_tickets = true };
	struct pc_tls_server		*plain, *req;
	SSL_SESSION			*sess;
	SSL_CTX				*cctx;
	struct hs			 h;
	bool				 resumed;

	(void)state;
	plain = must_server(&sc);
	sc.client_cert = PC_TLS_CLIENT_REQUIRED;
	sc.client_ca = P("ca.crt");
	req = must_server(&sc);
	cctx = test_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL);
	sess = ticket_round(plain, cctx, NULL, &resumed);
	hs_start(&h, req, cctx, "a.example.com");
	assert_int_equal(SSL_set_session(h.c, sess), 1);
	hs_drive(&h);
	assert_int_equal(h.rs, PC_TLS_ERROR);
	assert_false(pc_tls_resumed(h.s));
	hs_end(&h);
	SSL_SESSION_free(sess);
	SSL_CTX_free(cctx);
	pc_tls_server_unref(plain);
	pc_tls_server_unref(req);
}

/* ---- upstream side ---- */

static void
up_case(struct pc_tls_server *s, const struct pc_tls_client_conf *cc, const char *peer_ip,
    bool want_ok, const char *want_err)
{
	struct pc_tls_client	*c = NULL;
	struct pc_tls_err	 err;
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct hs		 h;

	assert_int_equal(inet_pton(AF_INET, peer_ip, &sin.sin_addr), 1);
	if (pc_tls_client_new(cc, &c, &err) != 0)
		fail_msg("pc_tls_client_new: %s", err.msg);
	hs_socks(&h);
	h.s = pc_tls_server_ssl(s, h.fd[0]);
	h.c = pc_tls_client_ssl(c, h.fd[1], (const struct sockaddr *)&sin);
	assert_non_null(h.s);
	assert_non_null(h.c);
	hs_drive(&h);
	if (want_ok) {
		if (h.rc != 1 || h.rs != 1)
			fail_msg("handshake %d/%d: %s", h.rs, h.rc, pc_tls_last_error(h.c));
		assert_string_equal(peer_cn(h.c), "up");
		/* We offer http/1.1 to upstreams. */
		assert_int_equal(pc_tls_alpn(h.c).len, 8);
	} else {
		assert_int_equal(h.rc, PC_TLS_ERROR);
		assert_string_equal(pc_tls_last_error(h.c), want_err);
	}
	hs_end(&h);
	pc_tls_client_free(c);
}

static void
test_upstream(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("up");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1 };
	struct pc_tls_client_conf	 cc = { .verify = true, .ca = P("ca.crt") };
	struct pc_tls_server		*s;

	(void)state;
	s = must_server(&sc);
	cc.server_name = "up.example.com";
	up_case(s, &cc, "127.0.0.1", true, NULL);
	cc.server_name = "wrong.example.com";
	up_case(s, &cc, "127.0.0.1", false, "hostname mismatch");
	cc.verify = false;
	up_case(s, &cc, "127.0.0.1", true, NULL);
	/* No name: the target's address must be an IP SAN. */
	cc.verify = true;
	cc.server_name = NULL;
	up_case(s, &cc, "127.0.0.1", true, NULL);
	up_case(s, &cc, "10.1.2.3", false, "IP address mismatch");
	/* An IP literal as the name: checked as an address, not sent as SNI. */
	cc.server_name = "127.0.0.1";
	up_case(s, &cc, "10.1.2.3", true, NULL);
	cc.server_name = "10.1.2.3";
	up_case(s, &cc, "127.0.0.1", false, "IP address mismatch");
	/* The system's trust store does not know our test CA. */
	cc.server_name = "up.example.com";
	cc.ca = NULL;
	up_case(s, &cc, "127.0.0.1", false, "unable to get local issuer certificate");
	pc_tls_server_unref(s);
}

static void
test_upstream_client_cert(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("up");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1,
	    .client_cert = PC_TLS_CLIENT_REQUIRED, .client_ca = P("ca.crt") };
	struct pc_tls_client_conf	 cc = { .verify = true, .ca = P("ca.crt"),
	    .server_name = "up.example.com", .cert = P("client.crt"), .key = P("client.key"),
	    .min_version = PC_TLS_1_3 };
	struct pc_tls_server		*s;
	struct pc_tls_client		*c;
	struct pc_tls_peer		*peer;
	struct pc_tls_err		 err;
	struct hs			 h;

	(void)state;
	s = must_server(&sc);
	assert_int_equal(pc_tls_client_new(&cc, &c, &err), 0);
	hs_socks(&h);
	h.s = pc_tls_server_ssl(s, h.fd[0]);
	h.c = pc_tls_client_ssl(c, h.fd[1], NULL);
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	assert_int_equal(h.rc, 1);
	peer = pc_tls_peer_get(h.s);
	assert_non_null(peer);
	assert_string_equal(peer->san_uri, "spiffe://acme/client1");
	free(peer);
	/* The client side's peer is the upstream, verified by name. */
	peer = pc_tls_peer_get(h.c);
	assert_non_null(peer);
	assert_string_equal(peer->subject, "CN=up");
	assert_string_equal(peer->san_dns, "up.example.com");
	assert_string_equal(peer->san_uri, "");
	free(peer);
	hs_end(&h);
	pc_tls_client_free(c);
	pc_tls_client_free(NULL);
	/* Verifying without a name and without an address: no SSL at all. */
	cc.server_name = NULL;
	assert_int_equal(pc_tls_client_new(&cc, &c, &err), 0);
	assert_null(pc_tls_client_ssl(c, -1, NULL));
	pc_tls_client_free(c);
	pc_tls_server_unref(s);
}

/* ---- ALPN ---- */

static void
test_alpn(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("ec");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1 };
	static const struct {
		bool		 h2;
		const char	*offer;	/* wire format */
		unsigned	 offer_len;
		const char	*want;
	} rows[] = {
		{ false, "\x02h2\x08http/1.1", 12, "http/1.1" },
		{ true, "\x02h2\x08http/1.1", 12, "h2" },
		{ true, "\x08http/1.1\x02h2", 12, "h2" },	/* our order, not theirs */
		{ true, "\x08http/1.1", 9, "http/1.1" },
		{ false, "\x02h2", 3, "" },			/* no overlap: no ALPN */
		{ true, "\x03" "foo\x06spdy/3", 11, "" },
		{ true, NULL, 0, "" },				/* none offered */
	};
	struct pc_tls_server	*plain, *h2;
	struct hs		 h;
	struct pc_str		 got;
	SSL_CTX			*cctx;
	unsigned		 i;

	(void)state;
	plain = must_server(&sc);
	sc.alpn_h2 = true;
	h2 = must_server(&sc);
	cctx = test_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL);
	for (i = 0; i < PC_NELEM(rows); i++) {
		hs_start(&h, rows[i].h2 ? h2 : plain, cctx, "a.example.com");
		if (rows[i].offer != NULL)
			assert_int_equal(SSL_set_alpn_protos(h.c,
			    (const unsigned char *)rows[i].offer, rows[i].offer_len), 0);
		hs_drive(&h);
		assert_int_equal(h.rs, 1);
		assert_int_equal(h.rc, 1);
		got = pc_tls_alpn(h.s);
		if (!pc_str_eq(got, pc_str_c(rows[i].want)))
			fail_msg("row %u: got '%.*s', want '%s'", i, PC_STR_FMT(got),
			    rows[i].want);
		assert_non_null(got.ptr);
		hs_end(&h);
	}
	SSL_CTX_free(cctx);
	pc_tls_server_unref(plain);
	pc_tls_server_unref(h2);
}

/* ---- record I/O ---- */

static void
test_io_and_eof(void **state)
{
	struct pc_tls_cert_conf		 cert = CERT("ec");
	struct pc_tls_server_conf	 sc = { .certs = &cert, .ncerts = 1 };
	struct pc_tls_server		*s;
	SSL_CTX				*cctx;
	static char			 big[256 * 1024];
	char				 buf[4096];
	size_t				 sent = 0, got = 0;
	struct hs			 h;
	ssize_t				 n;
	int				 i;

	(void)state;
	s = must_server(&sc);
	cctx = test_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL);
	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = (char)(i * 7);
	hs_start(&h, s, cctx, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	/* Partial writes and WANT_WRITE with a full socket buffer; reads drain it. */
	for (i = 0; i < 100000 && got < sizeof(big); i++) {
		if (sent < sizeof(big)) {
			n = pc_tls_write(h.s, big + sent, sizeof(big) - sent);
			if (n > 0)
				sent += (size_t)n;
			else
				assert_true(n == PC_TLS_WANT_WRITE || n == PC_TLS_WANT_READ);
		}
		n = pc_tls_read(h.c, buf, sizeof(buf));
		if (n > 0) {
			assert_memory_equal(buf, big + got, (size_t)n);
			got += (size_t)n;
		} else
			assert_int_equal(n, PC_TLS_WANT_READ);
	}
	assert_int_equal(got, sizeof(big));
	/* close_notify: EOF. */
	pc_tls_close(h.s);
	h.s = NULL;
	n = pc_tls_read(h.c, buf, sizeof(buf));
	assert_int_equal(n, PC_TLS_EOF);
	hs_end(&h);

	/* The peer's socket just closes (no close_notify): EOF too. */
	hs_start(&h, s, cctx, "a.example.com");
	hs_drive(&h);
	assert_int_equal(h.rs, 1);
	assert_int_equal(h.rc, 1);
	assert_int_equal(shutdown(h.fd[1], SHUT_WR), 0);
	n = pc_tls_read(h.s, buf, sizeof(buf));
	for (i = 0; i < 100 && n == PC_TLS_WANT_READ; i++)
		n = pc_tls_read(h.s, buf, sizeof(buf));
	assert_int_equal(n, PC_TLS_EOF);
	hs_end(&h);

	/* Garbage instead of a ClientHello: an error, and a reason for the log. */
	hs_socks(&h);
	h.s = pc_tls_server_ssl(s, h.fd[0]);
	assert_int_equal(write(h.fd[1], "GET / HTTP/1.1\r\n\r\n", 18), 18);
	assert_int_equal(pc_tls_handshake(h.s), PC_TLS_ERROR);
	assert_string_equal(pc_tls_last_error(h.s), "http request");
	assert_int_equal(pc_tls_alpn(h.s).len, 0);
	hs_end(&h);
	SSL_CTX_free(cctx);
	pc_tls_server_unref(s);
}

/* ---- the peer header ---- */

static void
test_peer_header(void **state)
{
	struct pc_tls_peer	 p;
	struct pc_buf		 b;
	const char		*want;

	(void)state;
	memset(&p, 0, sizeof(p));
	memset(p.sha256, 'a', 64);
	p.subject = "CN=a\\,b \"q\",O=x";
	p.san_uri = "spiffe://x/y";
	p.san_dns = "";
	pc_buf_init(&b, 4096);
	assert_int_equal(pc_tls_peer_header(&p, &b), 0);
	want = "sha256=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"
	    "subject=\"CN=a\\\\,b \\\"q\\\",O=x\";uri=\"spiffe://x/y\";dns=\"\"";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);

	/* Refusals leave the buffer as it was. */
	p.san_dns = "a\tb";
	assert_int_equal(pc_tls_peer_header(&p, &b), -PC_EINVAL);
	assert_int_equal(b.len, strlen(want));
	p.san_dns = "a\x7f";
	assert_int_equal(pc_tls_peer_header(&p, &b), -PC_EINVAL);
	p.san_dns = "";
	p.subject = "CN=a\r\nX-Evil: 1";
	assert_int_equal(pc_tls_peer_header(&p, &b), -PC_EINVAL);
	p.subject = "CN=x";
	p.san_uri = "\x01";
	assert_int_equal(pc_tls_peer_header(&p, &b), -PC_EINVAL);
	p.san_uri = "";
	p.sha256[3] = 'G';
	assert_int_equal(pc_tls_peer_header(&p, &b), -PC_EINVAL);
	p.sha256[3] = 'a';
	assert_int_equal(pc_tls_peer_header(NULL, &b), -PC_EINVAL);
	assert_int_equal(b.len, strlen(want));
	pc_buf_fini(&b);

	/* Over the buffer's limit: an error, nothing half-written. */
	pc_buf_init(&b, 80);
	assert_int_equal(pc_tls_peer_header(&p, &b), -PC_ETOOBIG);
	assert_int_equal(b.len, 0);
	pc_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_key_mode),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_sni_and_key_type),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_client_cert),
		cmocka_unit_test(test_client_cert_after_sni_switch),
		cmocka_unit_test(test_peer_too_long),
		cmocka_unit_test(test_tickets),
		cmocka_unit_test(test_tickets_not_across_verify_settings),
		cmocka_unit_test(test_upstream),
		cmocka_unit_test(test_upstream_client_cert),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_io_and_eof),
		cmocka_unit_test(test_peer_header),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
