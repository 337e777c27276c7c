/*
 * tests/unit/auth/test_introspect.c - opaque tokens through RFC 7662 introspection: the
 * response rules (table), the request sent (form body, client authentication), and the
 * process-wide cache: pending calls joined, active results kept until min(cache_s, exp),
 * inactive ones briefly, failures for seconds; a waiter whose time ran out; the bound on
 * calls in flight; a late answer for a replaced entry. The transport and the clocks are
 * replaced (this file includes the .c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../src/auth/introspect.c"

#define NOW	1700000000	/* Unix seconds of the fake wall clock at start */
#define ACTIVE_A "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\"}"

static const char *const auds[] = { "https://api.test", NULL };
static const struct pc_jwt_issuer issuer = {
	.name = "op", .iss = "https://op.test", .audiences = auds, .naudiences = 1,
	.leeway_s = 30, .max_bytes = 4096, .roles_claim = "realm.roles", .scopes_claim = "scp",
};
static struct pc_introspect intro = {
	.issuer = &issuer, .endpoint = "https://op.test/introspect", .basic_user = "gw",
	.basic_pass = "s%3Acret", .cache_s = 60, .timeout_ms = 3000,
};

/* ---- fakes ---- */

static uint64_t	fake_wall, fake_mono;

static uint64_t
get_wall(void)
{
	return fake_wall;
}

static uint64_t
get_mono(void)
{
	return fake_mono;
}

static void
advance_ms(uint64_t ms)
{
	fake_wall += ms;
	fake_mono += ms;
}

struct sent {
	char	*url, *body, *user, *pass;
	void	(*done)(void *, const struct pc_fetch_result *);
	void	*arg;
};

static struct sent	sent[3 * SETS * WAYS + 16];	/* the eviction test sends most */
static unsigned		nsent, nanswered;
static int		submit_rc;

static int
fake_submit(const struct pc_fetch_req *r)
{
	struct sent *s;

	if (submit_rc != 0)
		return submit_rc;
	assert_true(nsent < PC_NELEM(sent));
	s = &sent[nsent++];
	s->url = strdup(r->url);
	s->body = strndup(r->body, r->body_len);
	s->user = strdup(r->basic_user);
	s->pass = strdup(r->basic_pass);
	assert_int_equal(r->max_bytes, PC_INTROSPECT_BODY_MAX);
	assert_int_equal(r->timeout_ms, 3000);
	s->done = r->done;
	s->arg = r->arg;
	return 0;
}

/* Completes call <i> with <status> and <body> (NULL: no response at all). */
static void
answer(unsigned i, int status, const char *body)
{
	struct pc_fetch_result	 res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.body = body;
	res.len = body != NULL ? strlen(body) : 0;
	if (body == NULL)
		res.error = "connection refused";
	assert_true(i < nsent && sent[i].done != NULL);
	sent[i].done(sent[i].arg, &res);
	sent[i].done = NULL;
	nanswered++;
}

static int
setup(void **state)
{
	(void)state;
	submit_fn = fake_submit;
	wall_ms = get_wall;
	mono_ms = get_mono;
	fake_wall = (uint64_t)NOW * 1000;
	fake_mono = 5000000;
	submit_rc = 0;
	return 0;
}

static int
teardown(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < nsent; i++) {
		if (sent[i].done != NULL)
			answer(i, 0, NULL);
		free(sent[i].url);
		free(sent[i].body);
		free(sent[i].user);
		free(sent[i].pass);
	}
	memset(sent, 0, sizeof(sent));
	nsent = nanswered = 0;
	assert_int_equal(inflight, 0);
	for (i = 0; i < SETS; i++)
		for (j = 0; j < WAYS; j++)
			entry_clear(&table[i][j]);
	return 0;
}

static int64_t
now_s(void)
{
	return (int64_t)(fake_wall / 1000);
}

/* One verify of <tok>: returns rc; *<r> the reason, *<w> the wait. */
static int
verify(const struct pc_introspect *in, const char *tok, bool expired, struct pc_arena *a,
    struct pc_principal *p, enum pc_reason *r, uint32_t *w)
{
	const char	*d = NULL;
	uint8_t		 key[32];

