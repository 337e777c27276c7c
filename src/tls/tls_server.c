/*
 * tls/tls_server.c - a listener's TLS state: certificates grouped by the names they serve
 * (one SSL_CTX per group, an ECDSA and an RSA certificate side by side), the SNI switch,
 * client-certificate verification with CRLs, and the ALPN choice.
 * Refuses: key files others can read, keys that do not match, weak RSA, two certificates
 * of one key type for the same names. Does not: read sockets (tls_io.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "tls/tls_int.h"
#include "core/banned.h"

static const char *const key_type_name[PC_TLS_KT_COUNT] = { "RSA", "ECDSA" };

/* ---- names ---- */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_free(char **names, unsigned n)
{
	unsigned i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * Adds a lowercase copy of <p>/<len> to <names> unless it is not a plausible host name
 * (such a name can never equal an SNI value, so it is skipped rather than refused).
 */
static int
name_add(char **names, unsigned *n, const unsigned char *p, int len)
{
	char	*s;
	int	 i;

	if (len <= 0 || len > PC_TLS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return 0;
	if (*n == PC_TLS_NAMES_MAX)
		return -PC_ETOOBIG;
	s = malloc((size_t)len + 1);
	if (s == NULL)
		return -PC_ENOMEM;
	for (i = 0; i < len; i++)
		s[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : (char)p[i];
	s[len] = '\0';
	names[(*n)++] = s;
	return 0;
}

/* The names a certificate serves: its DNS SANs, or its CN when it has none (RFC 6125
 * 6.4.4), lowercase, sorted, distinct. */
static int
cert_names(X509 *leaf, const char *path, int index, struct pc_tls_err *err,
    char ***out, unsigned *nout)
{
	GENERAL_NAMES		*sans;
	const GENERAL_NAME	*gn;
	X509_NAME		*subj;
	X509_NAME_ENTRY		*ent;
	unsigned char		*cn = NULL;
	char			**names;
	unsigned		 n = 0, i, j;
	int			 k, rc = 0, cnlen;

	*out = NULL;
	*nout = 0;
	names = calloc(PC_TLS_NAMES_MAX, sizeof(*names));
	if (names == NULL)
		goto nomem;
	sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (k = 0; sans != NULL && k < sk_GENERAL_NAME_num(sans) && rc == 0; k++) {
		gn = sk_GENERAL_NAME_value(sans, k);
		if (gn->type == GEN_DNS)
			rc = name_add(names, &n, ASN1_STRING_get0_data(gn->d.dNSName),
			    ASN1_STRING_length(gn->d.dNSName));
	}
	GENERAL_NAMES_free(sans);
	if (rc == 0 && n == 0) {
		subj = X509_get_subject_name(leaf);
		k = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
		ent = k >= 0 ? X509_NAME_get_entry(subj, k) : NULL;
		if (ent != NULL) {
			cnlen = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(ent));
			if (cnlen > 0)
				rc = name_add(names, &n, cn, cnlen);
			OPENSSL_free(cn);
		}
	}
	ERR_clear_error();
	if (rc == -PC_ETOOBIG) {
		pc_tls__errf(err, index, "tls cert %s: more than %d DNS names", path,
		    PC_TLS_NAMES_MAX);
		names_free(names, n);
		return rc;
	}
	if (rc != 0)
		goto nomem;
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0, j = 0; i < n; i++) {
		if (j > 0 && strcmp(names[j - 1], names[i]) == 0)
			free(names[i]);
		else
			names[j++] = names[i];
	}
	*out = names;
	*nout = j;
	return 0;
nomem:
	names_free(names, n);
	pc_tls__errf(err, index, "tls cert %s: out of memory", path);
	return -PC_ENOMEM;
}

static bool
names_equal(char *const *a, unsigned na, char *const *b, unsigned nb)
{
	unsigned i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* *.example.com matches a.example.com only: one non-empty label, never the apex nor two
 * labels (RFC 6125 6.4.3), and only a whole leftmost "*" label is a wildcard. */
static bool
wildcard_matches(const char *pattern, struct pc_str host)
{
	const char *dot;

	if (pattern[0] != '*' || pattern[1] != '.' || pattern[2] == '\0')
		return false;
	dot = memchr(host.ptr, '.', host.len);
	if (dot == NULL || dot == host.ptr)
		return false;
	return pc_str_caseeq(pc_str_make(dot, host.len - (size_t)(dot - host.ptr)),
	    pc_str_c(pattern + 1));
}

/* The group for <name>: an exact match anywhere first, then a wildcard, else the default. */
static const struct pc_tls_group *
pick_group(const struct pc_tls_server *s, const char *name)
{
	struct pc_str	host = pc_str_c(name);
	unsigned	g, i;

	for (g = 0; g < s->ngroups; g++)
		for (i = 0; i < s->groups[g].nnames; i++)
			if (pc_str_caseeq(pc_str_c(s->groups[g].names[i]), host))
				return &s->groups[g];
	for (g = 0; g < s->ngroups; g++)
		for (i = 0; i < s->groups[g].nnames; i++)
			if (wildcard_matches(s->groups[g].names[i], host))
				return &s->groups[g];
	return &s->groups[0];
}

/* ---- callbacks: <arg> is the server, kept alive by the connection's reference ---- */

static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	const struct pc_tls_server	*s = arg;
	const struct pc_tls_group	*g;
	const char			*name;

	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;
	g = pick_group(s, name);
	if (g->ctx == SSL_get_SSL_CTX(ssl))
		return SSL_TLSEXT_ERR_OK;
	if (SSL_set_SSL_CTX(ssl, g->ctx) == NULL) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	/* SSL_set_SSL_CTX swaps certificates, not the verify settings: set them again so the
	 * switch can never loosen client verification. */
	SSL_set_verify(ssl, s->verify_mode, NULL);
	SSL_set_verify_depth(ssl, PC_TLS_VERIFY_DEPTH);
	return SSL_TLSEXT_ERR_OK;
}

/* Looks for <want> in the client's ALPN list <in>/<inlen> (RFC 7301 3.1 wire format). */
static bool
alpn_find(const unsigned char *in, unsigned inlen, struct pc_str want,
    const unsigned char **out, unsigned char *outlen)
{
	unsigned i = 0, l;

	while (i < inlen) {
		l = in[i];
		if (l == 0 || l > inlen - i - 1)
			return false;
		if (l == want.len && memcmp(in + i + 1, want.ptr, l) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)l;
			return true;
		}
		i += 1 + l;
	}
	return false;
}

