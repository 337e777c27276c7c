/*
 * tests/unit/core/test_err.c - core/err.c: error messages for every code (both signs and
 * out of range), errno mapping, and the deny-reason table (names, statuses) that logs,
 * metrics and error bodies depend on. Refuses to test pc_panic (it aborts by design).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/banned.h"

/* Every code, positive and negated, has its own non-empty message. */
static void
test_strerror_every_code(void **state)
{
	static const struct {
		int		 code;
		const char	*msg;
	} rows[] = {
		{ PC_EOK, "ok" },
#define ROW(n, s) { PC_E##n, s },
		PC_ERRLIST(ROW)
#undef ROW
	};
	size_t i, j;

	(void)state;
	assert_int_equal(PC_NELEM(rows), PC_E_COUNT);
	for (i = 0; i < PC_NELEM(rows); i++) {
		assert_int_equal(rows[i].code, (int)i);
		assert_string_equal(pc_strerror(rows[i].code), rows[i].msg);
		/* Callers pass the negative return value straight in. */
		assert_string_equal(pc_strerror(-rows[i].code), rows[i].msg);
		assert_true(strlen(rows[i].msg) > 0);
		/* Distinct messages: an operator can tell two errors apart from the text. */
		for (j = 0; j < i; j++)
			assert_string_not_equal(rows[i].msg, rows[j].msg);
	}
}

/* Out-of-range values (both signs, extremes) give a fixed text, never an array overrun. */
static void
test_strerror_out_of_range(void **state)
{
	static const int bad[] = {
		PC_E_COUNT,		/* one past the end */
		-PC_E_COUNT,
		PC_E_COUNT + 1,
		1000,
		-1000,
		INT32_MAX,
		INT32_MIN + 1,		/* -x is representable */
	};
	size_t i;

	(void)state;
	for (i = 0; i < PC_NELEM(bad); i++)
		assert_string_equal(pc_strerror(bad[i]), "unknown error");
}

/* errno -> -PC_E*: the documented mappings, and everything else is -PC_EIO. */
static void
test_err_errno(void **state)
{
	static const struct {
		int	errnum;
		int	want;
	} rows[] = {
		{ ENOMEM, -PC_ENOMEM },		/* allocation failure stays an OOM */
		{ ENOBUFS, -PC_ENOMEM },	/* kernel buffer shortage is an OOM too */
		{ EAGAIN, -PC_EAGAIN },		/* non-blocking I/O: try again later */
		{ EWOULDBLOCK, -PC_EAGAIN },	/* same value on Linux; guards the alias */
		{ ENOENT, -PC_ENOENT },
		{ EINVAL, -PC_EINVAL },
		{ ETIMEDOUT, -PC_ETIMEDOUT },
		{ ECONNREFUSED, -PC_ECONNREFUSED },
		{ ECONNRESET, -PC_ECLOSED },	/* peer reset = closed, not a generic I/O error */
		{ EPIPE, -PC_ECLOSED },
		{ ERANGE, -PC_ERANGE },
		{ EOVERFLOW, -PC_ERANGE },
		{ EIO, -PC_EIO },		/* default branch */
		{ EBADF, -PC_EIO },
		{ EACCES, -PC_EIO },
		{ 0, -PC_EIO },			/* "no error" is not success from a failing call */
		{ -1, -PC_EIO },
		{ 100000, -PC_EIO },
	};
	size_t i;

	(void)state;
	for (i = 0; i < PC_NELEM(rows); i++) {
		int got = pc_err_errno(rows[i].errnum);

		if (got != rows[i].want)
			fail_msg("errno %d: got %d want %d", rows[i].errnum, got, rows[i].want);
		/* Always a negative code inside the list: a caller may return it as is. */
		assert_true(got < 0 && -got < PC_E_COUNT);
	}
}

/*
 * [a-z][a-z0-9_]*: a metrics label and a log token without quoting. Digits are allowed
 * after the first letter because "path_bad_utf8" is a real, sensible name.
 */
