/*
 * fuzz/jwt.c - libFuzzer target for pc_jwt_verify (auth/jwt.c, jwt_claims.c).
 *
 * Input: the token bytes, as an Authorization header would hand them over.
 * Fixed issuer (made once in LLVMFuzzerInitialize): iss "https://issuer.example", every
 * algorithm allowed, a key set with a fresh Ed25519 key (kid "k") and a fresh P-256 key
 * (kid "e"), and a fresh random HMAC secret. No input can know those keys.
 *
 * Properties:
 * - never success: a token is accepted only with a signature that verifies, and nothing
 *   outside this process could have made one (a success is a forgery);
 * - every refusal is -PC_EPROTO with an auth reason, or -PC_ENOMEM with PC_R_INTERNAL;
 *   the detail is a static text, never a pointer into the token.
 * Each input is an exact-size heap copy, so ASan sees any read past its end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/banned.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pc_jwt_issuer	 issuer;
static const struct pc_jwt_issuer *issuers[1] = { &issuer };
static const char *const	 auds[] = { "api" };
static struct pc_jwks		*jwks;
static struct pc_pkey		*hmac;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pc_skey	*ed, *es;
	struct pc_pkey	*pub;
	char		 x[128], ex[128], ey[128], set[1024], err[160];
	uint8_t		 secret[64];

	(void)argc;
	(void)argv;
	PC_ASSERT(pc_skey_generate(PC_ALG_EDDSA, &ed, &pub) == 0);
	pc_pkey_free(pub);
	PC_ASSERT(pc_skey_generate(PC_ALG_ES256, &es, &pub) == 0);
	pc_pkey_free(pub);
	PC_ASSERT(pc_skey_public_jwk(ed, x, sizeof(x), NULL, 0) == 0);
	PC_ASSERT(pc_skey_public_jwk(es, ex, sizeof(ex), ey, sizeof(ey)) == 0);
	pc_skey_free(ed);	/* the private halves are gone: nothing can sign any more */
	pc_skey_free(es);
	(void)snprintf(set, sizeof(set), "{\"keys\":["
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"k\",\"x\":\"%s\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"%s\",\"y\":\"%s\"}]}",
	    x, ex, ey);
	PC_ASSERT(pc_jwks_parse(set, strlen(set), &jwks, NULL, NULL, err, sizeof(err)) == 0);
	PC_ASSERT(pc_random_bytes(secret, sizeof(secret)) == 0);
	PC_ASSERT(pc_pkey_hmac(secret, sizeof(secret), &hmac, err, sizeof(err)) == 0);
	issuer.name = "fuzz";
	issuer.iss = "https://issuer.example";
	issuer.audiences = auds;
	issuer.naudiences = 1;
	issuer.algs = ((1u << PC_ALG_COUNT) - 1) & ~1u;
	issuer.keys = jwks;
	issuer.hmac = hmac;
	issuer.leeway_s = 30;
	issuer.max_lifetime_s = 3600;
	issuer.roles_claim = "realm_access.roles";
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_arena		*a;
	struct pc_principal	 p;
	enum pc_reason		 r = PC_R_NONE;
	const char		*d = NULL;
	char			*tok;
	int			 rc;

	if (jwks == NULL)
		(void)LLVMFuzzerInitialize(NULL, NULL);
	tok = malloc(size > 0 ? size : 1);
	a = pc_arena_new(64 * 1024);
	if (tok == NULL || a == NULL)
		abort();
	if (size > 0)
		memcpy(tok, data, size);
	rc = pc_jwt_verify(issuers, 1, pc_str_make(tok, size), 1700000000, a, &p, &r, &d);
	PC_ASSERT(rc != 0);	/* a success here is a forged signature */
	PC_ASSERT((rc == -PC_EPROTO && r >= PC_R_AUTH_MISSING && r <= PC_R_AUTH_CERT_BINDING) ||
	    (rc == -PC_ENOMEM && r == PC_R_INTERNAL));
	PC_ASSERT(d != NULL && (d < tok || d >= tok + size));
	pc_arena_free(a);
	free(tok);
	return 0;
}
