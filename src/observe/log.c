/*
 * observe/log.c - the access log, security events and operational messages, all JSON lines.
 * Owns: the two log sinks (fd, path, reopen), the per-thread line buffers, the line formats.
 * Does not: take a lock on the request path, block a worker on a full pipe for more than a
 *     few milliseconds, or emit a line that is not valid JSON whatever bytes the client sent.
 *
 * Each sink has one file descriptor number for its whole life once it has been a file:
 * rotation (SIGUSR1) and reload dup2() the new file onto that number, so a worker that has
 * just loaded the fd never writes to a closed or, worse, reused descriptor (a client socket).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "observe/observe_int.h"
#include "core/banned.h"

enum pc_obs_sink { PC_OBS_ACCESS, PC_OBS_EVENTS, PC_OBS_SINK_COUNT };

#define LINE_BUF_BYTES	(64 * 1024)	/* per thread and sink; a maximal line (~34 KiB) fits */
#define FLUSH_AT_BYTES	(16 * 1024)
/*
 * Input caps per field before escaping (6 bytes out per byte in at worst), so that a line is
 * always well under LINE_BUF_BYTES - FLUSH_AT_BYTES: a line is never refused for its size.
 */
#define PATH_CAP	4096
#define FIELD_CAP	256
#define MSG_CAP		1024
#define EAGAIN_WAIT_MS	5	/* finishing a half-written line on a full pipe */

struct sink {
	const char	*name;
	int		 fd;		/* atomic: where lines go now; -1 = off */
	int		 file_fd;	/* fd number kept for files across reopen/reload; -1 none */
	size_t		 chunk_max;	/* atomic: largest write(2) that stays atomic on this fd */
	uint64_t	 dropped;	/* atomic: lines lost (full pipe, write error) */
	char		 path[PATH_MAX];/* under ctl_mtx; "" unless the sink is a file */
};

static struct sink	 sinks[PC_OBS_SINK_COUNT] = {
	[PC_OBS_ACCESS] = { "access", -1, -1, PIPE_BUF, 0, "" },
	[PC_OBS_EVENTS] = { "events", -1, -1, PIPE_BUF, 0, "" },
};
/* Serializes open/reopen/close (main thread, signal handling): never on the request path. */
static pthread_mutex_t	 ctl_mtx = PTHREAD_MUTEX_INITIALIZER;

/* Per-thread line buffers: fixed storage used through pc_buf with cap == max, so pc_buf
 * never reallocates it and an append past the end fails with -PC_ETOOBIG instead. */
static __thread uint8_t		tl_store[PC_OBS_SINK_COUNT][LINE_BUF_BYTES];
static __thread struct pc_buf	tl_buf[PC_OBS_SINK_COUNT];

/* A JSON line writer with a sticky error, so formatting code is a flat list of fields. */
struct jw {
	struct pc_buf	*b;
	int		 rc;
};

/* Appends <p>/<n>: a plain copy while it fits, pc_buf_add (grow or refuse) otherwise. The
 * per-call overhead of pc_buf_add dominated the line cost, and a line makes ~40 appends. */
static inline void
jw_put(struct jw *w, const void *p, size_t n)
{
	struct pc_buf *b = w->b;

	if (w->rc != 0)
		return;
	if (n <= b->cap - b->len) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		return;
	}
	w->rc = pc_buf_add(b, p, n);
}

#define jw_lit(w, lit)	jw_put((w), (lit), sizeof(lit) - 1)