static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
    unsigned inlen, void *arg)
{
	const struct pc_tls_server *s = arg;

	(void)ssl;
	/* Our preference, not the client's: h2 only when HTTP/2 is enabled. */
	if (s->alpn_h2 && alpn_find(in, inlen, PC_STR("h2"), out, outlen))
		return SSL_TLSEXT_ERR_OK;
	if (alpn_find(in, inlen, PC_STR("http/1.1"), out, outlen))
		return SSL_TLSEXT_ERR_OK;
	/* No common protocol: carry on without ALPN (HTTP/1.1) rather than fail. */
	return SSL_TLSEXT_ERR_NOACK;
}

/* ---- contexts ---- */

struct build {
	const struct pc_tls_server_conf	*sc;
	X509_STORE			*store;	/* client verification; NULL: none */
	STACK_OF(X509_NAME)		*ca_names;
	unsigned char			 sid[32];
};

static SSL_CTX *
group_ctx_new(struct pc_tls_server *s, const struct build *b)
{
	STACK_OF(X509_NAME)	*names;
	SSL_CTX			*ctx;
	uint32_t		 period;

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || pc_tls__ctx_policy(ctx, b->sc->min_version) != 0)
		goto fail;
	/* No server-side cache (memory, and no shared state between workers): stateless
	 * tickets only. The id context ties sessions to this client-verification setup. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_session_id_context(ctx, b->sid, sizeof(b->sid)) != 1)
		goto fail;
	if (b->sc->session_tickets) {
		if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, pc_tls__ticket_cb) != 1)
			goto fail;
		/* A ticket decrypts for at most two periods (current and previous key). */
		period = pc_tls__tickets_rotation();
		SSL_CTX_set_timeout(ctx, (long)period * 2);
	} else {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		/* TLS 1.3 would send stateful tickets that no cache can honour. */
		if (SSL_CTX_set_num_tickets(ctx, 0) != 1)
			goto fail;
	}
	SSL_CTX_set_verify(ctx, s->verify_mode, NULL);
	SSL_CTX_set_verify_depth(ctx, PC_TLS_VERIFY_DEPTH);
	if (b->store != NULL) {
		SSL_CTX_set1_cert_store(ctx, b->store);
		names = SSL_dup_CA_list(b->ca_names);
		if (names == NULL)
			goto fail;
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, s);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, s);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * The session id context: a digest of what decides whether a client is let in (the
 * client_cert mode, CA bundle and CRL bytes), so a session made where no certificate was
 * asked, or before a revocation, never resumes here, while a reload of the same files
 * keeps resumption working.
 */
