/*
 * tests/unit/auth/test_keyring.c - auth/keyring.c: the registry (one ring per source and
 * CA file, counted references, freed with the last), swaps under concurrent readers (no
 * reader ever sees a freed or half-made set), the generation counter, a bad set keeping
 * the last good one, the unknown-kid rate limit, and the first fetch (JWKS URL and OIDC
 * discovery: the document's issuer must match) against tests/unit/fetch/https_server.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth/keyring.c"
#include "../fetch/server.h"

#define RSA_N "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"	/* RFC 7517 A.1 */
#define SET_A	"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"" RSA_N "\",\"e\":\"AQAB\"}]}"
#define SET_B	"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"b\",\"n\":\"" RSA_N "\",\"e\":\"AQAB\"}]}"


static unsigned
registry_len(void)
{
	struct pc_keyring	*r;
	unsigned		 n = 0;

	pthread_mutex_lock(&reg_mtx);
	for (r = registry; r != NULL; r = r->next)
		n++;
	pthread_mutex_unlock(&reg_mtx);
	return n;
}

static struct pc_keyring_params
params(const char *uri, const char *ca)
{
	struct pc_keyring_params p;

	memset(&p, 0, sizeof(p));
	p.iss = "https://issuer.test";
	p.jwks_uri = uri;
	p.ca_file = ca;
	p.refresh_s = 300;
	p.min_refresh_s = 10;
	p.fetch_timeout_ms = 3000;
	return p;
}

/* As if the fetch thread brought <json>. */
static int
install(struct pc_keyring *r, const char *json)
{
	struct pc_fetch_result	 res;
	char			 err[256];

	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.body = json;
	res.len = strlen(json);
	return take_jwks(r, &res, err, sizeof(err));
}

static void
test_registry_refcount(void **state)
{
	struct pc_keyring_params	 p = params("https://keys.test/jwks", NULL);
	struct pc_keyring		*a, *b, *c, *d;

	(void)state;
	assert_int_equal(registry_len(), 0);
	assert_int_equal(pc_keyring_acquire(&p, &a), 0);
	assert_int_equal(pc_keyring_acquire(&p, &b), 0);
	assert_ptr_equal(a, b);			/* a reload keeps the ring */
	p.ca_file = "/etc/ssl/certs/ca-certificates.crt";
	assert_int_equal(pc_keyring_acquire(&p, &c), 0);
	assert_ptr_not_equal(a, c);		/* another trust is another ring */
	p = params(NULL, NULL);
	p.discovery = true;
	assert_int_equal(pc_keyring_acquire(&p, &d), 0);
	assert_ptr_not_equal(a, d);
	assert_int_equal(registry_len(), 3);
	/* Timings follow the newest configuration. */
	p = params("https://keys.test/jwks", NULL);
	p.min_refresh_s = 42;
	assert_int_equal(pc_keyring_acquire(&p, &b), 0);
	assert_int_equal(a->min_refresh_s, 42);
	assert_int_equal(a->refs, 3);
	pc_keyring_unref(b);
	pc_keyring_unref(b);
	assert_int_equal(registry_len(), 3);
	pc_keyring_unref(a);
	pc_keyring_unref(c);
	pc_keyring_unref(d);
	pc_keyring_unref(NULL);
	assert_int_equal(registry_len(), 0);
	/* Not https, or no single source: refused. */
	p = params("http://keys.test/jwks", NULL);
	assert_int_equal(pc_keyring_acquire(&p, &a), -PC_EINVAL);
	p = params("https://keys.test/jwks", NULL);
	p.discovery = true;
	assert_int_equal(pc_keyring_acquire(&p, &a), -PC_EINVAL);
	assert_int_equal(registry_len(), 0);
}