	pc_sha256(tok, strlen(tok), key);
	return pc_introspect_verify(in, pc_str_c(tok), key, expired, now_s(), a, p, w, r, &d);
}

/* ---- the rules ---- */

static const struct {
	const char	*body;
	enum pc_reason	 want;
} rules[] = {
	{ "{\"active\":true,\"sub\":\"alice\",\"aud\":\"https://api.test\"}", PC_R_NONE },
	{ "{\"active\":false}", PC_R_AUTH_INACTIVE },
	{ "{\"active\":\"true\",\"sub\":\"a\",\"aud\":\"https://api.test\"}", PC_R_AUTH_INACTIVE },
	{ "{\"active\":1,\"sub\":\"a\",\"aud\":\"https://api.test\"}", PC_R_AUTH_INACTIVE },
	{ "{\"sub\":\"a\",\"aud\":\"https://api.test\"}", PC_R_AUTH_INACTIVE },
	{ "{\"active\":null,\"sub\":\"a\",\"aud\":\"https://api.test\"}", PC_R_AUTH_INACTIVE },
	/* iss */
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\","
	  "\"iss\":\"https://op.test\"}", PC_R_NONE },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"iss\":\"https://evil\"}",
	  PC_R_AUTH_ISSUER },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"iss\":7}",
	  PC_R_AUTH_ISSUER },
	/* aud */
	{ "{\"active\":true,\"sub\":\"a\"}", PC_R_AUTH_AUDIENCE },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://other\"}", PC_R_AUTH_AUDIENCE },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":[\"x\",\"https://api.test\"]}", PC_R_NONE },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":[1]}", PC_R_AUTH_MALFORMED },
	/* exp, nbf (leeway 30 s) */
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"exp\":1699999900}",
	  PC_R_AUTH_EXPIRED },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"exp\":1699999990}",
	  PC_R_NONE },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"exp\":\"soon\"}",
	  PC_R_AUTH_MALFORMED },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"nbf\":1700000100}",
	  PC_R_AUTH_NOT_YET_VALID },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"nbf\":1700000010}",
	  PC_R_NONE },
	/* token_type */
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"token_type\":"
	  "\"refresh_token\"}", PC_R_AUTH_TYP },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"token_type\":"
	  "\"Refresh_Token\"}", PC_R_AUTH_TYP },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"token_type\":[]}",
	  PC_R_AUTH_TYP },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"token_type\":"
	  "\"Bearer\"}", PC_R_NONE },
	/* who */
	{ "{\"active\":true,\"client_id\":\"svc\",\"aud\":\"https://api.test\"}", PC_R_NONE },
	{ "{\"active\":true,\"aud\":\"https://api.test\"}", PC_R_AUTH_CLAIM_MISSING },
	{ "{\"active\":true,\"sub\":\"\",\"aud\":\"https://api.test\"}", PC_R_AUTH_CLAIM_MISSING },
	{ "{\"active\":true,\"sub\":5,\"aud\":\"https://api.test\"}", PC_R_AUTH_MALFORMED },
	/* shape */
	{ "{\"active\":true,\"active\":false,\"sub\":\"a\",\"aud\":\"https://api.test\"}",
	  PC_R_AUTH_INTROSPECTION },
	{ "{\"active\":false,\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\"}",
	  PC_R_AUTH_INTROSPECTION },
	{ "[{\"active\":true}]", PC_R_AUTH_INTROSPECTION },
	{ "{\"active\":true", PC_R_AUTH_INTROSPECTION },
	{ "{\"active\":true} x", PC_R_AUTH_INTROSPECTION },
	{ "", PC_R_AUTH_INTROSPECTION },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"x\":[[[[[[[[[[[[[[[[[[[["
	  "]]]]]]]]]]]]]]]]]]]}", PC_R_AUTH_INTROSPECTION },
	{ "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\",\"scope\":3}",
	  PC_R_AUTH_MALFORMED },
};