static int
load_client_verify(struct build *b, struct pc_tls_err *err)
{
	const struct pc_tls_server_conf	*sc = b->sc;
	EVP_MD_CTX			*h;
	unsigned char			 mode = (unsigned char)sc->client_cert;
	unsigned			 n = 0;
	int				 rc = -PC_ENOMEM;

	h = EVP_MD_CTX_new();
	if (h == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(h, "portcullis-sid", 14) != 1 || EVP_DigestUpdate(h, &mode, 1) != 1)
		goto nomem;
	if (sc->client_cert != PC_TLS_CLIENT_NONE) {
		if (sc->client_ca == NULL) {
			pc_tls__errf(err, -1, "tls client_ca is required when client_cert is "
			    "optional or required");
			rc = -PC_EINVAL;
			goto fail;
		}
		b->store = X509_STORE_new();
		b->ca_names = sk_X509_NAME_new_null();
		if (b->store == NULL || b->ca_names == NULL)
			goto nomem;
		rc = pc_tls__load_cas("tls client_ca", sc->client_ca, b->store, b->ca_names, h,
		    err);
		if (rc == 0 && sc->client_crl != NULL) {
			rc = EVP_DigestUpdate(h, "\0", 1) == 1 ? 0 : -PC_ENOMEM;
			if (rc == 0)
				rc = pc_tls__load_crls(sc->client_crl, b->store, h, err);
		}
		if (rc != 0)
			goto fail;
	}
	if (EVP_DigestFinal_ex(h, b->sid, &n) != 1 || n != sizeof(b->sid))
		goto nomem;
	EVP_MD_CTX_free(h);
	return 0;
nomem:
	rc = -PC_ENOMEM;
	pc_tls__errf(err, -1, "tls: out of memory");
fail:
	EVP_MD_CTX_free(h);
	return rc;
}

