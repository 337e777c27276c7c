/*
 * demo/issuer.c - the demo's own token issuer: an Ed25519 key made at start, its public key
 * written as a JWK Set for the embedded configuration, and three ready access tokens (two
 * riders and an admin) for the tour. Nothing here is used by `run`: real tokens come from a
 * real identity provider.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "crypto/crypto.h"
#include "demo/demo.h"
#include "core/banned.h"

#define DEMO_ISS	"https://rides.demo.test"
#define DEMO_AUD	"rides-api"
#define DEMO_KID	"demo-1"

/* header.payload.signature, NUL-terminated, in <out> (auth/: the gateway's one JWS
 * builder). The payload's strings are this file's constants: nothing to escape. */
static int
sign_token(const struct pc_skey *k, const char *sub, const char *scope, int64_t now,
    char *out, size_t cap)
{
	static const char	 header[] = "{\"alg\":\"EdDSA\",\"kid\":\"" DEMO_KID "\","
	    "\"typ\":\"at+jwt\"}";
	struct pc_buf		 b = { (uint8_t *)out, 0, cap - 1, cap - 1 };	/* fixed */
	char			 payload[256];
	int			 len, rc;

	len = snprintf(payload, sizeof(payload), "{\"iss\":\"" DEMO_ISS "\",\"aud\":\""
	    DEMO_AUD "\",\"sub\":\"%s\",\"scope\":\"%s\",\"iat\":%lld,\"exp\":%lld}", sub,
	    scope, (long long)now, (long long)(now + 3600));
	if (len < 0 || (size_t)len >= sizeof(payload))
		return -PC_ERANGE;
	rc = pc_jws_compact(k, PC_STR(header), pc_str_make(payload, (size_t)len), &b);
	if (rc != 0)
		return rc;
	out[b.len] = '\0';
	return 0;
}

int
pc_demo_issuer_make(const char *jwks_path, struct pc_demo_tokens *t)
{
	struct pc_skey	*k = NULL;
	struct pc_pkey	*pub = NULL;
	char		 x[64], y[64], jwks[256];
	int64_t		 now = (int64_t)time(NULL);
	int		 fd, n, rc;

	if ((rc = pc_skey_generate(PC_ALG_EDDSA, &k, &pub)) != 0)
		return rc;
	pc_pkey_free(pub);
	if ((rc = pc_skey_public_jwk(k, x, sizeof(x), y, sizeof(y))) != 0)
		goto out;
	n = snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"kid\":\"" DEMO_KID "\",\"use\":\"sig\",\"alg\":\"EdDSA\",\"x\":\"%s\"}]}\n", x);
	rc = -PC_EIO;
	if (n < 0 || (size_t)n >= sizeof(jwks))
		goto out;
	fd = open(jwks_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		goto out;
	if (write(fd, jwks, (size_t)n) != n) {
		(void)close(fd);
		goto out;
	}
	if (close(fd) != 0)
		goto out;
	if ((rc = sign_token(k, "r-1001", "trips:write", now, t->rider,
	    sizeof(t->rider))) != 0 ||
	    (rc = sign_token(k, "r-1002", "trips:write", now, t->rider2,
	    sizeof(t->rider2))) != 0 ||
	    (rc = sign_token(k, "ops-admin", "trips:write drivers:read", now, t->admin,
	    sizeof(t->admin))) != 0)
		goto out;
	rc = 0;
out:
	pc_skey_free(k);	/* the demo signs only at start: the private key goes now */
	return rc;
}