static void
jw_raw(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

/* True if JSON needs no escape for any byte of <s> (the common case: a plain path). */
static bool
json_plain(struct pc_str s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* "key": then the escaped string (at most <cap> bytes of <s>) in quotes, or null. */
static void
jw_str(struct jw *w, const char *key, struct pc_str s, size_t cap, bool null_if_empty)
{
	jw_raw(w, key);
	if (s.len == 0 && null_if_empty) {
		jw_lit(w, "null");
		return;
	}
	if (s.ptr == NULL)
		s = PC_STR("");
	if (s.len > cap)
		s.len = cap;	/* bounded line; the head of a path is what a reader needs */
	jw_lit(w, "\"");
	if (json_plain(s))
		jw_put(w, s.ptr, s.len);
	else if (w->rc == 0)
		w->rc = pc_buf_add_json_str(w->b, s);	/* the one escaper, in core/ */
	jw_lit(w, "\"");
}

/*
 * "path": the normalized path has no query; only a raw target (logged when normalization
 * failed) may have one, and a query can carry credentials (an API key's query_param, RFC
 * 6750 2.3 access_token). Every query value is masked: names stay, values become "*".
 */
static void
jw_path(struct jw *w, const char *key, struct pc_str s)
{
	char		 buf[PATH_CAP];
	const char	*q = s.ptr != NULL ? memchr(s.ptr, '?', s.len) : NULL;
	size_t		 i, n;
	bool		 in_value = false;

	if (q == NULL) {
		jw_str(w, key, s, PATH_CAP, false);
		return;
	}
	n = (size_t)(q - s.ptr) + 1;
	if (n > sizeof(buf))
		n = sizeof(buf);
	memcpy(buf, s.ptr, n);
	for (i = n; i < s.len && n < sizeof(buf); i++) {
		if (s.ptr[i] == '&') {
			in_value = false;
		} else if (in_value) {
			continue;
		} else if (s.ptr[i] == '=') {
			in_value = true;
			buf[n++] = '=';
			if (n < sizeof(buf) && i + 1 < s.len && s.ptr[i + 1] != '&')
				buf[n++] = '*';
			continue;
		}
		buf[n++] = s.ptr[i];
	}
	jw_str(w, key, pc_str_make(buf, n), PATH_CAP, false);
}

static void
jw_cstr(struct jw *w, const char *key, const char *s)
{
	jw_str(w, key, pc_str_c(s), FIELD_CAP, true);
}

/* Decimal digits of <v> into the end of <tmp>; returns where they start. printf costs a
 * few hundred nanoseconds per number, and a line has five of them. */
static char *
fmt_u64(uint64_t v, char tmp[24])
{
	char *p = tmp + 24;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

static void
jw_u64_val(struct jw *w, uint64_t v)
{
	char tmp[24], *p = fmt_u64(v, tmp);

	jw_put(w, p, (size_t)(tmp + 24 - p));
}

static void
jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_raw(w, key);
	jw_u64_val(w, v);
}

static void
jw_int(struct jw *w, const char *key, int v)
{
	jw_raw(w, key);
	if (v < 0) {
		jw_raw(w, "-");
		jw_u64_val(w, (uint64_t)-(int64_t)v);
	} else {
		jw_u64_val(w, (uint64_t)v);
	}
}

/* Microseconds as milliseconds with three decimals, without floating point. */
static void
jw_ms(struct jw *w, const char *key, uint64_t us)
{
	char frac[4];

	jw_raw(w, key);
	jw_u64_val(w, us / 1000);
	frac[0] = '.';
	frac[1] = (char)('0' + us / 100 % 10);
	frac[2] = (char)('0' + us / 10 % 10);
	frac[3] = (char)('0' + us % 10);
	jw_put(w, frac, sizeof(frac));
}

/*
 * {"time":"..." from <wall_us>. The formatted second is cached per thread: gmtime and
 * printf for every line would cost more than the rest of the line.
 */
static void
jw_time(struct jw *w, uint64_t wall_us)
{
	static __thread uint64_t	cached_sec = UINT64_MAX;
	static __thread char		cached[32];	/* "2026-11-29T15:40:09.123Z" */
	uint64_t			sec = wall_us / 1000000, ms = wall_us / 1000 % 1000;

	if (sec != cached_sec) {
		pc_wall_format(wall_us, cached);
		cached_sec = strlen(cached) == 24 ? sec : UINT64_MAX;
	}
	if (cached_sec == sec) {
		cached[20] = (char)('0' + ms / 100);
		cached[21] = (char)('0' + ms / 10 % 10);
		cached[22] = (char)('0' + ms % 10);
	}
	jw_raw(w, "{\"time\":\"");
	jw_raw(w, cached);
	jw_raw(w, "\"");
}

static const char *
reason_or_null(enum pc_reason r)
{
	return r == PC_R_NONE ? NULL : pc_reason_name(r);
}

static int
format_access(struct pc_buf *b, const struct pc_log_rec *rec)
{
	struct jw	w = { b, 0 };
	size_t		mark = b->len;

	jw_time(&w, rec->wall_us);
	jw_str(&w, ",\"request_id\":", rec->request_id, FIELD_CAP, false);
	jw_str(&w, ",\"client_ip\":", rec->client_ip, FIELD_CAP, false);
	jw_str(&w, ",\"method\":", rec->method, FIELD_CAP, false);
	jw_path(&w, ",\"path\":", rec->path);
	jw_str(&w, ",\"route\":", rec->route, FIELD_CAP, true);
	jw_str(&w, ",\"upstream\":", rec->upstream, FIELD_CAP, true);
	/* A status outside 0..999 is a caller bug; print it anyway as a JSON number. */
	jw_int(&w, ",\"status\":", rec->status);
	jw_u64(&w, ",\"bytes_in\":", rec->bytes_in);
	jw_u64(&w, ",\"bytes_out\":", rec->bytes_out);
	if (rec->upstream_us < 0) {
		jw_raw(&w, ",\"upstream_ms\":null");
	} else {
		jw_ms(&w, ",\"upstream_ms\":", (uint64_t)rec->upstream_us);
	}
	jw_ms(&w, ",\"total_ms\":", rec->total_us);
	jw_cstr(&w, ",\"phase\":", rec->reason == PC_R_NONE ? NULL : rec->phase);
	jw_cstr(&w, ",\"reason\":", reason_or_null(rec->reason));
	jw_cstr(&w, ",\"would_deny\":", reason_or_null(rec->would_deny));
	jw_cstr(&w, ",\"would_deny_phase\":", rec->would_deny_phase);
	jw_str(&w, ",\"principal\":", rec->principal, FIELD_CAP, true);
	if (rec->http.len > 0)
		jw_str(&w, ",\"http\":", rec->http, FIELD_CAP, true);
	if (rec->tls.len > 0)
		jw_str(&w, ",\"tls\":", rec->tls, FIELD_CAP, true);
	if (rec->client_cert.len > 0) {
		jw_str(&w, ",\"client_cert_sha256\":", rec->client_cert, FIELD_CAP, true);
		jw_str(&w, ",\"client_cert_subject\":", rec->client_subject, PATH_CAP, true);
	}
	jw_raw(&w, "}\n");
	if (w.rc != 0)
		b->len = mark;	/* never leave half a line behind */
	return w.rc;
}

static int
format_event(struct pc_buf *b, const struct pc_log_rec *rec, bool would)
{
	struct jw	w = { b, 0 };
	size_t		mark = b->len;

	jw_time(&w, rec->wall_us);
	jw_raw(&w, would ? ",\"event\":\"would_deny\"" : ",\"event\":\"deny\"");
	jw_str(&w, ",\"request_id\":", rec->request_id, FIELD_CAP, false);
	jw_str(&w, ",\"client_ip\":", rec->client_ip, FIELD_CAP, false);
	jw_str(&w, ",\"method\":", rec->method, FIELD_CAP, false);
	jw_path(&w, ",\"path\":", rec->path);
	jw_str(&w, ",\"route\":", rec->route, FIELD_CAP, true);
	jw_int(&w, ",\"status\":", rec->status);
	jw_cstr(&w, ",\"phase\":", would ? rec->would_deny_phase : rec->phase);
	jw_cstr(&w, ",\"reason\":", pc_reason_name(would ? rec->would_deny : rec->reason));
	if (rec->detail.len > 0)
		jw_str(&w, ",\"detail\":", rec->detail, FIELD_CAP, true);
	jw_raw(&w, "}\n");
	if (w.rc != 0)
		b->len = mark;
	return w.rc;
}

static struct pc_buf *
thread_buf(enum pc_obs_sink which)
{
	struct pc_buf *b = &tl_buf[which];

	if (b->data == NULL) {
		b->data = tl_store[which];
		b->len = 0;
		b->cap = b->max = sizeof(tl_store[which]);
	}
	return b;
}

static size_t
count_lines(const uint8_t *p, size_t n)
{
	const uint8_t	*end = p + n;
	size_t		 lines = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	return lines;
}

/*
 * Writes all of <p>/<n> to <fd>. A short write (disk full, signal, pipe) is continued so a
 * line is never left cut in half while another thread appends after it. Returns 0, or -1
 * with nothing written on EAGAIN or an error (the caller drops), or -2 if the chunk was
 * written only in part.
 */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	size_t	done = 0;
	int	waits = 0;
	ssize_t	r;

	while (done < n) {
		r = write(fd, p + done, n - done);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && done > 0 &&
			    waits++ < 2) {
				/* Half a line is out: wait a moment for the reader rather than
				 * leave a broken line, but never long (stdout may be a pipe to a
				 * stalled process). */
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				(void)poll(&pfd, 1, EAGAIN_WAIT_MS);
				continue;
			}
			return done == 0 ? -1 : -2;
		}
		done += (size_t)r;
	}
	return 0;
}