static void
test_generation_and_bad_set(void **state)
{
	struct pc_keyring_params	 p = params("https://keys.test/jwks", NULL);
	struct pc_keyring		*r;
	struct pc_keyset		*s;

	(void)state;
	assert_int_equal(pc_keyring_acquire(&p, &r), 0);
	assert_null(pc_keyring_current(r));	/* nothing yet: fail closed */
	assert_int_equal(pc_keyring_generation(r), 0);
	assert_int_equal(install(r, SET_A), 0);
	assert_int_equal(pc_keyring_generation(r), 1);
	s = pc_keyring_current(r);
	assert_non_null(s);
	assert_string_equal(pc_keyset_jwks(s)->keys[0].kid, "a");
	/* A set that does not parse: refused, the last good one stays. */
	assert_int_not_equal(install(r, "{\"keys\": 7}"), 0);
	assert_int_not_equal(install(r, "not json"), 0);
	assert_int_equal(pc_keyring_generation(r), 1);
	assert_int_equal(install(r, SET_B), 0);
	assert_int_equal(pc_keyring_generation(r), 2);
	/* The reader's old set is still whole after the swap. */
	assert_string_equal(pc_keyset_jwks(s)->keys[0].kid, "a");
	pc_keyset_unref(s);
	s = pc_keyring_current(r);
	assert_string_equal(pc_keyset_jwks(s)->keys[0].kid, "b");
	pc_keyset_unref(s);
	pc_keyring_unref(r);
	assert_int_equal(registry_len(), 0);
}

struct reader_arg {
	struct pc_keyring	*r;
	volatile int		*stop;
	unsigned long		 reads;
	unsigned		 bad;
};

static void *
reader(void *arg)
{
	struct reader_arg	*ra = arg;
	struct pc_keyset	*s;
	const struct pc_jwks	*ks;

	while (!__atomic_load_n(ra->stop, __ATOMIC_ACQUIRE)) {
		s = pc_keyring_current(ra->r);
		if (s == NULL) {
			ra->bad++;
			continue;
		}
		ks = pc_keyset_jwks(s);
		if (ks->nkeys != 1 || ks->keys[0].key == NULL ||
		    (strcmp(ks->keys[0].kid, "a") != 0 && strcmp(ks->keys[0].kid, "b") != 0))
			ra->bad++;
		pc_keyset_unref(s);
		ra->reads++;
	}
	return NULL;
}

/* Four readers take and drop the current set while the writer swaps it 500 times. */
static void
test_swap_under_readers(void **state)
{
	struct pc_keyring_params	 p = params("https://keys.test/jwks", NULL);
	struct pc_keyring		*r;
	struct reader_arg		 ra[4];
	pthread_t			 t[4];
	volatile int			 stop = 0;
	unsigned			 i;

	(void)state;
	assert_int_equal(pc_keyring_acquire(&p, &r), 0);
	assert_int_equal(install(r, SET_A), 0);
	for (i = 0; i < 4; i++) {
		memset(&ra[i], 0, sizeof(ra[i]));
		ra[i].r = r;
		ra[i].stop = &stop;
		assert_int_equal(pthread_create(&t[i], NULL, reader, &ra[i]), 0);
	}
	for (i = 0; i < 500; i++)
		assert_int_equal(install(r, i % 2 ? SET_A : SET_B), 0);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(ra[i].bad, 0);
		assert_true(ra[i].reads > 0);
	}
	assert_int_equal(pc_keyring_generation(r), 501);
	pc_keyring_unref(r);
	assert_int_equal(registry_len(), 0);
}

static void
wait_idle(struct pc_keyring *r)
{
	int i;

	for (i = 0; i < 200 && pc_keyring_is_refreshing(r); i++)
		usleep(50000);
	assert_false(pc_keyring_is_refreshing(r));
}

/* Unknown kids ask for a refresh: one starts, none while it runs, none again before
 * min_refresh_s has passed since the last one started. */
static void
test_rate_limit(void **state)
{
	struct pc_keyring_params	 p;
	struct pc_keyring		*r;
	char				 url[128];
	uint64_t			 now = pc_now_ms() + 1000;

	(void)state;
	(void)snprintf(url, sizeof(url), "%s/jwks", srv.base);
	p = params(url, srv.ca);
	assert_int_equal(pc_keyring_acquire(&p, &r), 0);
	assert_true(pc_keyring_want_refresh(r, now));
	assert_false(pc_keyring_want_refresh(r, now));		/* in flight */
	wait_idle(r);
	assert_int_equal(pc_keyring_generation(r), 1);
	assert_non_null(r->cur);
	assert_false(pc_keyring_want_refresh(r, now + 1));
	assert_false(pc_keyring_want_refresh(r, now + 9999));
	assert_int_equal(pc_keyring_generation(r), 1);
	assert_true(pc_keyring_want_refresh(r, now + 10000));
	wait_idle(r);
	/* The same document again: the set (and the token cache's entries) stay. */
	assert_int_equal(pc_keyring_generation(r), 1);
	/* The server's max-age (120) sets the next scheduled refresh. */
	assert_true(r->next_ms >= pc_now_ms() + 119000 && r->next_ms <= pc_now_ms() + 121000);
	pc_keyring_unref(r);
	assert_int_equal(registry_len(), 0);
}

