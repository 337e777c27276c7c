/*
 * tests/unit/auth/test_jwks.c - auth/jwks.c: the RFC 7517 A.1 public key set as a fixed
 * vector; each reason a key is skipped gives its warning (naming the kid or the index,
 * never the key material) and leaves the key unusable; each error refuses the whole set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "auth/auth.h"
#include "core/banned.h"

#define A1_RSA_N "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define A1_EC_X	"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"
#define A1_EC_Y	"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
#define OFF_Y	"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyE"	/* not on the curve */
#define ED_X	"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"	/* RFC 8037 A.2 */

/* RFC 7517 appendix A.1, as published (whitespace and all). */
static const char rfc7517_a1[] =
    "{\"keys\":\n"
    "  [\n"
    "    {\"kty\":\"EC\",\n"
    "     \"crv\":\"P-256\",\n"
    "     \"x\":\"" A1_EC_X "\",\n"
    "     \"y\":\"" A1_EC_Y "\",\n"
    "     \"use\":\"enc\",\n"
    "     \"kid\":\"1\"},\n"
    "\n"
    "    {\"kty\":\"RSA\",\n"
    "     \"n\": \"" A1_RSA_N "\",\n"
    "     \"e\":\"AQAB\",\n"
    "     \"alg\":\"RS256\",\n"
    "     \"kid\":\"2011-04-29\"}\n"
    "  ]\n"
    "}\n";

#define RSA(extra)	"{\"kty\":\"RSA\",\"n\":\"" A1_RSA_N "\",\"e\":\"AQAB\"" extra "}"
#define EC(extra)	"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A1_EC_X "\",\"y\":\"" \
	A1_EC_Y "\"" extra "}"
#define ED(extra)	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"" extra "}"
#define SET(a)		"{\"keys\":[" a "]}"
#define SET2(a, b)	"{\"keys\":[" a "," b "]}"
#define SET3(a, b, c)	"{\"keys\":[" a "," b "," c "]}"
#define SET0		"{\"keys\":[]}"

static char	 warnings[8192];
static unsigned	 nwarn;
static char	 weak_n[200];

static void
collect(void *arg, const char *msg)
{
	size_t n = strlen(warnings);

	assert_ptr_equal(arg, &nwarn);
	nwarn++;
	(void)snprintf(warnings + n, sizeof(warnings) - n, "%s\n", msg);
}

struct kcase {
	const char	*name;
	const char	*json;
	int		 rc;
	unsigned	 nkeys;		/* usable keys when rc == 0 */
	unsigned	 nwarn;
	const char	*msg;		/* in a warning (rc 0) or in the error (rc < 0) */
};