/*
 * Writes the buffered lines of <b> to <s> in chunks of whole lines no larger than the sink's
 * atomic write size, so concurrent threads' lines never interleave inside a line.
 */
static void
sink_write(struct sink *s, struct pc_buf *b)
{
	int		 fd = __atomic_load_n(&s->fd, __ATOMIC_ACQUIRE);
	size_t		 chunk_max = __atomic_load_n(&s->chunk_max, __ATOMIC_RELAXED);
	size_t		 off = 0, n;
	const uint8_t	*nl;
	int		 rc;

	while (fd >= 0 && off < b->len) {
		n = b->len - off;
		if (n > chunk_max) {
			nl = memrchr(b->data + off, '\n', chunk_max);
			if (nl == NULL)	/* one line longer than chunk_max: alone, whole */
				nl = memchr(b->data + off + chunk_max, '\n', n - chunk_max);
			n = nl == NULL ? n : (size_t)(nl - (b->data + off)) + 1;
		}
		rc = write_all(fd, b->data + off, n);
		if (rc != 0) {
			/* A line cut by -2 still counts as lost: a reader cannot use it. */
			__atomic_add_fetch(&s->dropped, count_lines(b->data + off, b->len - off),
			    __ATOMIC_RELAXED);
			break;
		}
		off += n;
	}
	b->len = 0;
}

