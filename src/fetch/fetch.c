/*
 * fetch/fetch.c - HTTPS requests the gateway makes itself (JWK Sets, OIDC discovery,
 * token introspection): one background thread driving a libcurl multi handle, and the same
 * transfer made synchronously for configuration load and `check`.
 * Owns: the transport rules (https only, verified peer and host name, TLS >= 1.2, no
 * redirects, no proxy from the environment, timeouts, a response size cap, a bounded
 * queue) and the strict reading of Cache-Control max-age.
 * Does not: know what a body means (auth/ parses it), log anything (a request may carry a
 * client secret), or run on a worker's event loop.
 *
 * Why a library here when the proxy speaks HTTP and TLS itself: these fetches are off the
 * hot path, few and small, and need the client side of HTTP (chunked responses, redirects
 * refused, name resolution, certificate and host-name checks against a CA file or the
 * system store). libcurl has done exactly that for decades; hand-written client code here
 * would be new attack surface for no throughput gain.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "fetch/fetch.h"
#include "fetch/fetch_int.h"
#include "core/banned.h"

#define QUEUE_MAX		256	/* queued + in flight: a stuck provider cannot grow it */
#define TICK_MS			1000
#define TIMEOUT_DEFAULT_MS	5000
#define CC_MAX			512	/* Cache-Control bytes kept; more is not believed */
#define MAX_AGE_CAP		2147483648u	/* RFC 9111 1.2.2: larger delta-seconds saturate */

struct job {
	struct job	*next;
	CURL		*easy;
	char		*url, *ca_file, *user, *pass, *body;
	size_t		 body_len;
	uint32_t	 timeout_ms;
	size_t		 max_bytes;
	void		(*done)(void *arg, const struct pc_fetch_result *res);
	void		*arg;
	struct pc_buf	 resp;
	bool		 too_big;
	char		 cc[CC_MAX];	/* Cache-Control of the final response, joined by ',' */
	size_t		 cclen;
	bool		 cc_bad;	/* longer than CC_MAX: max-age is then not believed */
	char		 errbuf[CURL_ERROR_SIZE];
};

static struct {
	pthread_mutex_t	 mtx;
	pthread_t	 thr;
	bool		 running;	/* the thread exists (start..stop) */
	bool		 stopping;
	CURLM		*multi;
	struct job	*queued;	/* submitted, not yet given to the multi handle */
	struct job	*active;	/* owned by the fetch thread */
	unsigned	 nout;		/* queued + active: bounded by QUEUE_MAX */
} F = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static void	(*wake_fn)(void);	/* __atomic: set by the main thread, read by fetch */
static void	(*tick_fn)(uint64_t);
static pthread_once_t	 global_once = PTHREAD_ONCE_INIT;
static CURLcode		 global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool
is_https(const char *url)
{
	return url != NULL && strncasecmp(url, "https://", 8) == 0 && url[8] != '\0';
}

static char *
dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = true;
	return d;
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	if (j->easy != NULL)
		curl_easy_cleanup(j->easy);
	free(j->url);
	free(j->ca_file);
	/* The POST body and the password may be client secrets (RFC 6749 2.3.1). */
	if (j->user != NULL)
		pc_secret_free(j->user, strlen(j->user));
	if (j->pass != NULL)
		pc_secret_free(j->pass, strlen(j->pass));
	if (j->body != NULL)
		pc_secret_free(j->body, j->body_len);
	/* A response can hold an introspection answer about someone's token. */
	if (j->resp.data != NULL)
		explicit_bzero(j->resp.data, j->resp.cap);
	pc_buf_fini(&j->resp);
	free(j);
}