static void
test_response_rules(void **state)
{
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	const char		*d;
	unsigned		 i;

	(void)state;
	for (i = 0; i < PC_NELEM(rules); i++) {
		enum pc_reason r;

		d = NULL;
		r = pc_introspect_judge(&intro, rules[i].body, strlen(rules[i].body), NOW, a, &p,
		    &d);
		if (r != rules[i].want)
			fail_msg("case %u (%s): got %s, want %s", i, rules[i].body,
			    pc_reason_name(r), pc_reason_name(rules[i].want));
		if (r != PC_R_NONE)
			assert_non_null(d);
		pc_arena_reset(a);
	}
	pc_arena_free(a);
}

static void
test_principal(void **state)
{
	static const char body[] = "{\"active\":true,\"sub\":\"alice\",\"client_id\":\"web\","
	    "\"aud\":\"https://api.test\",\"scope\":\"items:read  items:write \",\"scp\":[\"no\"],"
	    "\"exp\":1700000500,\"acr\":\"urn:mfa\",\"amr\":[\"pwd\",\"otp\"],"
	    "\"auth_time\":1699999000,"
	    "\"realm\":{\"roles\":[\"ops\",\"dev\"]},\"cnf\":{\"x5t#S256\":\"abc\"}}";
	static const char svc[] = "{\"active\":true,\"client_id\":\"svc-1\","
	    "\"aud\":\"https://api.test\"}";
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	const char		*d = NULL;

	(void)state;
	assert_int_equal(pc_introspect_judge(&intro, body, strlen(body), NOW, a, &p, &d),
	    PC_R_NONE);
	assert_int_equal(p.type, PC_PRINCIPAL_INTROSPECTED);
	assert_true(pc_str_eq(p.id, PC_STR("alice")));
	assert_true(pc_str_eq(p.issuer, PC_STR("https://op.test")));	/* no iss: the issuer's */
	assert_string_equal(p.issuer_name, "op");
	assert_ptr_equal(p.via, &issuer);
	/* "scope" of RFC 7662, not the issuer's scopes_claim for JWTs ("scp"). */
	assert_int_equal(p.nscopes, 2);
	assert_true(pc_str_eq(p.scopes[0], PC_STR("items:read")));
	assert_true(pc_str_eq(p.scopes[1], PC_STR("items:write")));
	assert_true(pc_principal_has_scope(&p, PC_STR("items:write")));
	assert_false(pc_principal_has_scope(&p, PC_STR("no")));
	assert_int_equal(p.nroles, 2);
	assert_true(pc_str_eq(p.roles[1], PC_STR("dev")));
	assert_true(pc_str_eq(p.acr, PC_STR("urn:mfa")));
	assert_true(pc_str_eq(p.amr, PC_STR("pwd otp")));
	assert_int_equal(p.auth_time, 1699999000);
	assert_int_equal(p.exp, 1700000500);
	assert_true(pc_str_eq(p.cnf_x5t, PC_STR("abc")));
	assert_true(pc_str_eq(p.claims, pc_str_c(body)));
	/* Client credentials: no sub, the client is the principal. */
	assert_int_equal(pc_introspect_judge(&intro, svc, strlen(svc), NOW, a, &p, &d), PC_R_NONE);
	assert_true(pc_str_eq(p.id, PC_STR("svc-1")));
	assert_int_equal(p.nscopes, 0);
	pc_arena_free(a);
}

static void
test_token_shape(void **state)
{
	(void)state;
	assert_true(pc_token_is_jws(PC_STR("eyJh.eyJz.c2ln")));
	assert_true(pc_token_is_jws(PC_STR("a.b.")));		/* the JWT path refuses it */
	assert_true(pc_token_is_jws(PC_STR("a-_.b.c")));
	assert_false(pc_token_is_jws(PC_STR("a.b")));
	assert_false(pc_token_is_jws(PC_STR("a.b.c.d.e")));	/* JWE: not ours either way */
	assert_false(pc_token_is_jws(PC_STR("a+b.c.d")));	/* not base64url */
	assert_false(pc_token_is_jws(PC_STR("a.b.c=")));
	assert_false(pc_token_is_jws(PC_STR("2YotnFZFEjr1zCsicMWpAA")));
	assert_false(pc_token_is_jws(PC_STR("")));
}

