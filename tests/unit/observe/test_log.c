/*
 * tests/unit/observe/test_log.c - access-log and event line formats, JSON escaping of
 * hostile bytes, file sinks with rotation and reload, pipes that fill up, concurrent
 * writers. Includes log.c to reach its statics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "observe/log.c"

#define WALL_US	1795966809123456ull	/* 2026-11-29T15:40:09.123456Z */

/* ---- a strict JSON validator (RFC 8259), enough to prove every line parses ---- */

struct jp {
	const char	*p, *end;
	int		 depth;
};

static bool jp_value(struct jp *j);

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	    *j->p == '\r'))
		j->p++;
}

static bool
jp_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* The test's own strict UTF-8 check (RFC 3629), independent of core/str.c's. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t	len, i;
	uint32_t cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07u;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool
jp_string(struct jp *j)
{
	unsigned char c;
	int i;

	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		c = (unsigned char)*j->p++;
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			/* Only well-formed UTF-8 may appear raw (RFC 8259 8.1); the writer turns
			 * any other byte into the text \\xNN. */
			size_t n = utf8_len((const unsigned char *)j->p - 1,
			    (size_t)(j->end - j->p) + 1);

			if (n == 0)
				return false;
			j->p += n - 1;
			continue;
		}
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (i = 0; i < 4; i++) {
				if (j->p >= j->end || strchr("0123456789abcdefABCDEF", *j->p) ==
				    NULL || *j->p == '\0')
					return false;
				j->p++;
			}
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			return false;
		}
	}
	return false;
}

