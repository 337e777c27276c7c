/*
 * tests/unit/demo/test_json.c - the demo's JSON: the strict reader (valid and hostile
 * bodies), decoded values, and the writer's escaping and sticky error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "demo/json.c"

static const struct {
	struct pc_str	 in;
	bool		 ok;
	unsigned	 nfields;
} json_cases[] = {
	{ PC_STR_INIT("{}"), true, 0 },
	{ PC_STR_INIT(" \t\r\n{ } \n"), true, 0 },
	{ PC_STR_INIT("{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":false,\"e\":null}"), true, 5 },
	{ PC_STR_INIT("{\"n\":-0.5e+10}"), true, 1 },
	{ PC_STR_INIT("{\"n\":0}"), true, 1 },
	{ PC_STR_INIT("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}"), true, 1 },
	{ PC_STR_INIT("{\"s\":\"\\u00e9\\ud83d\\ude00\"}"), true, 1 },
	{ PC_STR_INIT("{\"s\":\"caf\xc3\xa9\"}"), true, 1 },
	{ PC_STR_INIT(""), false, 0 },
	{ PC_STR_INIT("[]"), false, 0 },
	{ PC_STR_INIT("{"), false, 0 },
	{ PC_STR_INIT("{\"a\":1,}"), false, 0 },		/* trailing comma */
	{ PC_STR_INIT("{\"a\" 1}"), false, 0 },
	{ PC_STR_INIT("{a:1}"), false, 0 },			/* unquoted key */
	{ PC_STR_INIT("{\"a\":1}x"), false, 0 },		/* data after the object */
	{ PC_STR_INIT("{\"a\":1}{}"), false, 0 },
	{ PC_STR_INIT("{\"a\":1,\"a\":2}"), false, 0 },	/* duplicate key */
	{ PC_STR_INIT("{\"a\":{}}"), false, 0 },		/* nested */
	{ PC_STR_INIT("{\"a\":[1]}"), false, 0 },
	{ PC_STR_INIT("{\"a\":01}"), false, 0 },		/* leading zero */
	{ PC_STR_INIT("{\"a\":1.}"), false, 0 },
	{ PC_STR_INIT("{\"a\":.5}"), false, 0 },
	{ PC_STR_INIT("{\"a\":1e}"), false, 0 },
	{ PC_STR_INIT("{\"a\":+1}"), false, 0 },
	{ PC_STR_INIT("{\"a\":-}"), false, 0 },
	{ PC_STR_INIT("{\"a\":tru}"), false, 0 },
	{ PC_STR_INIT("{\"a\":nul}"), false, 0 },
	{ PC_STR_INIT("{\"a\":\"x}"), false, 0 },		/* unterminated */
	{ PC_STR_INIT("{\"a\":\"\\x\"}"), false, 0 },	/* unknown escape */
	{ PC_STR_INIT("{\"a\":\"\\u00g0\"}"), false, 0 },
	{ PC_STR_INIT("{\"a\":\"\\u12\"}"), false, 0 },
	{ PC_STR_INIT("{\"a\":\"\\u0000\"}"), false, 0 },	/* NUL */
	{ PC_STR_INIT("{\"a\":\"\\ud83d\"}"), false, 0 },	/* lone high surrogate */
	{ PC_STR_INIT("{\"a\":\"\\ude00\"}"), false, 0 },	/* lone low surrogate */
	{ PC_STR_INIT("{\"a\":\"\\ud83d\\u0041\"}"), false, 0 },
	{ PC_STR_INIT("{\"a\":\"\x01\"}"), false, 0 },	/* raw control character */
	{ PC_STR_INIT("{\"a\":\"\xc3\"}"), false, 0 },	/* truncated UTF-8 */
	{ PC_STR_INIT("{\"a\":\"\xc0\xaf\"}"), false, 0 },	/* overlong '/' */
	{ PC_STR_INIT("{\"a\":\"\xed\xa0\x80\"}"), false, 0 },	/* raw surrogate */
	{ PC_STR_INIT("{\"\xff\":1}"), false, 0 },		/* key not UTF-8 */
	{ PC_STR_INIT("{\"a\":1\0}"), false, 0 },
	{ PC_STR_INIT("{\"1\":1,\"2\":1,\"3\":1,\"4\":1,\"5\":1,\"6\":1,\"7\":1,\"8\":1,\"9\":1,"
	    "\"10\":1,\"11\":1,\"12\":1,\"13\":1,\"14\":1,\"15\":1,\"16\":1}"), true, 16 },
	{ PC_STR_INIT("{\"1\":1,\"2\":1,\"3\":1,\"4\":1,\"5\":1,\"6\":1,\"7\":1,\"8\":1,\"9\":1,"
	    "\"10\":1,\"11\":1,\"12\":1,\"13\":1,\"14\":1,\"15\":1,\"16\":1,\"17\":1}"), false, 0 },
};

