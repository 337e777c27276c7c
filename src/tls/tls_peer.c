/*
 * tls/tls_peer.c - the verified client certificate of a connection as plain strings (the
 * only thing tls/ exports about a peer), and its one-header form for upstreams.
 * Refuses: an unverified certificate, and subjects or SANs that are too long or carry
 * control bytes (no identity rather than a truncated or smuggled one).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "tls/tls_int.h"
#include "core/banned.h"

/* True if <p>/<n> is printable ASCII, without NUL or control bytes. */
static bool
clean_ascii(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

/* The first SAN of <type> (GEN_URI or GEN_DNS) as a view into <sans>; 0, or -1 if it is
 * unusable (too long, control or non-ASCII bytes). None: an empty view. */
static int
first_san(const GENERAL_NAMES *sans, int type, struct pc_str *out)
{
	const GENERAL_NAME	*gn;
	const ASN1_IA5STRING	*s;
	int			 i, len;

	*out = PC_STR("");
	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type != type)
			continue;
		s = type == GEN_URI ? gn->d.uniformResourceIdentifier : gn->d.dNSName;
		len = ASN1_STRING_length(s);
		if (len < 0 || len > PC_TLS_PEER_STR_MAX ||
		    !clean_ascii(ASN1_STRING_get0_data(s), (size_t)len))
			return -1;
		*out = pc_str_make((const char *)ASN1_STRING_get0_data(s), (size_t)len);
		return 0;
	}
	return 0;
}

/* The subject in RFC 2253 form, in <bio>: escapes make it ASCII (ASN1_STRFLGS_ESC_MSB). */
static int
subject_text(X509 *cert, BIO *bio, struct pc_str *out)
{
	char	*p = NULL;
	long	 n;

	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
		return -1;
	n = BIO_get_mem_data(bio, &p);
	if (n < 0 || n > PC_TLS_PEER_STR_MAX || (n > 0 && p == NULL) ||
	    !clean_ascii((const unsigned char *)p, (size_t)n))
		return -1;
	*out = pc_str_make(n > 0 ? p : "", (size_t)n);
	return 0;
}

static char *
put(char *dst, struct pc_str s)
{
	if (s.len > 0)
		memcpy(dst, s.ptr, s.len);
	dst[s.len] = '\0';
	return dst + s.len + 1;
}

struct pc_tls_peer *
pc_tls_peer_get(struct ssl_st *ssl)
{
	static const char	 hex[] = "0123456789abcdef";
	struct pc_tls_peer	*p = NULL;
	GENERAL_NAMES		*sans = NULL;
	struct pc_str		 subj, uri, dns;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned		 mdlen = 0, i;
	X509			*cert;
	BIO			*bio = NULL;
	char			*s;

	/* Verified means: we asked (VERIFY_PEER), one was presented, and the chain (and CRL)
	 * checked out. Anything else is no identity at all. */
	if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0)
		return NULL;
	cert = SSL_get0_peer_certificate(ssl);
	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		goto out;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || subject_text(cert, bio, &subj) != 0)
		goto out;
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (first_san(sans, GEN_URI, &uri) != 0 || first_san(sans, GEN_DNS, &dns) != 0)
		goto out;
	p = malloc(sizeof(*p) + subj.len + 1 + uri.len + 1 + dns.len + 1);
	if (p == NULL)
		goto out;
	for (i = 0; i < 32; i++) {
		p->sha256[2 * i] = hex[md[i] >> 4];
		p->sha256[2 * i + 1] = hex[md[i] & 15];
	}
	p->sha256[64] = '\0';
	memcpy(p->sha256_raw, md, 32);
	s = (char *)(p + 1);
	p->subject = s;
	s = put(s, subj);
	p->san_uri = s;
	s = put(s, uri);
	p->san_dns = s;
	(void)put(s, dns);
out:
	GENERAL_NAMES_free(sans);
	BIO_free(bio);
	ERR_clear_error();
	return p;
}

/* Appends <s> as a quoted-string body: " and \ escaped, control bytes refused. */
static int
add_quoted(struct pc_buf *out, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	int			 rc;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return -PC_EINVAL;
		if (*p == '"' || *p == '\\') {
			rc = pc_buf_addc(out, '\\');
			if (rc != 0)
				return rc;
		}
		rc = pc_buf_addc(out, (char)*p);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
pc_tls_peer_header(const struct pc_tls_peer *p, struct pc_buf *out)
{
	size_t	mark = out->len;
	int	rc;

	if (p == NULL || p->subject == NULL || p->san_uri == NULL || p->san_dns == NULL)
		return -PC_EINVAL;
	if (strnlen(p->sha256, sizeof(p->sha256)) != 64 ||
	    strspn(p->sha256, "0123456789abcdef") != 64)
		return -PC_EINVAL;
	rc = pc_buf_add_str(out, PC_STR("sha256="));
	if (rc == 0)
		rc = pc_buf_add(out, p->sha256, 64);
	if (rc == 0)
		rc = pc_buf_add_str(out, PC_STR(";subject=\""));
	if (rc == 0)
		rc = add_quoted(out, p->subject);
	if (rc == 0)
		rc = pc_buf_add_str(out, PC_STR("\";uri=\""));
	if (rc == 0)
		rc = add_quoted(out, p->san_uri);
	if (rc == 0)
		rc = pc_buf_add_str(out, PC_STR("\";dns=\""));
	if (rc == 0)
		rc = add_quoted(out, p->san_dns);
	if (rc == 0)
		rc = pc_buf_addc(out, '"');
	/* All or nothing: a half-written value must never reach an upstream. */
	if (rc != 0)
		out->len = mark;
	return rc;
}