static bool
jp_number(struct jp *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return false;
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return false;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool
jp_object(struct jp *j)
{
	if (++j->depth > 32)
		return false;
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		jp_ws(j);
		if (!jp_string(j))
			return false;
		jp_ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return false;
		if (!jp_value(j))
			return false;
		jp_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == '}') {
			j->p++;
			j->depth--;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool
jp_value(struct jp *j)
{
	jp_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return jp_object(j);
	case '"':
		return jp_string(j);
	case 'n':
		return jp_lit(j, "null");
	case 't':
		return jp_lit(j, "true");
	case 'f':
		return jp_lit(j, "false");
	default:
		return jp_number(j);
	}
}

/* One JSON object followed by exactly one '\n' and nothing else. */
static bool
is_json_line(const char *s, size_t n)
{
	struct jp j = { s, s + n, 0 };

	if (n == 0 || s[n - 1] != '\n' || memchr(s, '\n', n - 1) != NULL)
		return false;
	j.end = s + n - 1;
	if (j.p >= j.end || *j.p != '{' || !jp_value(&j))
		return false;
	return j.p == j.end;
}

/* Checks every line of <s>/<n> is a JSON line; returns the number of lines. */
static size_t
check_lines(const char *s, size_t n)
{
	size_t		 lines = 0;
	const char	*nl;

	while (n > 0) {
		nl = memchr(s, '\n', n);
		assert_non_null(nl);
		if (!is_json_line(s, (size_t)(nl - s) + 1))
			fail_msg("not a JSON line: %.*s", (int)(nl - s), s);
		lines++;
		n -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	return lines;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	(void)fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct pc_log_rec
base_rec(void)
{
	struct pc_log_rec r;

	memset(&r, 0, sizeof(r));
	r.wall_us = WALL_US;
	r.request_id = PC_STR("r-1");
	r.client_ip = PC_STR("127.0.0.1");
	r.method = PC_STR("GET");
	r.path = PC_STR("/x");
	r.route = PC_STR("health");
	r.upstream = PC_STR("127.0.0.1:9000");
	r.status = 200;
	r.bytes_in = 78;
	r.bytes_out = 123;
	r.upstream_us = 1234;
	r.total_us = 1501;
	r.reason = PC_R_NONE;
	r.would_deny = PC_R_NONE;
	return r;
}

static char *
fmt_access(const struct pc_log_rec *r)
{
	struct pc_buf	 b;
	char		*s;

	pc_buf_init(&b, 1 << 20);
	assert_int_equal(format_access(&b, r), 0);
	assert_true(is_json_line((const char *)b.data, b.len));
	s = strndup((const char *)b.data, b.len);
	pc_buf_fini(&b);
	return s;
}

static void
test_access_normal(void **state)
{
	struct pc_log_rec	 r = base_rec();
	char			*s;

	(void)state;
	s = fmt_access(&r);
	assert_string_equal(s, "{\"time\":\"2026-11-29T15:40:09.123Z\",\"request_id\":\"r-1\","
	    "\"client_ip\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/x\",\"route\":\"health\","
	    "\"upstream\":\"127.0.0.1:9000\",\"status\":200,\"bytes_in\":78,\"bytes_out\":123,"
	    "\"upstream_ms\":1.234,\"total_ms\":1.501,\"phase\":null,\"reason\":null,"
	    "\"would_deny\":null,\"would_deny_phase\":null,\"principal\":null}\n");
	free(s);
}

static void
test_access_denied(void **state)
{
	struct pc_log_rec	 r = base_rec();
	char			*s;

	(void)state;
	r.route = PC_STR("");
	r.upstream = PC_STR_NULL;
	r.upstream_us = -1;
	r.total_us = 42;
	r.status = 404;
	r.bytes_out = 0;
	r.phase = "route";
	r.reason = PC_R_ROUTE_NOT_FOUND;
	s = fmt_access(&r);
	assert_string_equal(s, "{\"time\":\"2026-11-29T15:40:09.123Z\",\"request_id\":\"r-1\","
	    "\"client_ip\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/x\",\"route\":null,"
	    "\"upstream\":null,\"status\":404,\"bytes_in\":78,\"bytes_out\":0,"
	    "\"upstream_ms\":null,\"total_ms\":0.042,\"phase\":\"route\","
	    "\"reason\":\"route_not_found\",\"would_deny\":null,\"would_deny_phase\":null,"
	    "\"principal\":null}\n");
	free(s);

	/* A phase without a reason is not a deny: both stay null. */
	r = base_rec();
	r.phase = "forward";
	s = fmt_access(&r);
	assert_non_null(strstr(s, "\"phase\":null,\"reason\":null,"));
	free(s);
}

static void
test_access_report_only(void **state)
{
	struct pc_log_rec	 r = base_rec();
	char			*s;

	(void)state;
	r.would_deny = PC_R_PATH_TRAVERSAL;
	r.would_deny_phase = "normalize";
	r.principal = PC_STR("alice");
	r.upstream_us = 0;
	r.total_us = 12345678;
	s = fmt_access(&r);
	assert_non_null(strstr(s, "\"upstream_ms\":0.000,\"total_ms\":12345.678,"
	    "\"phase\":null,\"reason\":null,\"would_deny\":\"path_traversal\","
	    "\"would_deny_phase\":\"normalize\",\"principal\":\"alice\"}\n"));
	free(s);
}

static void
test_access_hostile_bytes(void **state)
{
	static const char	 evil[] = "/a\"b\\c\x01\x1f\x7f\n\r\t\0\xff\xc0\xaf\xed\xa0\x80"
	    "\xe2\x82\xac}\",\"x\":\"";
	struct pc_log_rec	 r = base_rec();
	char			*s, *big;
	size_t			 i;

	(void)state;
	r.path = pc_str_make(evil, sizeof(evil) - 1);
	r.method = PC_STR("G\"ET");
	r.request_id = PC_STR("\\");
	r.route = pc_str_make("\0", 1);
	r.principal = PC_STR("\xf0\x9f\x92\xa9");
	s = fmt_access(&r);
	/* Invalid UTF-8 (a lone 0xff, the overlong C0 AF, a surrogate) becomes the text
	 * \\xNN; the valid euro sign and emoji stay as they are. */
	assert_non_null(strstr(s, "\"path\":\"/a\\\"b\\\\c\\u0001\\u001f\\u007f\\n\\r\\t"
	    "\\u0000\\\\xff\\\\xc0\\\\xaf\\\\xed\\\\xa0\\\\x80\xe2\x82\xac}"));
	assert_non_null(strstr(s, "\"principal\":\"\xf0\x9f\x92\xa9\""));
	assert_non_null(strstr(s, "\"method\":\"G\\\"ET\""));
	assert_non_null(strstr(s, "\"request_id\":\"\\\\\""));
	assert_non_null(strstr(s, "\"route\":\"\\u0000\""));
	free(s);

	/* Every single byte value, alone and in a long path: still one valid line. */
	for (i = 0; i < 256; i++) {
		char c = (char)i;

		r.path = pc_str_make(&c, 1);
		s = fmt_access(&r);
		free(s);
	}
	big = malloc(100000);
	assert_non_null(big);
	for (i = 0; i < 100000; i++)
		big[i] = (char)(i * 7);
	r.path = pc_str_make(big, 100000);
	r.route = pc_str_make(big, 100000);
	r.upstream = pc_str_make(big, 100000);
	r.principal = pc_str_make(big, 100000);
	r.request_id = pc_str_make(big, 100000);
	r.client_ip = pc_str_make(big, 100000);
	r.method = pc_str_make(big, 100000);
	s = fmt_access(&r);
	/* Capped: the line stays far below the per-thread buffer. */
	assert_true(strlen(s) < LINE_BUF_BYTES - FLUSH_AT_BYTES);
	free(s);
	free(big);
}

static char tmpdir[] = "/tmp/pc_obs_XXXXXX";

static void
tpath(char *out, size_t n, const char *name)
{
	(void)snprintf(out, n, "%s/%s", tmpdir, name);
}

static void
log_n(int n, const char *tag)
{
	struct pc_log_rec	r = base_rec();
	int			i;

	r.request_id = pc_str_c(tag);
	for (i = 0; i < n; i++)
		pc_log_access(&r);
}

static size_t
count_tag(const char *s, const char *tag)
{
	char	 needle[64];
	size_t	 n = 0;

	(void)snprintf(needle, sizeof(needle), "\"request_id\":\"%s\"", tag);
	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

static void
test_sink_file_reopen(void **state)
{
	char	 p[256], p1[256], *s;
	size_t	 len;
	int	 fd_before;

	(void)state;
	tpath(p, sizeof(p), "access.log");
	tpath(p1, sizeof(p1), "access.log.1");
	assert_int_equal(pc_observe_open(p, "off"), 0);
	fd_before = sinks[PC_OBS_ACCESS].fd;
	log_n(3, "old");
	pc_observe_flush();
	assert_int_equal(rename(p, p1), 0);
	log_n(2, "mid");	/* buffered before the rotation, written after it */
	assert_int_equal(pc_observe_reopen(), 0);
	assert_int_equal(sinks[PC_OBS_ACCESS].fd, fd_before);	/* same fd number */
	log_n(4, "new");
	pc_observe_flush();

	s = slurp(p1, &len);
	assert_int_equal(check_lines(s, len), 3);
	assert_int_equal(count_tag(s, "old"), 3);
	free(s);
	s = slurp(p, &len);
	assert_int_equal(check_lines(s, len), 6);
	assert_int_equal(count_tag(s, "mid"), 2);
	assert_int_equal(count_tag(s, "new"), 4);
	free(s);
	{
		struct stat st;

		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0640);
	}
	pc_observe_close();
	(void)unlink(p);
	(void)unlink(p1);
}

static void
test_sink_reload_switch(void **state)
{
	char	 a[256], b[256], *s;
	size_t	 len;
	int	 fd;

	(void)state;
	tpath(a, sizeof(a), "a.log");
	tpath(b, sizeof(b), "b.log");
	assert_int_equal(pc_observe_open(a, "off"), 0);
	fd = sinks[PC_OBS_ACCESS].fd;
	log_n(2, "ina");
	pc_observe_flush();
	/* A failed reload changes nothing. */
	assert_int_not_equal(pc_observe_open("/nonexistent-dir/x.log", "off"), 0);
	log_n(1, "ina");
	pc_observe_flush();
	assert_int_equal(pc_observe_open("off", "off"), 0);
	assert_int_equal(sinks[PC_OBS_ACCESS].fd, -1);
	log_n(5, "dropped");
	pc_observe_flush();
	assert_int_equal(pc_observe_open(b, "off"), 0);
	assert_int_equal(sinks[PC_OBS_ACCESS].fd, fd);	/* the number is reused */
	log_n(2, "inb");
	pc_observe_flush();

	s = slurp(a, &len);
	assert_int_equal(check_lines(s, len), 3);
	assert_int_equal(count_tag(s, "ina"), 3);
	free(s);
	s = slurp(b, &len);
	assert_int_equal(check_lines(s, len), 2);
	assert_int_equal(count_tag(s, "inb"), 2);
	free(s);
	pc_observe_close();
	(void)unlink(a);
	(void)unlink(b);
}

static void
test_events(void **state)
{
	char			 p[256], *s, *l2;
	size_t			 len;
	struct pc_log_rec	 r = base_rec();
	struct pc_buf		 m;

	(void)state;
	tpath(p, sizeof(p), "events.log");
	assert_int_equal(pc_observe_open("off", p), 0);
	r.status = 404;
	r.route = PC_STR("");
	r.phase = "route";
	r.reason = PC_R_ROUTE_NOT_FOUND;
	pc_log_event(&r);
	r = base_rec();
	r.would_deny = PC_R_PATH_TRAVERSAL;
	r.would_deny_phase = "normalize";
	pc_log_event(&r);
	r = base_rec();
	pc_log_event(&r);	/* neither: no line */
	pc_observe_flush();
	s = slurp(p, &len);
	assert_int_equal(check_lines(s, len), 2);
	l2 = strchr(s, '\n') + 1;
	assert_memory_equal(s, "{\"time\":\"2026-11-29T15:40:09.123Z\",\"event\":\"deny\","
	    "\"request_id\":\"r-1\",\"client_ip\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/x\","
	    "\"route\":null,\"status\":404,\"phase\":\"route\",\"reason\":\"route_not_found\"}\n",
	    (size_t)(l2 - s));
	assert_string_equal(l2, "{\"time\":\"2026-11-29T15:40:09.123Z\",\"event\":\"would_deny\","
	    "\"request_id\":\"r-1\",\"client_ip\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/x\","
	    "\"route\":\"health\",\"status\":200,\"phase\":\"normalize\","
	    "\"reason\":\"path_traversal\"}\n");
	free(s);

	pc_buf_init(&m, 1 << 20);
	assert_int_equal(pc_metrics_render(&m), 0);
	assert_int_equal(pc_buf_addc(&m, '\0'), 0);
	assert_non_null(strstr((char *)m.data,
	    "\nportcullis_rejections_total{reason=\"route_not_found\"} 1\n"));
	assert_non_null(strstr((char *)m.data,
	    "\nportcullis_rejections_total{reason=\"path_traversal\"} 0\n"));
	assert_non_null(strstr((char *)m.data,
	    "\nportcullis_would_deny_total{reason=\"path_traversal\"} 1\n"));
	pc_buf_fini(&m);
	pc_observe_close();
	(void)unlink(p);
}

/* Buffered lines reach the file once 16 KiB are pending, always as whole lines. */
static void
test_flush_threshold(void **state)
{
	char		p[256], *s;
	size_t		len;
	struct stat	st;

	(void)state;
	tpath(p, sizeof(p), "thr.log");
	assert_int_equal(pc_observe_open(p, "off"), 0);
	log_n(10, "t");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	log_n(200, "t");
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size >= FLUSH_AT_BYTES);
	s = slurp(p, &len);
	assert_true(check_lines(s, len) < 210);
	free(s);
	pc_observe_flush();
	s = slurp(p, &len);
	assert_int_equal(check_lines(s, len), 210);
	free(s);
	pc_observe_close();
	(void)unlink(p);
}

#define NTHREADS	4
#define PER_THREAD	5000

static void *
writer(void *arg)
{
	char	tag[16];
	int	i;

	(void)snprintf(tag, sizeof(tag), "w%d", (int)(intptr_t)arg);
	for (i = 0; i < PER_THREAD; i++) {
		log_n(1, tag);
		if (i % 97 == 0)
			pc_observe_flush();
	}
	pc_observe_flush();
	return NULL;
}

static void
test_concurrent_writers(void **state)
{
	pthread_t	 t[NTHREADS];
	char		 p[256], p1[256], *s, *s1, tag[16];
	size_t		 len, len1;
	int		 i;

	(void)state;
	tpath(p, sizeof(p), "mt.log");
	tpath(p1, sizeof(p1), "mt.log.1");
	assert_int_equal(pc_observe_open(p, "off"), 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
	/* Rotate while they write: every line lands whole in one of the two files. */
	usleep(2000);
	assert_int_equal(rename(p, p1), 0);
	assert_int_equal(pc_observe_reopen(), 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	s = slurp(p, &len);
	s1 = slurp(p1, &len1);
	assert_int_equal(check_lines(s, len) + check_lines(s1, len1), NTHREADS * PER_THREAD);
	for (i = 0; i < NTHREADS; i++) {
		(void)snprintf(tag, sizeof(tag), "w%d", i);
		assert_int_equal(count_tag(s, tag) + count_tag(s1, tag), PER_THREAD);
	}
	free(s);
	free(s1);
	pc_observe_close();
	(void)unlink(p);
	(void)unlink(p1);
}

/* stdout is a non-blocking pipe nobody reads: lines are dropped and counted, the writer
 * never blocks, and what did get through is whole lines. */
static void
test_pipe_full(void **state)
{
	int		 pfd[2], saved;
	char		*buf;
	ssize_t		 n;
	size_t		 got = 0, cap = 1 << 20;
	uint64_t	 before;

	(void)state;
	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(pfd[1], STDOUT_FILENO), STDOUT_FILENO);
	assert_int_equal(pc_observe_open("stdout", "off"), 0);
	assert_int_equal(sinks[PC_OBS_ACCESS].chunk_max, PIPE_BUF);
	before = pc_observe__log_dropped(PC_OBS_ACCESS);
	log_n(3000, "p");
	pc_observe_flush();
	assert_true(pc_observe__log_dropped(PC_OBS_ACCESS) > before);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	(void)close(saved);
	(void)close(pfd[1]);
	buf = malloc(cap);
	assert_non_null(buf);
	while ((n = read(pfd[0], buf + got, cap - got)) > 0)
		got += (size_t)n;
	(void)close(pfd[0]);
	assert_true(got > 0);
	assert_int_equal(check_lines(buf, got) + (pc_observe__log_dropped(PC_OBS_ACCESS) -
	    before), 3000);
	free(buf);
	assert_int_equal(pc_observe_open("off", "off"), 0);
}

static void
test_log_info_error(void **state)
{
	int	 pfd[2], saved;
	char	 buf[8192];
	ssize_t	 n;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(pfd[1], STDERR_FILENO), STDERR_FILENO);
	pc_log_info("listening on %s", "127.0.0.1:8080");
	pc_log_error("bad \"%s\"\n%d", "x\\y", 7);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	(void)close(saved);
	(void)close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	(void)close(pfd[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(check_lines(buf, (size_t)n), 2);
	assert_non_null(strstr(buf, "\",\"level\":\"info\",\"msg\":\"listening on "
	    "127.0.0.1:8080\"}\n{\"time\":\""));
	assert_non_null(strstr(buf, "\",\"level\":\"error\",\"msg\":\"bad \\\"x\\\\y\\\"\\n7\"}\n"));
	assert_int_equal(strncmp(buf, "{\"time\":\"20", 11), 0);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_normal),
		cmocka_unit_test(test_access_denied),
		cmocka_unit_test(test_access_report_only),
		cmocka_unit_test(test_access_hostile_bytes),
		cmocka_unit_test(test_sink_file_reopen),
		cmocka_unit_test(test_sink_reload_switch),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_flush_threshold),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_pipe_full),
		cmocka_unit_test(test_log_info_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