static void
test_json_reader(void **state)
{
	struct pc_demo_jobj	o;
	char		scratch[512];
	size_t		i;
	int		rc;

	(void)state;
	for (i = 0; i < PC_NELEM(json_cases); i++) {
		assert_true(json_cases[i].in.len <= sizeof(scratch));
		rc = pc_demo__json_object(json_cases[i].in, scratch, &o);
		if (json_cases[i].ok != (rc == 0))
			fail_msg("case %zu: rc %d (%s)", i, rc, o.err ? o.err : "");
		if (rc == 0)
			assert_int_equal(o.n, json_cases[i].nfields);
		else
			assert_non_null(o.err);
	}
}

static const struct pc_demo_jfield *
must_get(const struct pc_demo_jobj *o, struct pc_str key)
{
	const struct pc_demo_jfield *f = pc_demo__json_get(o, key);

	if (f == NULL) {
		fail_msg("no field %.*s", PC_STR_FMT(key));
		abort();	/* tells the compiler the result is never NULL */
	}
	return f;
}

static void
test_json_reader_values(void **state)
{
	static const char	 in[] = "{\"s\":\"a\\u00e9\\ud83d\\ude00\\n\",\"n\":-12.5,\"t\":true}";
	struct pc_demo_jobj		 o;
	char			 scratch[sizeof(in)];
	const struct pc_demo_jfield	*f;

	(void)state;
	assert_int_equal(pc_demo__json_object(pc_str_make(in, sizeof(in) - 1), scratch, &o), 0);
	f = must_get(&o, PC_STR("s"));
	assert_int_equal(f->kind, PC_DEMO_J_STRING);
	assert_true(pc_str_eq(f->val, PC_STR("a\xc3\xa9\xf0\x9f\x98\x80\n")));
	f = must_get(&o, PC_STR("n"));
	assert_int_equal(f->kind, PC_DEMO_J_NUMBER);
	assert_true(pc_str_eq(f->val, PC_STR("-12.5")));
	assert_int_equal(must_get(&o, PC_STR("t"))->kind, PC_DEMO_J_TRUE);
	assert_null(pc_demo__json_get(&o, PC_STR("x")));
}

static void
test_json_writer(void **state)
{
	struct pc_buf	b;
	struct pc_demo_jw	w;

	(void)state;
	pc_buf_init(&b, 4096);
	pc_demo__jw_init(&w, &b);
	pc_demo__jw_open(&w, NULL, '{');
	pc_demo__jw_str(&w, "utf8", "Zo\xc3\xab");
	pc_demo__jw_str(&w, "bad", "a\xff" "b");
	pc_demo__jw_str(&w, "ctl", "q\"b\\n\n\x7f");
	pc_demo__jw_str(&w, "none", "");
	pc_demo__jw_open(&w, "arr", '[');
	pc_demo__jw_uint(&w, NULL, 1);
	pc_demo__jw_tenths(&w, NULL, 47);
	pc_demo__jw_close(&w, ']');
	pc_demo__jw_close(&w, '}');
	assert_int_equal(w.err, 0);
	assert_true(pc_str_eq(pc_str_make((const char *)b.data, b.len),
	    PC_STR("{\"utf8\":\"Zo\xc3\xab\",\"bad\":\"a\\u00ffb\",\"ctl\":\"q\\\"b\\\\n\\u000a\\u007f\","
	    "\"none\":null,\"arr\":[1,4.7]}")));

	/* The error is sticky: the first failure is what the handler sees. */
	b.len = 0;
	b.max = 4;
	pc_demo__jw_init(&w, &b);
	pc_demo__jw_str(&w, NULL, "too long for four bytes");
	pc_demo__jw_uint(&w, NULL, 7);
	assert_int_equal(w.err, -PC_ETOOBIG);
	pc_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_reader),
		cmocka_unit_test(test_json_reader_values),
		cmocka_unit_test(test_json_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
