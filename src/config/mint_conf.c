/*
 * config/mint_conf.c - gateway_identity: (the gateway as the issuer of the tokens it mints
 * for upstreams, docs/decisions/0014), a route's upstream_token: and an upstream's
 * audience:.
 * Owns: the meaning and defaults of those keys; reading the signing key file (refused when
 * group or others can read it, as TLS keys are). Does not: parse the key (crypto/), mint
 * (auth/mint.c) or look at requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_int.h"
#include "core/banned.h"

#define KEY_FILE_MAX	(64u * 1024u)	/* a PEM EC or Ed25519 key is a few hundred bytes */
#define KID_MAX		64
#define AUDIENCE_MAX	256

static const char *const identity_keys[] = { "issuer", "key_file", "lifetime_s", "kid" };
enum { GK_ISSUER, GK_KEY_FILE, GK_LIFETIME, GK_KID };

/* Visible ASCII without spaces, 1..<max> bytes: issuer, kid and audience are compared
 * byte for byte by verifiers, and a stray space or control byte is a typo, not a name. */
static bool
visible(struct pc_str s, size_t max)
{
	size_t i;

	if (s.len == 0 || s.len > max)
		return false;
	for (i = 0; i < s.len; i++)
		if (s.ptr[i] <= ' ' || s.ptr[i] == 0x7f)
			return false;
	return true;
}

/* Reads and parses the PEM private key at <n> into *<key>. */
static int
read_key(struct pc_conf_loader *ld, const struct pc_conf_node *n, const char *kid,
    struct pc_mint_key **key)
{
	static const char	 ctx[] = "gateway_identity.";
	struct pc_skey		*sk = NULL;
	struct pc_pkey		*pub = NULL;
	struct stat		 st;
	const char		*path;
	char			*buf, err[160];
	size_t			 len = 0;
	int			 fd, rc, e;