/* ---- the call ---- */

static void
test_miss_sends_one_call_and_joins(void **state)
{
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	enum pc_reason		 r;
	uint32_t		 w;

	(void)state;
	assert_int_equal(verify(&intro, "tok+/=en~1", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(w, 3000 + WAIT_SLACK_MS);
	assert_int_equal(nsent, 1);
	assert_string_equal(sent[0].url, "https://op.test/introspect");
	/* RFC 7662 2.1: form-encoded token and the hint; client_secret_basic credentials. */
	assert_string_equal(sent[0].body, "token=tok%2B%2F%3Den%7E1&token_type_hint=access_token");
	assert_string_equal(sent[0].user, "gw");
	assert_string_equal(sent[0].pass, "s%3Acret");
	/* Concurrent requests with the same token join it: no second call. */
	advance_ms(1000);
	assert_int_equal(verify(&intro, "tok+/=en~1", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(w, 2000 + WAIT_SLACK_MS);
	assert_int_equal(verify(&intro, "tok+/=en~1", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(nsent, 1);
	assert_int_equal(inflight, 1);
	answer(0, 200, "{\"active\":true,\"sub\":\"alice\",\"aud\":\"https://api.test\"}");
	assert_int_equal(inflight, 0);
	/* Every waiter finds the answer when it runs again. */
	assert_int_equal(verify(&intro, "tok+/=en~1", false, a, &p, &r, &w), 0);
	assert_true(pc_str_eq(p.id, PC_STR("alice")));
	assert_int_equal(verify(&intro, "tok+/=en~1", true, a, &p, &r, &w), 0);
	assert_int_equal(nsent, 1);
	pc_arena_free(a);
}

static void
test_active_kept_until_cache_s_or_exp(void **state)
{
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	enum pc_reason		 r;
	uint32_t		 w;
	char			 body[200];

	(void)state;
	/* cache_s 60 s, no exp: reused for 60 s, then asked again. */
	assert_int_equal(verify(&intro, "long", false, a, &p, &r, &w), -PC_EAGAIN);
	answer(0, 200, "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\"}");
	advance_ms(59000);
	assert_int_equal(verify(&intro, "long", false, a, &p, &r, &w), 0);
	assert_int_equal(nsent, 1);
	advance_ms(1000);
	assert_int_equal(verify(&intro, "long", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(nsent, 2);
	/* exp in 5 s: never reused past it, whatever cache_s says. */
	(void)snprintf(body, sizeof(body), "{\"active\":true,\"sub\":\"a\",\"aud\":"
	    "\"https://api.test\",\"exp\":%lld}", (long long)now_s() + 5);
	assert_int_equal(verify(&intro, "short", false, a, &p, &r, &w), -PC_EAGAIN);
	answer(2, 200, body);
	advance_ms(4900);
	assert_int_equal(verify(&intro, "short", false, a, &p, &r, &w), 0);
	advance_ms(100);
	assert_int_equal(verify(&intro, "short", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(nsent, 4);
	/* Rules are applied again at every use: the cached answer names another audience
	 * once the configuration says so. */
	answer(3, 200, "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://old.test\"}");
	assert_int_equal(verify(&intro, "short", false, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_AUDIENCE);
	assert_int_equal(nsent, 4);
	pc_arena_free(a);
}

static void
test_inactive_kept_briefly(void **state)
{
	struct pc_introspect	 in2 = intro;
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	enum pc_reason		 r;
	uint32_t		 w;

	(void)state;
	in2.cache_s = 600;	/* inactive answers: capped at 60 s all the same */
	assert_int_equal(verify(&in2, "garbage", false, a, &p, &r, &w), -PC_EAGAIN);
	answer(0, 200, "{\"active\":false}");
	assert_int_equal(verify(&in2, "garbage", false, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_INACTIVE);
	advance_ms(59000);
	assert_int_equal(verify(&in2, "garbage", false, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_INACTIVE);
	assert_int_equal(nsent, 1);
	advance_ms(1000);
	assert_int_equal(verify(&in2, "garbage", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(nsent, 2);
	pc_arena_free(a);
}

static void
test_failures_are_503_and_short(void **state)
{
	static const struct {
		int		 status;
		const char	*body;
	} bad[] = {
		{ 0, NULL },				/* endpoint down */
		{ 500, "{\"active\":true}" },		/* 5xx */
		{ 401, "{\"error\":\"invalid_client\"}" },	/* our client secret refused */
		{ 200, "not json" },
		{ 200, "{\"active\":true,\"active\":true}" },	/* duplicate members */
		{ 200, "[true]" },
	};
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	enum pc_reason		 r;
	uint32_t		 w;
	char			 tok[32];
	unsigned		 i;

	(void)state;
	for (i = 0; i < PC_NELEM(bad); i++) {
		(void)snprintf(tok, sizeof(tok), "fail-%u", i);
		assert_int_equal(verify(&intro, tok, false, a, &p, &r, &w), -PC_EAGAIN);
		answer(nsent - 1, bad[i].status, bad[i].body);
		assert_int_equal(verify(&intro, tok, false, a, &p, &r, &w), -PC_EPROTO);
		assert_int_equal(r, PC_R_AUTH_INTROSPECTION);
		assert_int_equal(pc_reason_status(r), 503);
		/* Not cached beyond a few seconds: asked again after them. */
		advance_ms(FAILED_HOLD_MS);
		assert_int_equal(verify(&intro, tok, false, a, &p, &r, &w), -PC_EAGAIN);
		answer(nsent - 1, 200, ACTIVE_A);
		assert_int_equal(verify(&intro, tok, false, a, &p, &r, &w), 0);
	}
	/* An answer over the size limit is a failure too. */
	{
		char *huge = malloc(PC_INTROSPECT_BODY_MAX + 64);

		assert_non_null(huge);
		memset(huge, ' ', PC_INTROSPECT_BODY_MAX + 63);
		memcpy(huge, "{\"active\":true}", 15);
		huge[PC_INTROSPECT_BODY_MAX + 63] = '\0';
		assert_int_equal(verify(&intro, "huge", false, a, &p, &r, &w), -PC_EAGAIN);
		answer(nsent - 1, 200, huge);
		free(huge);
		assert_int_equal(verify(&intro, "huge", false, a, &p, &r, &w), -PC_EPROTO);
		assert_int_equal(r, PC_R_AUTH_INTROSPECTION);
	}
	pc_arena_free(a);
}

static void
test_waiter_out_of_time(void **state)
{
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	enum pc_reason		 r;
	uint32_t		 w;

	(void)state;
	assert_int_equal(verify(&intro, "slow", false, a, &p, &r, &w), -PC_EAGAIN);
	/* Woken early by another call's completion: waits for the rest of the time. */
	advance_ms(1000);
	assert_int_equal(verify(&intro, "slow", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(w, 2000 + WAIT_SLACK_MS);
	/* Its time is up and the call is still out: 503, never a second wait. */
	assert_int_equal(verify(&intro, "slow", true, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_INTROSPECTION);
	assert_int_equal(w, 0);
	/* Past the deadline newcomers are refused too, until the entry is presumed lost. */
	advance_ms(2000 + WAIT_SLACK_MS);
	assert_int_equal(verify(&intro, "slow", false, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(nsent, 1);
	advance_ms(FAILED_HOLD_MS);
	assert_int_equal(verify(&intro, "slow", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(nsent, 2);
	/* The first call's late answer lands nowhere: the entry is the second call's. */
	answer(0, 200, "{\"active\":true,\"sub\":\"first\",\"aud\":\"https://api.test\"}");
	assert_int_equal(verify(&intro, "slow", false, a, &p, &r, &w), -PC_EAGAIN);
	answer(1, 200, "{\"active\":true,\"sub\":\"second\",\"aud\":\"https://api.test\"}");
	assert_int_equal(verify(&intro, "slow", false, a, &p, &r, &w), 0);
	assert_true(pc_str_eq(p.id, PC_STR("second")));
	pc_arena_free(a);
}

static void
test_inflight_cap(void **state)
{
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	enum pc_reason		 r;
	uint32_t		 w;
	char			 tok[32];
	unsigned		 i, refused = 0;

	(void)state;
	for (i = 0; i < PC_INTROSPECT_INFLIGHT_MAX + 8; i++) {
		(void)snprintf(tok, sizeof(tok), "flood-%u", i);
		if (verify(&intro, tok, false, a, &p, &r, &w) == -PC_EPROTO) {
			assert_int_equal(r, PC_R_AUTH_INTROSPECTION);
			refused++;
		}
	}
	assert_int_equal(nsent, PC_INTROSPECT_INFLIGHT_MAX);
	assert_int_equal(refused, 8);
	assert_int_equal(inflight, PC_INTROSPECT_INFLIGHT_MAX);
	/* One answer frees one slot. */
	answer(0, 200, "{\"active\":false}");
	assert_int_equal(verify(&intro, "flood-new", false, a, &p, &r, &w), -PC_EAGAIN);
	pc_arena_free(a);
}

static void
test_submit_failure_and_isolation(void **state)
{
	struct pc_introspect	 other = intro;
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	enum pc_reason		 r;
	uint32_t		 w;
	char			 big[5000];

	(void)state;
	submit_rc = -PC_EAGAIN;		/* the fetch queue is full */
	assert_int_equal(verify(&intro, "q", false, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_INTROSPECTION);
	assert_int_equal(inflight, 0);
	submit_rc = 0;
	/* Another issuer's (tag's) answer is never used for this one. */
	memset(other.tag, 0x5a, sizeof(other.tag));
	assert_int_equal(verify(&intro, "shared", false, a, &p, &r, &w), -PC_EAGAIN);
	answer(0, 200, "{\"active\":true,\"sub\":\"a\",\"aud\":\"https://api.test\"}");
	assert_int_equal(verify(&other, "shared", false, a, &p, &r, &w), -PC_EAGAIN);
	assert_int_equal(nsent, 2);
	/* Over the issuer's token size: refused before anything is sent. */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(verify(&intro, big, false, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_TOO_LARGE);
	/* No endpoint known (discovery found none): 503 at once. */
	other.endpoint = NULL;
	assert_int_equal(verify(&other, "nowhere", false, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_INTROSPECTION);
	assert_int_equal(nsent, 2);
	pc_arena_free(a);
}

static void
test_set_eviction_keeps_calls(void **state)
{
	struct pc_arena		*a = pc_arena_new(1 << 16);
	struct pc_principal	 p;
	enum pc_reason		 r;
	uint32_t		 w;
	char			 tok[32];
	unsigned		 i, n = 0;

	(void)state;
	/* A call in flight keeps its entry through a flood of many more tokens than there
	 * are entries (answered ones are replaced, least recently used first). */
	assert_int_equal(verify(&intro, "keep", false, a, &p, &r, &w), -PC_EAGAIN);
	for (i = 0; i < 3 * SETS * WAYS; i++) {
		(void)snprintf(tok, sizeof(tok), "many-%u", i);
		if (verify(&intro, tok, false, a, &p, &r, &w) == -PC_EAGAIN) {
			answer(nsent - 1, 200, "{\"active\":false}");
			n++;
		}
	}
	assert_int_equal(n, 3 * SETS * WAYS);
	/* The latest answer is still there (no call), and so is the call in flight. */
	assert_int_equal(verify(&intro, tok, false, a, &p, &r, &w), -PC_EPROTO);
	assert_int_equal(r, PC_R_AUTH_INACTIVE);
	assert_int_equal(nsent, 1 + 3 * SETS * WAYS);
	answer(0, 200, "{\"active\":true,\"sub\":\"z\",\"aud\":\"https://api.test\"}");
	assert_int_equal(verify(&intro, "keep", false, a, &p, &r, &w), 0);
	pc_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_rules),
		cmocka_unit_test(test_principal),
		cmocka_unit_test(test_token_shape),
		cmocka_unit_test_setup_teardown(test_miss_sends_one_call_and_joins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_active_kept_until_cache_s_or_exp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_inactive_kept_briefly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_are_503_and_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiter_out_of_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflight_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_failure_and_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_eviction_keeps_calls, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