/* Copies every string of <req>: the caller's memory may be gone by the time it runs. */
static struct job *
job_new(const struct pc_fetch_req *req)
{
	struct job	*j;
	bool		 oom = false;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->url = dup_or_null(req->url, &oom);
	j->ca_file = dup_or_null(req->ca_file, &oom);
	j->user = dup_or_null(req->basic_user, &oom);
	j->pass = dup_or_null(req->basic_pass, &oom);
	if (req->body != NULL) {
		j->body = malloc(req->body_len + 1);
		if (j->body == NULL)
			oom = true;
		else {
			memcpy(j->body, req->body, req->body_len);
			j->body[req->body_len] = '\0';
			j->body_len = req->body_len;
		}
	}
	j->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : TIMEOUT_DEFAULT_MS;
	j->max_bytes = req->max_bytes > 0 ? req->max_bytes : PC_FETCH_MAX_BYTES_DEFAULT;
	j->done = req->done;
	j->arg = req->arg;
	/* One more byte than the limit for the NUL the callback is promised. */
	pc_buf_init(&j->resp, j->max_bytes + 1);
	if (oom) {
		job_free(j);
		return NULL;
	}
	return j;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;

	/* size is always 1 for write callbacks (libcurl documents it). */
	if (size != 1 || n > j->max_bytes - j->resp.len) {
		j->too_big = true;
		return 0;	/* a short count aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (pc_buf_add(&j->resp, p, n) != 0) {
		j->too_big = true;
		return 0;
	}
	return n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct job	*j = arg;
	struct pc_str	 line, name, value;

	if (size != 1)
		return 0;
	line = pc_str_make(p, n);
	/* A new status line (after a 1xx): only the final response's fields count. */
	if (pc_str_has_prefix(line, PC_STR("HTTP/"))) {
		j->cclen = 0;
		j->cc_bad = false;
		return n;
	}
	while (line.len > 0 && (line.ptr[line.len - 1] == '\n' || line.ptr[line.len - 1] == '\r'))
		line.len--;
	value = pc_str_split(line, ':', &name);
	if (!pc_str_caseeq(name, PC_STR("Cache-Control")))
		return n;
	value = pc_str_trim_ows(value);
	/* Several fields are one comma-separated list (RFC 9110 5.3). */
	if (j->cclen + value.len + 1 > sizeof(j->cc)) {
		j->cc_bad = true;
		return n;
	}
	if (j->cclen > 0)
		j->cc[j->cclen++] = ',';
	memcpy(j->cc + j->cclen, value.ptr, value.len);
	j->cclen += value.len;
	return n;
}

/*
 * The max-age directive of a Cache-Control list (RFC 9111 5.2), strictly: name case-
 * insensitive, value delta-seconds (digits only, not quoted, no sign or space), present
 * once. Anything else (a quoted or empty value, a second max-age) means "no max-age":
 * 0, so the configured schedule applies. Returns seconds, saturated at 2^31.
 */
uint32_t
pc_fetch__max_age(struct pc_str cc)
{
	struct pc_str	 item, name, value;
	uint64_t	 v = 0;
	uint32_t	 found = 0;
	unsigned	 seen = 0;
	size_t		 i;

	while (cc.len > 0) {
		cc = pc_str_split(cc, ',', &item);
		item = pc_str_trim_ows(item);
		value = pc_str_split(item, '=', &name);
		if (!pc_str_caseeq(pc_str_trim_ows(name), PC_STR("max-age")))
			continue;
		if (++seen > 1)
			return 0;
		if (value.len == 0 || value.len > 32 || name.len != PC_STR("max-age").len)
			return 0;
		for (i = 0; i < value.len; i++)
			if (value.ptr[i] < '0' || value.ptr[i] > '9')
				return 0;
		if (value.len > 10)
			found = MAX_AGE_CAP;
		else if (pc_parse_u64(value, UINT64_MAX, &v) != 0)
			return 0;
		else
			found = v > MAX_AGE_CAP ? MAX_AGE_CAP : (uint32_t)v;
	}
	return found;
}

#define SETOPT(e, o, v) do { if (curl_easy_setopt((e), (o), (v)) != CURLE_OK) goto fail; } \
	while (0)

/* The transport rules, the same for the thread and for pc_fetch_sync. */
static int
job_easy(struct job *j)
{
	CURL *e;

	if ((j->easy = e = curl_easy_init()) == NULL)
		return -PC_ENOMEM;
	SETOPT(e, CURLOPT_URL, j->url);
	SETOPT(e, CURLOPT_PRIVATE, j);
	/* https only, for the first request and (were redirects on) every later one. */
	SETOPT(e, CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	/* A key set must come from the URL configured, not wherever a 30x points. */
	SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (j->ca_file != NULL) {
		/* Only the configured anchors: not also the system directory. */
		SETOPT(e, CURLOPT_CAINFO, j->ca_file);
		SETOPT(e, CURLOPT_CAPATH, NULL);
	}
	/* HTTPS_PROXY in the gateway's environment must not reroute its key fetches. */
	SETOPT(e, CURLOPT_PROXY, "");
	SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(e, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
	SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, (long)j->timeout_ms);
	/* A declared Content-Length over the limit ends it before any byte is read. */
	SETOPT(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->max_bytes);
	SETOPT(e, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(e, CURLOPT_WRITEDATA, j);
	SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(e, CURLOPT_HEADERDATA, j);
	SETOPT(e, CURLOPT_ERRORBUFFER, j->errbuf);
	SETOPT(e, CURLOPT_USERAGENT, "portcullis/" PC_VERSION);
	if (j->body != NULL) {
		/* POSTFIELDS sends application/x-www-form-urlencoded by default. */
		SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
		SETOPT(e, CURLOPT_POSTFIELDS, j->body);
	}
	if (j->user != NULL) {
		SETOPT(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SETOPT(e, CURLOPT_USERNAME, j->user);
		SETOPT(e, CURLOPT_PASSWORD, j->pass != NULL ? j->pass : "");
	}
	return 0;
fail:
	return -PC_EINVAL;
}

/* Builds the result of a finished transfer and calls <done>. */
static void
job_finish(struct job *j, CURLcode rc, const char *why)
{
	struct pc_fetch_result	 res;
	long			 status = 0;

	memset(&res, 0, sizeof(res));
	if (why != NULL) {
		res.error = why;
	} else if (j->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		res.error = "response larger than the limit";
	} else if (rc != CURLE_OK) {
		res.error = j->errbuf[0] != '\0' ? j->errbuf : curl_easy_strerror(rc);
	} else if (curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    status < 100 || status > 999) {
		res.error = "no HTTP status";
	} else if (pc_buf_addc(&j->resp, '\0') != 0) {
		res.error = "out of memory";
	} else {
		res.status = (int)status;
		res.body = (const char *)j->resp.data;
		res.len = j->resp.len - 1;
		res.max_age_s = j->cc_bad ? 0 : pc_fetch__max_age(pc_str_make(j->cc, j->cclen));
	}
	if (res.error != NULL)
		res.status = 0;
	j->done(j->arg, &res);
}

/* ---- the thread ---- */

static void
run_tick(uint64_t *next)
{
	void		(*tick)(uint64_t);
	uint64_t	 now = pc_now_ms();

	if (now < *next)
		return;
	*next = now + TICK_MS;
	tick = __atomic_load_n(&tick_fn, __ATOMIC_ACQUIRE);
	if (tick != NULL)
		tick(now);
}

static void
unlink_active(struct job *j)
{
	struct job **pp;

	for (pp = &F.active; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			return;
		}
}

static void
complete(struct job *j, CURLcode rc, const char *why)
{
	void (*wake)(void);

	/* The slot is free before the caller hears of the outcome: a caller that submits
	 * again from its callback (or right after it) must find room. */
	(void)pthread_mutex_lock(&F.mtx);
	F.nout--;
	(void)pthread_mutex_unlock(&F.mtx);
	job_finish(j, rc, why);
	job_free(j);
	/* Workers parked on this fetch look again (their phase runs once more). */
	wake = __atomic_load_n(&wake_fn, __ATOMIC_ACQUIRE);
	if (wake != NULL)
		wake();
}

static void *
fetch_main(void *arg)
{
	struct job	*q, *j;
	CURLMsg		*m;
	char		*priv;
	uint64_t	 next_tick = 0;
	int		 nrun, nmsg;
	bool		 stop;

	(void)arg;
	for (;;) {
		(void)pthread_mutex_lock(&F.mtx);
		stop = F.stopping;
		q = F.queued;
		F.queued = NULL;
		(void)pthread_mutex_unlock(&F.mtx);
		while (q != NULL) {
			j = q;
			q = q->next;
			j->next = F.active;
			F.active = j;
			if (curl_multi_add_handle(F.multi, j->easy) != CURLM_OK) {
				unlink_active(j);
				complete(j, CURLE_FAILED_INIT, "cannot start the transfer");
			}
		}
		if (stop)
			break;
		(void)curl_multi_perform(F.multi, &nrun);
		while ((m = curl_multi_info_read(F.multi, &nmsg)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			priv = NULL;
			(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			if ((j = (struct job *)(void *)priv) == NULL)
				continue;
			(void)curl_multi_remove_handle(F.multi, j->easy);
			unlink_active(j);
			complete(j, m->data.result, NULL);
		}
		run_tick(&next_tick);
		(void)curl_multi_poll(F.multi, NULL, 0, TICK_MS, NULL);
	}
	/* Stopping: whatever is still in flight completes, once, with an error. */
	while ((j = F.active) != NULL) {
		F.active = j->next;
		(void)curl_multi_remove_handle(F.multi, j->easy);
		complete(j, CURLE_ABORTED_BY_CALLBACK, "stopping");
	}
	return NULL;
}

int
pc_fetch_start(void)
{
	int rc;

	(void)pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return -PC_ENOMEM;
	(void)pthread_mutex_lock(&F.mtx);
	if (F.running) {
		(void)pthread_mutex_unlock(&F.mtx);
		return 0;
	}
	F.multi = curl_multi_init();
	if (F.multi == NULL) {
		(void)pthread_mutex_unlock(&F.mtx);
		return -PC_ENOMEM;
	}
	F.stopping = false;
	F.queued = F.active = NULL;
	F.nout = 0;
	rc = pthread_create(&F.thr, NULL, fetch_main, NULL);
	if (rc != 0) {
		(void)curl_multi_cleanup(F.multi);
		F.multi = NULL;
		(void)pthread_mutex_unlock(&F.mtx);
		return pc_err_errno(rc);
	}
	F.running = true;
	(void)pthread_mutex_unlock(&F.mtx);
	return 0;
}

void
pc_fetch_stop(void)
{
	(void)pthread_mutex_lock(&F.mtx);
	if (!F.running || F.stopping) {
		(void)pthread_mutex_unlock(&F.mtx);
		return;
	}
	F.stopping = true;
	(void)curl_multi_wakeup(F.multi);
	(void)pthread_mutex_unlock(&F.mtx);
	(void)pthread_join(F.thr, NULL);
	/* The thread took every queued job before it left; later submits are refused. */
	(void)pthread_mutex_lock(&F.mtx);
	(void)curl_multi_cleanup(F.multi);
	F.multi = NULL;
	F.running = false;
	F.stopping = false;
	(void)pthread_mutex_unlock(&F.mtx);
}

int
pc_fetch_submit(const struct pc_fetch_req *req)
{
	struct job	*j;
	int		 rc;

	if (req == NULL || req->done == NULL || !is_https(req->url))
		return -PC_EINVAL;
	if ((j = job_new(req)) == NULL)
		return -PC_ENOMEM;
	if ((rc = job_easy(j)) != 0) {
		job_free(j);
		return rc;
	}
	(void)pthread_mutex_lock(&F.mtx);
	if (!F.running || F.stopping || F.nout >= QUEUE_MAX) {
		(void)pthread_mutex_unlock(&F.mtx);
		job_free(j);
		return -PC_EAGAIN;
	}
	j->next = F.queued;
	F.queued = j;
	F.nout++;
	/* Under the lock: stop cannot free the multi handle in between. */
	(void)curl_multi_wakeup(F.multi);
	(void)pthread_mutex_unlock(&F.mtx);
	return 0;
}

int
pc_fetch_sync(const struct pc_fetch_req *req)
{
	struct job	*j;
	CURLcode	 crc;
	int		 rc;

	if (req == NULL || req->done == NULL || !is_https(req->url))
		return -PC_EINVAL;
	(void)pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return -PC_ENOMEM;
	if ((j = job_new(req)) == NULL)
		return -PC_ENOMEM;
	if ((rc = job_easy(j)) != 0) {
		job_free(j);
		return rc;
	}
	crc = curl_easy_perform(j->easy);
	job_finish(j, crc, NULL);
	job_free(j);
	return 0;
}

void
pc_fetch_on_complete(void (*wake)(void))
{
	__atomic_store_n(&wake_fn, wake, __ATOMIC_RELEASE);
}

void
pc_fetch_on_tick(void (*tick)(uint64_t now_ms))
{
	__atomic_store_n(&tick_fn, tick, __ATOMIC_RELEASE);
}