static const struct kcase cases[] = {
	{ "RFC 7517 A.1: the enc key skipped, the RS256 key kept", rfc7517_a1, 0, 1, 1,
	    "key '1': use is 'enc', not sig" },
	{ "one key of each type", SET3(RSA(",\"kid\":\"r\""), EC(",\"kid\":\"e\""),
	    ED(",\"kid\":\"o\"")), 0, 3, 0, NULL },
	{ "keys without kid", SET2(RSA(""), EC("")), 0, 2, 0, NULL },
	{ "unknown members ignored", SET(RSA(",\"x5t\":\"abc\",\"ext\":true,\"zzz\":{}")), 0, 1,
	    0, NULL },
	/* skipped, each with its warning */
	{ "kty oct in a set", SET2("{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ\"}",
	    RSA("")), 0, 1, 1, "key #0: kty 'oct' is not accepted in a key set" },
	{ "use enc", SET2(RSA(",\"use\":\"enc\",\"kid\":\"k\""), EC("")), 0, 1, 1,
	    "key 'k': use is 'enc', not sig" },
	{ "use not a string", SET2(RSA(",\"use\":1"), EC("")), 0, 1, 1, "use is not a string" },
	{ "key_ops without verify", SET2(RSA(",\"key_ops\":[\"sign\"]"), EC("")), 0, 1, 1,
	    "key #0: key_ops does not include verify" },
	{ "key_ops with verify", SET(RSA(",\"key_ops\":[\"sign\",\"verify\"]")), 0, 1, 0, NULL },
	{ "key_ops not an array", SET2(RSA(",\"key_ops\":\"verify\""), EC("")), 0, 1, 1,
	    "key_ops is not an array" },
	{ "private d on EC", SET2(EC(",\"kid\":\"leak\",\"d\":\"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE\""),
	    RSA("")), 0, 1, 1, "key 'leak': private key member 'd' present" },
	{ "private p on RSA", SET2(RSA(",\"p\":\"AQAB\""), EC("")), 0, 1, 1,
	    "private key member 'p' present" },
	{ "private d on OKP", SET2(ED(",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\""),
	    EC("")), 0, 1, 1, "private key member 'd' present" },
	{ "alg unknown", SET2(RSA(",\"alg\":\"XX256\""), EC("")), 0, 1, 1,
	    "alg 'XX256' is not a public-key JWS algorithm" },
	{ "alg none", SET2(RSA(",\"alg\":\"none\""), EC("")), 0, 1, 1,
	    "alg 'none' is not a public-key JWS algorithm" },
	{ "alg HS256 on an RSA key", SET2(RSA(",\"alg\":\"HS256\""), EC("")), 0, 1, 1,
	    "alg 'HS256' is not a public-key JWS algorithm" },
	{ "alg ES384 on a P-256 key", SET2(EC(",\"alg\":\"ES384\""), RSA("")), 0, 1, 1,
	    "alg 'ES384' does not fit the key" },
	{ "alg RS256 on an EC key", SET2(EC(",\"alg\":\"RS256\""), RSA("")), 0, 1, 1,
	    "alg 'RS256' does not fit the key" },
	{ "alg EdDSA on Ed25519", SET(ED(",\"alg\":\"EdDSA\"")), 0, 1, 0, NULL },
	{ "weak RSA (1024 bits)", SET2("{\"kty\":\"RSA\",\"kid\":\"weak\",\"n\":\"@WEAK_N@\","
	    "\"e\":\"AQAB\"}", EC("")), 0, 1, 1, "key 'weak': " },
	{ "RSA exponent 1", SET2("{\"kty\":\"RSA\",\"n\":\"" A1_RSA_N "\",\"e\":\"AQ\"}", EC("")), 0, 1, 1, "key #0: " },
	{ "EC point off the curve", SET2("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A1_EC_X
	    "\",\"y\":\"" OFF_Y "\"}", RSA("")), 0, 1, 1, "key #0: " },
	{ "EC secp256k1", SET2("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" A1_EC_X
	    "\",\"y\":\"" A1_EC_Y "\"}", RSA("")), 0, 1, 1, "key #0: " },
	{ "OKP X25519", SET2("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" ED_X "\"}", RSA("")),
	    0, 1, 1, "key #0: " },
	{ "unsupported kty", SET2("{\"kty\":\"PQC\"}", RSA("")), 0, 1, 1,
	    "key #0: unsupported kty 'PQC'" },
	{ "kty missing", SET2("{\"n\":\"AQAB\"}", RSA("")), 0, 1, 1, "kty missing" },
	{ "RSA without e", SET2("{\"kty\":\"RSA\",\"n\":\"" A1_RSA_N "\"}", EC("")), 0, 1, 1,
	    "RSA key without string n and e" },
	{ "n padded with '='", SET2("{\"kty\":\"RSA\",\"n\":\"" A1_RSA_N "=\",\"e\":\"AQAB\"}",
	    EC("")), 0, 1, 1, "key #0: " },
	{ "key not an object", SET2("\"key\"", RSA("")), 0, 1, 1, "key #0: not a JSON object" },
	{ "kid not a string", SET2(RSA(",\"kid\":7"), EC("")), 0, 1, 1, "kid is not a string" },
	{ "kid with control bytes is quoted safely", SET2(RSA(",\"use\":\"enc\",\"kid\":\"a\\nb'c\""),
	    EC("")), 0, 1, 1, "key 'a?b?c': use is 'enc'" },
	{ "duplicate kid with one key skipped", SET2(RSA(",\"kid\":\"k\""),
	    EC(",\"kid\":\"k\",\"use\":\"enc\"")), 0, 1, 1, "use is 'enc'" },
	/* the whole set refused */
	{ "not JSON", "{keys:[]}", -PC_EINVAL, 0, 0, "not JSON" },
	{ "trailing bytes", SET(RSA("")) "x", -PC_EINVAL, 0, 0, "not JSON" },
	{ "a JSON array", "[" RSA("") "]", -PC_EINVAL, 0, 0, "not a JSON object" },
	{ "duplicate member in the set", "{\"keys\":[],\"keys\":[" RSA("") "]}", -PC_EINVAL, 0,
	    0, "duplicate member" },
	{ "duplicate member in a key", SET(RSA(",\"n\":\"AQAB\"")), -PC_EINVAL, 0, 0,
	    "duplicate member" },
	{ "no keys member", "{\"key\":[]}", -PC_EINVAL, 0, 0, "no \"keys\" array" },
	{ "keys not an array", "{\"keys\":" RSA("") "}", -PC_EINVAL, 0, 0, "no \"keys\" array" },
	{ "empty keys", SET0, -PC_EINVAL, 0, 0, "no usable key" },
	{ "no usable key", SET(RSA(",\"use\":\"enc\"")), -PC_EINVAL, 0, 1, "no usable key" },
	{ "duplicate kid among usable keys", SET2(RSA(",\"kid\":\"k\""), EC(",\"kid\":\"k\"")),
	    -PC_EINVAL, 0, 0, "key 'k': two usable keys with this kid" },
	{ "nested too deep", SET(RSA(",\"x\":[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]")), -PC_EINVAL, 0,
	    0, "nests too deep" },
};