	if ((rc = pc_conf__get_path(ld, n, ctx, "key_file", &path)) != 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return pc_conf__fail(ld, n, "%skey_file: %s: %s", ctx, path, strerror(errno));
	/* fstat on the descriptor we read: the mode checked is the file's we load. */
	if (fstat(fd, &st) == -1) {
		e = errno;
		(void)close(fd);
		return pc_conf__fail(ld, n, "%skey_file: %s: %s", ctx, path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		return pc_conf__fail(ld, n, "%skey_file: %s: not a regular file", ctx, path);
	}
	/* The words of the TLS key check (tls/tls_policy.c), so one fix fits both. */
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		(void)close(fd);
		return pc_conf__fail(ld, n, "%skey_file: %s is readable by group or others "
		    "(mode %04o): chmod 600 it", ctx, path, (unsigned)(st.st_mode & 07777));
	}
	buf = malloc(KEY_FILE_MAX + 1);
	if (buf == NULL) {
		(void)close(fd);
		return pc_conf__oom(ld, n);
	}
	rc = pc_conf__read_fd(fd, buf, KEY_FILE_MAX, &len);
	e = errno;
	(void)close(fd);
	if (rc != 0) {
		pc_secret_free(buf, KEY_FILE_MAX + 1);
		return pc_conf__fail(ld, n, "%skey_file: %s: %s", ctx, path, strerror(e));
	}
	if (len > KEY_FILE_MAX) {
		pc_secret_free(buf, KEY_FILE_MAX + 1);
		return pc_conf__fail(ld, n, "%skey_file: %s: larger than %u bytes", ctx, path,
		    KEY_FILE_MAX);
	}
	err[0] = '\0';
	rc = pc_skey_from_pem(buf, len, &sk, &pub, err, sizeof(err));
	pc_secret_free(buf, KEY_FILE_MAX + 1);
	if (rc != 0)
		return rc == -PC_ENOMEM ? pc_conf__oom(ld, n) : pc_conf__fail(ld, n,
		    "%skey_file: %s: %s", ctx, path, err);
	pc_pkey_free(pub);
	rc = pc_mint_key_new(sk, kid, key);
	return rc != 0 ? pc_conf__oom(ld, n) : 0;
}

int
pc_conf__get_gateway_identity(struct pc_conf_loader *ld, struct pc_conf *c,
    const struct pc_conf_node *v)
{
	static const char		 ctx[] = "gateway_identity.";
	const struct pc_conf_node	*vals[PC_NELEM(identity_keys)];
	const struct pc_conf_node	*kn[PC_NELEM(identity_keys)];
	struct pc_mint_key		*key = NULL;
	struct pc_str			 iss, kid = PC_STR_NULL;
	uint32_t			 lifetime = 60;
	char				*iss_c = NULL, *kid_c = NULL;
	int				 rc;

	if ((rc = pc_conf__want_kind(ld, v, PC_NODE_MAP, "", "gateway_identity")) != 0)
		return rc;
	rc = pc_conf__map_keys(ld, v, identity_keys, PC_NELEM(identity_keys),
	    "in gateway_identity", vals, kn);
	if (rc != 0)
		return rc;
	if (vals[GK_ISSUER] == NULL)
		return pc_conf__fail(ld, v, "%smissing required key 'issuer' (the \"iss\" of "
		    "the tokens the gateway mints)", ctx);
	if ((rc = pc_conf__get_str(ld, vals[GK_ISSUER], ctx, "issuer", &iss)) != 0)
		return rc;
	if (!visible(iss, 512))
		return pc_conf__fail(ld, vals[GK_ISSUER], "%sissuer: expected 1 to 512 visible "
		    "characters without spaces, such as https://gateway.internal", ctx);
	/* 10 s: less than the clock skew a backend must allow; 5 min: a minted token is a
	 * bearer token too, and a stolen one should be worth little. */
	if (vals[GK_LIFETIME] != NULL && (rc = pc_conf__get_u32(ld, vals[GK_LIFETIME], ctx,
	    "lifetime_s", 10, 300, &lifetime)) != 0)
		return rc;
	if (vals[GK_KID] != NULL) {
		if ((rc = pc_conf__get_str(ld, vals[GK_KID], ctx, "kid", &kid)) != 0)
			return rc;
		if (!visible(kid, KID_MAX))
			return pc_conf__fail(ld, vals[GK_KID], "%skid: expected 1 to %d visible "
			    "characters without spaces", ctx, KID_MAX);
		/* A key made at each start under a fixed kid would look like the old key to
		 * a backend that caches the key set by kid: it would never refetch. */
		if (vals[GK_KEY_FILE] == NULL)
			return pc_conf__fail(ld, kn[GK_KID], "%skid: only with key_file (without "
			    "it the key is new at each start, and so is its kid: the key's "
			    "thumbprint)", ctx);
		if ((kid_c = pc_conf__dup_str(ld, vals[GK_KID], kid)) == NULL)
			return -PC_ENOMEM;
	}
	if (vals[GK_KEY_FILE] != NULL)
		rc = read_key(ld, vals[GK_KEY_FILE], kid_c, &key);
	else if ((rc = pc_mint_key_ephemeral(&key)) != 0)
		rc = pc_conf__fail(ld, v, "%scannot make a signing key: %s", ctx, pc_strerror(rc));
	free(kid_c);
	if (rc != 0)
		return rc;
	if ((iss_c = pc_conf__dup_str(ld, vals[GK_ISSUER], iss)) == NULL) {
		pc_mint_key_unref(key);
		return -PC_ENOMEM;
	}
	rc = pc_minter_new(iss_c, lifetime, key, &c->minter);
	free(iss_c);
	return rc != 0 ? pc_conf__oom(ld, v) : 0;
}

int
pc_conf__get_upstream_audience(struct pc_conf_loader *ld, struct pc_conf_upstream *u,
    const char *ctx, const struct pc_conf_node *v)
{
	char		def[AUDIENCE_MAX];
	struct pc_str	s;
	int		rc, n;

	if (v == NULL) {
		n = snprintf(def, sizeof(def), "portcullis:upstream:%s", u->name);
		if (n < 0 || (size_t)n >= sizeof(def))
			return pc_conf__fail_at(ld, u->line, 1, "%saudience: the default is "
			    "longer than %d bytes", ctx, AUDIENCE_MAX - 1);
		s = pc_str_make(def, (size_t)n);
	} else {
		if ((rc = pc_conf__get_str(ld, v, ctx, "audience", &s)) != 0)
			return rc;
		if (!visible(s, AUDIENCE_MAX - 1))
			return pc_conf__fail(ld, v, "%saudience: expected 1 to %d visible "
			    "characters without spaces", ctx, AUDIENCE_MAX - 1);
	}
	u->audience = pc_conf__dup_str(ld, v, s);
	return u->audience == NULL ? -PC_ENOMEM : 0;
}

int
pc_conf__get_route_upstream_token(struct pc_conf_loader *ld, const struct pc_conf *c,
    struct pc_conf_route *r, const char *ctx, const struct pc_conf_node *v,
    const struct pc_conf_node *fwd)
{
	int rc;

	if (v == NULL)
		return 0;
	if ((rc = pc_conf__get_bool(ld, v, ctx, "upstream_token", &r->upstream_token)) != 0)
		return rc;
	if (!r->upstream_token)
		return 0;
	/* A token minted for no one would vouch for nobody: it needs an authenticated
	 * principal, and the gateway's own identity to sign with. */
	if (!pc_route_has_auth(r))
		return pc_conf__fail(ld, v, "%supstream_token: only with auth:", ctx);
	if (c->minter == NULL)
		return pc_conf__fail(ld, v, "%supstream_token: needs a gateway_identity: section "
		    "(the issuer and key of the tokens the gateway mints)", ctx);
	if (fwd != NULL && !r->strip_credential)
		return pc_conf__fail(ld, fwd, "%sforward_credential: true contradicts "
		    "upstream_token: true (the minted token replaces the client's credential)",
		    ctx);
	/* Everything that keeps the client's credential from the upstream follows this
	 * flag (Authorization, the route's API-key field). */
	r->strip_credential = true;
	return 0;
}

void
pc_conf__mint_free(struct pc_conf *c)
{
	unsigned i;

	for (i = 0; i < c->nupstreams; i++)
		free(c->upstreams[i].audience);
	pc_minter_free(c->minter);
	c->minter = NULL;
}