static void
sink_append(enum pc_obs_sink which, const struct pc_log_rec *rec, int kind)
{
	struct sink	*s = &sinks[which];
	struct pc_buf	*b;
	int		 rc;

	if (__atomic_load_n(&s->fd, __ATOMIC_RELAXED) < 0)
		return;
	b = thread_buf(which);
	rc = kind == 0 ? format_access(b, rec) :
	    format_event(b, rec, kind == 2);
	if (rc == -PC_ETOOBIG) {
		sink_write(s, b);
		rc = kind == 0 ? format_access(b, rec) :
		    format_event(b, rec, kind == 2);
	}
	if (rc != 0) {
		__atomic_add_fetch(&s->dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	if (b->len >= FLUSH_AT_BYTES)
		sink_write(s, b);
}

void
pc_log_access(const struct pc_log_rec *rec)
{
	sink_append(PC_OBS_ACCESS, rec, 0);
}

void
pc_log_event(const struct pc_log_rec *rec)
{
	/* A report-only decision and a real deny can both happen to one request: one line
	 * each. Only the real deny counts as a rejection. */
	if (rec->would_deny != PC_R_NONE) {
		pc_observe__count_would_deny(rec->would_deny);
		sink_append(PC_OBS_EVENTS, rec, 2);
	}
	if (rec->reason != PC_R_NONE) {
		pc_metrics_reject(rec->reason);
		sink_append(PC_OBS_EVENTS, rec, 1);
	}
}

void
pc_observe_flush(void)
{
	unsigned i;

	for (i = 0; i < PC_OBS_SINK_COUNT; i++)
		if (tl_buf[i].len > 0)
			sink_write(&sinks[i], &tl_buf[i]);
}

/* Lines lost on sink <sink> (0 access, 1 events) since start, for the metrics page. */
uint64_t
pc_observe__log_dropped(unsigned sink)
{
	if (sink >= PC_OBS_SINK_COUNT)
		return 0;
	return __atomic_load_n(&sinks[sink].dropped, __ATOMIC_RELAXED);
}

static void
log_msg(const char *level, const char *fmt, va_list ap)
{
	char		 msg[MSG_CAP];
	uint8_t		 store[MSG_CAP * 6 + 128];
	struct pc_buf	 b = { store, 0, sizeof(store), sizeof(store) };
	struct jw	 w = { &b, 0 };
	int		 n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		n = 0;
	jw_time(&w, pc_wall_us());
	jw_raw(&w, ",\"level\":\"");
	jw_raw(&w, level);
	jw_str(&w, "\",\"msg\":", pc_str_make(msg, strnlen(msg, sizeof(msg))), MSG_CAP, false);
	jw_raw(&w, "}\n");
	if (w.rc == 0)
		(void)write_all(STDERR_FILENO, b.data, b.len);	/* nowhere to report to */
}

void
pc_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_msg("info", fmt, ap);
	va_end(ap);
}

void
pc_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_msg("error", fmt, ap);
	va_end(ap);
}