static bool
name_is_lower_snake(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/*
 * Every reason: a unique lowercase [a-z][a-z0-9_]* name (logs and metrics labels key on it) and a
 * 4xx/5xx status (a deny is never a 2xx/3xx); PC_R_NONE is the only 0.
 */
static void
test_reason_table(void **state)
{
	static const struct {
		enum pc_reason	 r;
		int		 status;
		const char	*name;
	} rows[] = {
#define ROW(n, st, s) { PC_R_##n, st, s },
		PC_REASONLIST(ROW)
#undef ROW
	};
	int	r, q;

	(void)state;
	assert_int_equal(PC_NELEM(rows), PC_R_COUNT);
	assert_int_equal(PC_R_NONE, 0);
	assert_string_equal(pc_reason_name(PC_R_NONE), "none");
	assert_int_equal(pc_reason_status(PC_R_NONE), 0);
	for (r = 0; r < PC_R_COUNT; r++) {
		const char	*name = pc_reason_name((enum pc_reason)r);
		int		 st = pc_reason_status((enum pc_reason)r);

		assert_int_equal(rows[r].r, r);
		assert_string_equal(name, rows[r].name);
		assert_int_equal(st, rows[r].status);
		if (!name_is_lower_snake(name))
			fail_msg("reason %d name '%s' is not [a-z][a-z0-9_]*", r, name);
		/* Every reason is an error, but the one answer a plain listener gives when it
		 * sends clients to HTTPS. */
		if (r != PC_R_NONE && (st < 400 || st > 599) &&
		    !(r == PC_R_REDIRECT_HTTPS && st == 308))
			fail_msg("reason %s status %d outside 400..599", name, st);
		/* The status must have a reason phrase: it goes on the status line. */
		if (r != PC_R_NONE && pc_status_text(st)[0] == '\0')
			fail_msg("reason %s status %d has no status text", name, st);
		for (q = 0; q < r; q++)
			if (strcmp(name, pc_reason_name((enum pc_reason)q)) == 0)
				fail_msg("reasons %d and %d share the name '%s'", q, r, name);
	}
}

/* Out-of-range reasons are "unknown"/500: a corrupted code still fails closed. */
static void
test_reason_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(pc_reason_name(PC_R_COUNT), "unknown");
	assert_int_equal(pc_reason_status(PC_R_COUNT), 500);
	assert_string_equal(pc_reason_name((enum pc_reason)-1), "unknown");
	assert_int_equal(pc_reason_status((enum pc_reason)-1), 500);
	assert_string_equal(pc_reason_name((enum pc_reason)100000), "unknown");
}

/* Known statuses have their RFC 9110 phrase; unknown ones give "" (never NULL). */
static void
test_status_text(void **state)
{
	static const struct {
		int		 status;
		const char	*text;
	} rows[] = {
		{ 100, "Continue" },
		{ 101, "Switching Protocols" },
		{ 200, "OK" },
		{ 201, "Created" },
		{ 202, "Accepted" },
		{ 204, "No Content" },
		{ 206, "Partial Content" },
		{ 301, "Moved Permanently" },
		{ 302, "Found" },
		{ 304, "Not Modified" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 408, "Request Timeout" },
		{ 411, "Length Required" },
		{ 413, "Content Too Large" },		/* RFC 9110 name, not "Payload" */
		{ 414, "URI Too Long" },
		{ 417, "Expectation Failed" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		/* Unknown: empty, so a caller writing "HTTP/1.1 %d %s" stays well-formed. */
		{ 0, "" },
		{ -1, "" },
		{ 99, "" },
		{ 299, "" },
		{ 418, "" },
		{ 600, "" },
		{ 1000, "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < PC_NELEM(rows); i++) {
		const char *t = pc_status_text(rows[i].status);

		assert_non_null(t);
		assert_string_equal(t, rows[i].text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror_every_code),
		cmocka_unit_test(test_strerror_out_of_range),
		cmocka_unit_test(test_err_errno),
		cmocka_unit_test(test_reason_table),
		cmocka_unit_test(test_reason_out_of_range),
		cmocka_unit_test(test_status_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
