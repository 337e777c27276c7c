/*
 * fuzz/jwks.c - libFuzzer target for pc_jwks_parse (auth/jwks.c).
 *
 * Input: the JSON text of a key set.
 * Properties:
 * - the result is 0 with a set of 1..PC_JWKS_KEYS_MAX usable keys, or an error with no
 *   set: keys are usable if and only if the set is returned;
 * - every returned key has a kid string and a key; a pinned alg fits its key and is never
 *   none or HS*; no two keys share a non-empty kid;
 * - warnings and errors are printable one-line text (no log injection from kids);
 * - no leak (ASan's leak check) whatever the path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
printable(const char *s)
{
	for (; *s != '\0'; s++)
		PC_ASSERT((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
}

static void
warn(void *arg, const char *msg)
{
	PC_ASSERT(arg == NULL);
	printable(msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_jwks	*ks = (struct pc_jwks *)1;
	char		*json, err[256];
	unsigned	 i, j;
	int		 rc;

	json = malloc(size > 0 ? size : 1);
	if (json == NULL)
		abort();
	if (size > 0)
		memcpy(json, data, size);
	err[0] = '\0';
	rc = pc_jwks_parse(json, size, &ks, warn, NULL, err, sizeof(err));
	if (rc != 0) {
		PC_ASSERT(ks == NULL);
		PC_ASSERT(rc == -PC_EINVAL || rc == -PC_ENOMEM);
		printable(err);
	} else {
		PC_ASSERT(ks != NULL && ks->nkeys >= 1 && ks->nkeys <= PC_JWKS_KEYS_MAX);
		for (i = 0; i < ks->nkeys; i++) {
			const struct pc_jwk *k = &ks->keys[i];

			PC_ASSERT(k->kid != NULL && k->key != NULL);
			PC_ASSERT(pc_pkey_type(k->key) != PC_KEY_HMAC);
			PC_ASSERT(!pc_jws_alg_is_hmac(k->alg));
			PC_ASSERT(k->alg == PC_ALG_NONE || pc_jws_alg_fits(k->alg, k->key));
			for (j = 0; j < i && k->kid[0] != '\0'; j++)
				PC_ASSERT(strcmp(k->kid, ks->keys[j].kid) != 0);
		}
	}
	pc_jwks_free(rc == 0 ? ks : NULL);
	free(json);
	return 0;
}