/* ---- sinks: open, reload, rotate ---- */

enum spec_kind { SPEC_OFF, SPEC_STDOUT, SPEC_FILE };

static enum spec_kind
spec_kind(const char *spec)
{
	if (spec == NULL || strcmp(spec, "off") == 0)
		return SPEC_OFF;
	if (strcmp(spec, "stdout") == 0)
		return SPEC_STDOUT;
	return SPEC_FILE;
}

static int
open_file(const char *path, int *out)
{
	int fd;

	if (path[0] == '\0' || strlen(path) >= PATH_MAX)
		return -PC_EINVAL;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd == -1)
		return pc_err_errno(errno);
	*out = fd;
	return 0;
}

/* Regular files take any O_APPEND write whole; pipes, ttys, sockets only PIPE_BUF. */
static size_t
atomic_write_size(int fd)
{
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return FLUSH_AT_BYTES * 2;
	return PIPE_BUF;
}

/* Moves <newfd> onto <target>'s number and closes <newfd>. */
static int
move_fd(int newfd, int target)
{
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (dup2(newfd, target) != -1) {
			(void)close(newfd);
			return 0;
		}
		/* EBUSY: a race with open(2) in another thread (Linux dup2(2)). */
		if (errno != EINTR && errno != EBUSY)
			break;
	}
	return pc_err_errno(errno);
}

/*
 * Stops <s> writing to its file without closing the fd number: a worker that loaded it a
 * moment ago writes into /dev/null instead of into whatever open(2) hands out next.
 */
static int
retire_file(struct sink *s)
{
	int fd, rc;

	if (s->file_fd < 0)
		return 0;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return pc_err_errno(errno);
	rc = move_fd(fd, s->file_fd);
	if (rc != 0)
		(void)close(fd);
	return rc;
}