static void
run_case(const struct kcase *c, unsigned *failures)
{
	struct pc_jwks	*ks = NULL;
	char		 json[16384], err[256];
	const char	*at;
	int		 rc;

	at = strstr(c->json, "@WEAK_N@");
	if (at != NULL)
		(void)snprintf(json, sizeof(json), "%.*s%s%s", (int)(at - c->json), c->json,
		    weak_n, at + 8);
	else
		(void)snprintf(json, sizeof(json), "%s", c->json);
	warnings[0] = '\0';
	nwarn = 0;
	err[0] = '\0';
	rc = pc_jwks_parse(json, strlen(json), &ks, collect, &nwarn, err, sizeof(err));
	if (rc != c->rc || (rc == 0 && ks->nkeys != c->nkeys) || nwarn != c->nwarn ||
	    (c->msg != NULL && strstr(rc == 0 ? warnings : err, c->msg) == NULL) ||
	    (rc != 0 && ks != NULL) || strstr(warnings, "AQAB") != NULL ||
	    strstr(warnings, A1_RSA_N) != NULL || strstr(err, "AQAB") != NULL ||
	    (weak_n[0] != '\0' && strstr(warnings, weak_n) != NULL)) {
		(void)fprintf(stderr, "FAIL %s: rc %d, %u keys, %u warnings:\n%s  error: %s\n",
		    c->name, rc, ks != NULL ? ks->nkeys : 0, nwarn, warnings, err);
		(*failures)++;
	}
	pc_jwks_free(ks);
}

static void
test_table(void **state)
{
	unsigned	 failures = 0;
	size_t		 i;

	(void)state;
	for (i = 0; i < PC_NELEM(cases); i++)
		run_case(&cases[i], &failures);
	(void)fprintf(stderr, "jwks table: %zu cases, %u failures\n", PC_NELEM(cases), failures);
	assert_int_equal(failures, 0);
}

/* The A.1 key itself: kid and pinned alg, usable for RS256 only. */
static void
test_rfc7517_a1(void **state)
{
	struct pc_jwks	*ks = NULL;
	char		 err[160];

	(void)state;
	assert_int_equal(pc_jwks_parse(rfc7517_a1, strlen(rfc7517_a1), &ks, NULL, NULL, err,
	    sizeof(err)), 0);
	assert_int_equal(ks->nkeys, 1);
	assert_string_equal(ks->keys[0].kid, "2011-04-29");
	assert_int_equal(ks->keys[0].alg, PC_ALG_RS256);
	assert_int_equal(pc_pkey_type(ks->keys[0].key), PC_KEY_RSA);
	assert_int_equal(pc_pkey_bits(ks->keys[0].key), 2048);
	pc_jwks_free(ks);
	pc_jwks_free(NULL);
}

/* More than PC_JWKS_KEYS_MAX entries, even skipped ones, refuse the set. */
static void
test_too_many(void **state)
{
	struct pc_jwks	*ks = NULL;
	static char	 json[PC_JWKS_KEYS_MAX * 32 + 64];
	char		 err[160];
	size_t		 n;
	unsigned	 i;

	(void)state;
	n = (size_t)snprintf(json, sizeof(json), "{\"keys\":[");
	for (i = 0; i <= PC_JWKS_KEYS_MAX; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s{\"kty\":\"x\"}",
		    i ? "," : "");
	n += (size_t)snprintf(json + n, sizeof(json) - n, "]}");
	assert_int_equal(pc_jwks_parse(json, n, &ks, NULL, NULL, err, sizeof(err)), -PC_EINVAL);
	assert_null(ks);
	assert_non_null(strstr(err, "at most 64"));
	/* and a set too big to be one is refused before parsing */
	assert_int_equal(pc_jwks_parse(json, 1024 * 1024, &ks, NULL, NULL, err, sizeof(err)),
	    -PC_EINVAL);
	/* NULL err buffer is fine */
	assert_int_equal(pc_jwks_parse("[]", 2, &ks, NULL, NULL, NULL, 0), -PC_EINVAL);
}

static int
setup(void **state)
{
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	BIGNUM		*bn = NULL;
	uint8_t		 buf[256];
	size_t		 w;
	int		 n;

	(void)state;
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
	n = BN_bn2bin(bn, buf);
	w = pc_b64url_encode(buf, (size_t)n, weak_n, sizeof(weak_n) - 1);
	assert_true(w > 0);
	weak_n[w] = '\0';
	BN_free(bn);
	EVP_PKEY_free(k);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_rfc7517_a1),
		cmocka_unit_test(test_too_many),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