/* Loads certificate entry <i> into the group serving its names (a new one if needed). */
static int
add_cert(struct pc_tls_server *s, const struct build *b, int i, struct pc_tls_err *err)
{
	const struct pc_tls_cert_conf	*cc = &b->sc->certs[i];
	struct pc_tls_group		*g = NULL;
	enum pc_tls_key_type		 kt;
	STACK_OF(X509)			*chain = NULL;
	EVP_PKEY			*key = NULL;
	X509				*leaf = NULL;
	char				**names = NULL;
	unsigned			 nnames = 0, k;
	int				 rc;

	if (cc->cert == NULL || cc->key == NULL) {
		pc_tls__errf(err, i, "tls certificates need both cert and key");
		return -PC_EINVAL;
	}
	rc = pc_tls__load_chain(cc->cert, i, err, &leaf, &chain);
	if (rc == 0)
		rc = pc_tls__load_key(cc->key, i, err, &key);
	if (rc == 0)
		rc = pc_tls__check_pair(cc->cert, cc->key, leaf, key, i, err, &kt);
	if (rc == 0)
		rc = cert_names(leaf, cc->cert, i, err, &names, &nnames);
	if (rc != 0)
		goto out;
	for (k = 0; k < s->ngroups; k++)
		if (names_equal(s->groups[k].names, s->groups[k].nnames, names, nnames))
			g = &s->groups[k];
	if (g != NULL && g->cert_path[kt] != NULL) {
		pc_tls__errf(err, i, "tls cert %s: same key type (%s) and names as tls cert %s",
		    cc->cert, key_type_name[kt], g->cert_path[kt]);
		rc = -PC_EINVAL;
		goto out;
	}
	if (g == NULL) {
		g = &s->groups[s->ngroups];
		g->ctx = group_ctx_new(s, b);
		if (g->ctx == NULL) {
			pc_tls__errf(err, i, "tls: cannot set up a context (%s)",
			    pc_tls__ossl_reason());
			rc = -PC_ENOMEM;
			goto out;
		}
		g->names = names;
		g->nnames = nnames;
		names = NULL;
		s->ngroups++;
	}
	ERR_clear_error();
	/* Security level 2 checks the chain here too (e.g. a SHA-1 signed intermediate). */
	if (SSL_CTX_use_cert_and_key(g->ctx, leaf, key, chain, 1) != 1) {
		pc_tls__errf(err, i, "tls cert %s: refused by OpenSSL (%s)", cc->cert,
		    pc_tls__ossl_reason());
		rc = -PC_EINVAL;
		goto out;
	}
	g->cert_path[kt] = cc->cert;
out:
	ERR_clear_error();
	names_free(names, nnames);
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

static void
server_free(struct pc_tls_server *s)
{
	unsigned i;

	for (i = 0; i < s->ngroups; i++) {
		SSL_CTX_free(s->groups[i].ctx);
		names_free(s->groups[i].names, s->groups[i].nnames);
	}
	free(s);
}

int
pc_tls_server_new(const struct pc_tls_server_conf *sc, struct pc_tls_server **out,
    struct pc_tls_err *err)
{
	struct pc_tls_server	*s = NULL;
	struct build		 b = { .sc = sc };
	unsigned		 i;
	int			 rc;

	*out = NULL;
	err->msg[0] = '\0';
	err->index = -1;
	if (sc->ncerts == 0 || sc->ncerts > PC_TLS_CERTS_MAX || sc->certs == NULL) {
		pc_tls__errf(err, -1, "tls needs 1 to %d certificates, not %u", PC_TLS_CERTS_MAX,
		    sc->ncerts);
		return -PC_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		pc_tls__errf(err, -1, "tls: out of memory");
		return -PC_ENOMEM;
	}
	atomic_init(&s->refs, 1);
	s->alpn_h2 = sc->alpn_h2;
	switch (sc->client_cert) {
	case PC_TLS_CLIENT_NONE:
		s->verify_mode = SSL_VERIFY_NONE;
		break;
	case PC_TLS_CLIENT_OPTIONAL:
		s->verify_mode = SSL_VERIFY_PEER;
		break;
	default:
		s->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		break;
	}
	rc = load_client_verify(&b, err);
	for (i = 0; i < sc->ncerts && rc == 0; i++)
		rc = add_cert(s, &b, (int)i, err);
	/* The contexts hold their own references; the paths were for messages only. */
	for (i = 0; i < s->ngroups; i++)
		memset(s->groups[i].cert_path, 0, sizeof(s->groups[i].cert_path));
	X509_STORE_free(b.store);
	sk_X509_NAME_pop_free(b.ca_names, X509_NAME_free);
	ERR_clear_error();
	if (rc != 0) {
		server_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

struct pc_tls_server *
pc_tls_server_ref(struct pc_tls_server *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void
pc_tls_server_unref(struct pc_tls_server *s)
{
	if (s == NULL)
		return;
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		server_free(s);
}

struct ssl_st *
pc_tls_server_ssl(struct pc_tls_server *s, int fd)
{
	SSL *ssl;

	ssl = SSL_new(s->groups[0].ctx);
	if (ssl == NULL)
		goto fail;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		goto fail;
	}
	SSL_set_accept_state(ssl);
	return ssl;
fail:
	ERR_clear_error();
	return NULL;
}