/* Points <s> at <spec>, using <newfd> (already opened) if it is a file. Takes <newfd>. */
static int
sink_apply(struct sink *s, const char *spec, int newfd)
{
	enum spec_kind	k = spec_kind(spec);
	int		rc;

	if (k != SPEC_FILE) {
		__atomic_store_n(&s->chunk_max, atomic_write_size(k == SPEC_STDOUT ?
		    STDOUT_FILENO : -1), __ATOMIC_RELAXED);
		__atomic_store_n(&s->fd, k == SPEC_STDOUT ? STDOUT_FILENO : -1,
		    __ATOMIC_RELEASE);
		s->path[0] = '\0';
		return retire_file(s);
	}
	if (s->file_fd < 0) {
		s->file_fd = newfd;
	} else {
		rc = move_fd(newfd, s->file_fd);
		if (rc != 0) {
			(void)close(newfd);
			return rc;
		}
	}
	(void)snprintf(s->path, sizeof(s->path), "%s", spec);
	__atomic_store_n(&s->chunk_max, atomic_write_size(s->file_fd), __ATOMIC_RELAXED);
	__atomic_store_n(&s->fd, s->file_fd, __ATOMIC_RELEASE);
	return 0;
}

int
pc_observe_open(const char *access, const char *events)
{
	const char	*spec[PC_OBS_SINK_COUNT] = { access, events };
	int		 fds[PC_OBS_SINK_COUNT] = { -1, -1 };
	unsigned	 i;
	int		 rc = 0, rc2;

	(void)pthread_mutex_lock(&ctl_mtx);
	/* Open everything first: on error nothing has changed. */
	for (i = 0; i < PC_OBS_SINK_COUNT && rc == 0; i++)
		if (spec_kind(spec[i]) == SPEC_FILE)
			rc = open_file(spec[i], &fds[i]);
	if (rc != 0) {
		pc_log_error("cannot open %s log \"%s\": %s", sinks[i - 1].name, spec[i - 1],
		    pc_strerror(rc));
		for (i = 0; i < PC_OBS_SINK_COUNT; i++)
			if (fds[i] >= 0)
				(void)close(fds[i]);
		(void)pthread_mutex_unlock(&ctl_mtx);
		return rc;
	}
	for (i = 0; i < PC_OBS_SINK_COUNT; i++) {
		rc2 = sink_apply(&sinks[i], spec[i], fds[i]);
		if (rc2 != 0) {
			pc_log_error("cannot switch %s log: %s", sinks[i].name, pc_strerror(rc2));
			rc = rc2;
		}
	}
	(void)pthread_mutex_unlock(&ctl_mtx);
	return rc;
}

int
pc_observe_reopen(void)
{
	unsigned	 i;
	int		 rc = 0, rc2, fd;
	struct sink	*s;

	(void)pthread_mutex_lock(&ctl_mtx);
	for (i = 0; i < PC_OBS_SINK_COUNT; i++) {
		s = &sinks[i];
		if (s->path[0] == '\0')
			continue;
		rc2 = open_file(s->path, &fd);
		if (rc2 == 0) {
			rc2 = move_fd(fd, s->file_fd);
			if (rc2 != 0)
				(void)close(fd);
		}
		if (rc2 != 0) {
			/* The old file stays in use: lines are kept, just not rotated. */
			pc_log_error("cannot reopen %s log \"%s\": %s", s->name, s->path,
			    pc_strerror(rc2));
			rc = rc2;
			continue;
		}
		__atomic_store_n(&s->chunk_max, atomic_write_size(s->file_fd), __ATOMIC_RELAXED);
	}
	(void)pthread_mutex_unlock(&ctl_mtx);
	return rc;
}

void
pc_observe_close(void)
{
	unsigned	 i;
	struct sink	*s;

	/* Contract: the other threads have stopped logging (shutdown). */
	pc_observe_flush();
	(void)pthread_mutex_lock(&ctl_mtx);
	for (i = 0; i < PC_OBS_SINK_COUNT; i++) {
		s = &sinks[i];
		__atomic_store_n(&s->fd, -1, __ATOMIC_RELEASE);
		if (s->file_fd >= 0)
			(void)close(s->file_fd);
		s->file_fd = -1;
		s->path[0] = '\0';
	}
	(void)pthread_mutex_unlock(&ctl_mtx);
}