static void
test_prime(void **state)
{
	struct pc_keyring_params	 p;
	struct pc_keyring		*r;
	char				 url[128], err[320];

	(void)state;
	(void)snprintf(url, sizeof(url), "%s/jwks", srv.base);
	/* The wrong CA: no set, an error, a retry scheduled within min_refresh_s. */
	p = params(url, srv.other_ca);
	assert_int_equal(pc_keyring_acquire(&p, &r), 0);
	assert_int_not_equal(pc_keyring_prime(r, err, sizeof(err)), 0);
	assert_true(err[0] != '\0');
	assert_null(pc_keyring_current(r));
	assert_false(pc_keyring_is_refreshing(r));
	assert_true(r->next_ms <= pc_now_ms() + 10000);
	pc_keyring_unref(r);
	/* A body that is not a key set. */
	(void)snprintf(url, sizeof(url), "%s/garbage", srv.base);
	p = params(url, srv.ca);
	assert_int_equal(pc_keyring_acquire(&p, &r), 0);
	assert_int_not_equal(pc_keyring_prime(r, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not a usable JWK Set"));
	pc_keyring_unref(r);
	/* The right one; a second prime is a no-op. */
	(void)snprintf(url, sizeof(url), "%s/jwks", srv.base);
	p = params(url, srv.ca);
	assert_int_equal(pc_keyring_acquire(&p, &r), 0);
	assert_int_equal(pc_keyring_prime(r, err, sizeof(err)), 0);
	assert_int_equal(pc_keyring_generation(r), 1);
	assert_int_equal(pc_keyring_prime(r, err, sizeof(err)), 0);
	assert_int_equal(pc_keyring_generation(r), 1);
	assert_null(pc_keyring_introspection_endpoint(r));
	pc_keyring_unref(r);
	assert_int_equal(registry_len(), 0);
}

static void
test_discovery(void **state)
{
	struct pc_keyring_params	 p;
	struct pc_keyring		*r;
	struct pc_keyset		*s;
	char				 iss[128], want[160], err[320];

	(void)state;
	p = params(NULL, srv.ca);
	p.discovery = true;
	p.iss = srv.base;
	assert_int_equal(pc_keyring_acquire(&p, &r), 0);
	assert_int_equal(pc_keyring_prime(r, err, sizeof(err)), 0);
	s = pc_keyring_current(r);
	assert_non_null(s);
	assert_string_equal(pc_keyset_jwks(s)->keys[0].kid, "k1");
	pc_keyset_unref(s);
	(void)snprintf(want, sizeof(want), "%s/introspect", srv.base);
	assert_string_equal(pc_keyring_introspection_endpoint(r), want);
	/* A scheduled refresh reads the document again, then the keys. */
	assert_true(begin(r, pc_now_ms(), true));
	assert_int_equal(r->stage, STAGE_DISCOVERY);
	pthread_mutex_lock(&reg_mtx);
	ring_ref_locked(r);
	pthread_mutex_unlock(&reg_mtx);
	launch(r, pc_now_ms());
	wait_idle(r);
	assert_int_equal(pc_keyring_generation(r), 1);	/* the same keys: no new set */
	pc_keyring_unref(r);
	/* A document whose "issuer" is not ours vouches for nothing. */
	(void)snprintf(iss, sizeof(iss), "%s/wrong", srv.base);
	p.iss = iss;
	assert_int_equal(pc_keyring_acquire(&p, &r), 0);
	assert_int_not_equal(pc_keyring_prime(r, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "\"issuer\" is not exactly"));
	assert_null(pc_keyring_current(r));
	pc_keyring_unref(r);
	assert_int_equal(registry_len(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_refcount),
		cmocka_unit_test(test_generation_and_bad_set),
		cmocka_unit_test(test_swap_under_readers),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_prime),
		cmocka_unit_test(test_discovery),
	};

	return cmocka_run_group_tests(tests, test_server_setup, test_server_teardown);
}
