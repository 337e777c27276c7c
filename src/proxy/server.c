/*
 * proxy/server.c - worker threads and listeners: one epoll loop per worker, one
 * SO_REUSEPORT socket per listener per worker, accept, configuration snapshots per worker,
 * reload notification and drain.
 * Owns: threads and listening sockets. Shares nothing between workers but the published
 * configuration (config/) and the observe/ counters.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "observe/observe.h"
#include "proxy/proxy_int.h"
#include "core/banned.h"

struct pc_server {
	struct worker	*workers;
	unsigned	 nworkers;
	int		 stop;		/* atomic: 1 = drain requested */
	uint32_t	 drain_ms;
	unsigned	 open_conns;	/* atomic: client connections, all workers */
	uint32_t	 max_conns;
	unsigned	 started;	/* worker threads running */
	unsigned	 nlisteners;
	char		(*listen_text)[64];	/* for the "listening on" lines */
};

/* The server pc_server_wake() reaches: set while workers run. The lock makes a wake from
 * another thread (the fetch thread) safe against pc_server_stop freeing the workers. */
static pthread_mutex_t	 wake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pc_server	*wake_srv;

static struct confslot *
slot_new(struct pc_conf *conf)
{
	struct confslot *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->rr = calloc(conf->nupstreams ? conf->nupstreams : 1, sizeof(*s->rr));
	if (s->rr == NULL) {
		free(s);
		return NULL;
	}
	s->conf = conf;
	return s;
}

static void
slot_free(struct confslot *s)
{
	pc_conf_unref(s->conf);
	free(s->rr);
	free(s);
}

void
pc_worker_conf_release(struct worker *w, struct confslot *slot)
{
	struct confslot **pp;

	PC_ASSERT(slot->users > 0);
	if (--slot->users > 0 || slot == w->cur)
		return;
	/* The last request of a retired configuration: in-flight requests finished on the
	 * old snapshot, as reload promises; now it can go. */
	for (pp = &w->retired; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == slot) {
			*pp = slot->next;
			break;
		}
	}
	slot_free(slot);
}

/* Picks up a newly published configuration, if any. */
/*
 * The verified-token cache (token_cache.entries) is made with the first configuration that
 * has issuers, at start or by a reload, and then kept: a reload never frees it (requests,
 * parked ones too, hold its pointer) and cannot resize it; entries of an older snapshot
 * miss by their serial. Without memory the worker verifies every token.
 */
static void
worker_token_cache(struct worker *w)
{
	const struct pc_conf *conf = w->cur->conf;

	if (w->jwt_cache == NULL && conf->auth_cache_entries > 0 && conf->nissuers > 0)
		w->jwt_cache = pc_jwt_cache_new(conf->auth_cache_entries);
}

static void
worker_check_conf(struct worker *w)
{
	uint64_t	 gen = pc_conf_generation();
	struct pc_conf	*conf;
	struct confslot	*s, *old;

	if (gen == w->conf_gen)
		return;
	conf = pc_conf_acquire();
	if (conf == NULL)
		return;
	s = slot_new(conf);
	if (s == NULL) {
		pc_conf_unref(conf);
		return;	/* keep serving on the old one; the next notify retries */
	}
	w->conf_gen = gen;
	old = w->cur;
	w->cur = s;
	worker_token_cache(w);
	if (old->users == 0) {
		slot_free(old);
	} else {
		old->next = w->retired;
		w->retired = old;
	}
}

static void
close_listeners(struct worker *w)
{
	unsigned i;

	for (i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].io.fd < 0)
			continue;
		pc_loop_del(w->loop, &w->listeners[i].io);
		close(w->listeners[i].io.fd);
		w->listeners[i].io.fd = -1;
	}
}

static void
drain_timeout_cb(struct pc_loop *loop, struct pc_timer *t)
{
	struct worker	*w = (struct worker *)((char *)t - offsetof(struct worker, drain_timer));
	struct conn	*c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		pc_conn_close(c);
	}
	pc_loop_stop(loop);
}

static void
worker_notify_cb(struct pc_loop *loop, void *arg)
{
	struct worker *w = arg;

	worker_check_conf(w);
	if (__atomic_exchange_n(&w->wake, 0, __ATOMIC_ACQ_REL))
		pc_ex_wake_parked(w);
	if (__atomic_load_n(&w->srv->stop, __ATOMIC_ACQUIRE) && !w->draining) {
		w->draining = true;
		close_listeners(w);
		pc_conn_drain(w);
		if (w->nconns == 0) {
			pc_loop_stop(loop);
			return;
		}
		pc_timer_arm(loop, &w->drain_timer, w->srv->drain_ms);
	}
}

static void
worker_iter_cb(struct pc_loop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	pc_observe_flush();
}

static void
accept_cb(struct pc_loop *loop, struct pc_io *io, unsigned events)
{
	struct listener		*l = (struct listener *)io;
	struct worker		*w = l->w;
	struct pc_server	*srv = w->srv;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, one = 1;

	(void)loop;
	(void)events;
	for (;;) {
		len = sizeof(ss);
		fd = accept4(io->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EAGAIN: drained (edge-triggered). EMFILE/ENFILE: the kernel queue keeps
			 * the rest; they are retried on the next connection edge. */
			if (errno != EAGAIN)
				pc_log_error("accept: %s", strerror(errno));
			return;
		}
		if (__atomic_add_fetch(&srv->open_conns, 1, __ATOMIC_RELAXED) > srv->max_conns) {
			/* Over the process-wide cap: shed at once, before any byte is read. */
			__atomic_sub_fetch(&srv->open_conns, 1, __ATOMIC_RELAXED);
			pc_metrics_reject(PC_R_OVERLOAD);
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pc_conn_accept(w, l->idx, fd, &ss);
	}
}

void
pc_worker_conn_closed(struct worker *w)
{
	__atomic_sub_fetch(&w->srv->open_conns, 1, __ATOMIC_RELAXED);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	sigset_t	 all;
	int		 rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);	/* signals belong to the main thread */
	rc = pc_loop_run(w->loop);
	if (rc != 0)
		pc_log_error("worker %u: event loop failed: %s", w->id, pc_strerror(rc));
	pc_observe_flush();
	return NULL;
}

/*
 * A socket bound to <a>. With <reuseport> false it is only a probe: SO_REUSEPORT lets any
 * process of the same user bind the same port and silently take a share of the
 * connections, so a second gateway started by mistake would split traffic with the first;
 * a plain bind first fails if anything holds the address. With <reuseport> true it is a
 * worker's listener (non-blocking, listening). Returns the fd, or -1 with <err> set.
 */
static int
bind_socket(const struct pc_addr *a, bool reuseport, char *err, size_t errlen)
{
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1))
		goto fail;
	if (a->ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    (reuseport && listen(fd, 4096) == -1))
		goto fail;
	return fd;
fail:
	(void)snprintf(err, errlen, "listen %s: %s%s", a->text, strerror(errno),
	    errno == EADDRINUSE ? " (another process, or another portcullis, holds it)" : "");
	if (fd != -1)
		close(fd);
	return -1;
}

static void
worker_fini(struct worker *w)
{
	struct confslot *s, *n;

	close_listeners(w);
	pc_up_worker_fini(w);
	pc_loop_free(w->loop);	/* runs the deferred frees */
	pc_cache_fini(w);
	pc_jwt_cache_free(w->jwt_cache);
	for (s = w->retired; s != NULL; s = n) {
		n = s->next;
		slot_free(s);
	}
	if (w->cur != NULL)
		slot_free(w->cur);
	free(w->listeners);
}

struct pc_server *
pc_server_start(const struct pc_conf *conf, char *err, size_t errlen)
{
	struct pc_server	*srv;
	struct worker		*w;
	unsigned		 i, j;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		goto nomem;
	srv->nworkers = conf->workers ? conf->workers : 1;
	srv->max_conns = conf->limits.max_connections;
	srv->workers = calloc(srv->nworkers, sizeof(*srv->workers));
	if (srv->workers == NULL)
		goto nomem;
	for (j = 0; j < conf->nlisteners; j++) {
		int probe = bind_socket(&conf->listeners[j].addr, false, err, errlen);

		if (probe == -1)
			goto fail;
		close(probe);
	}
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		w->srv = srv;
		w->id = i;
		w->drain_timer.cb = drain_timeout_cb;
		w->loop = pc_loop_new();
		w->listeners = calloc(conf->nlisteners, sizeof(*w->listeners));
		w->cur = slot_new(pc_conf_acquire());
		if (w->loop == NULL || w->listeners == NULL || w->cur == NULL)
			goto nomem;
		worker_token_cache(w);
		w->conf_gen = pc_conf_generation();
		pc_loop_set_data(w->loop, w);
		pc_loop_on_notify(w->loop, worker_notify_cb, w);
		pc_loop_on_iteration(w->loop, worker_iter_cb, w);
		w->nlisteners = conf->nlisteners;
		for (j = 0; j < conf->nlisteners; j++)
			w->listeners[j].io.fd = -1;
		for (j = 0; j < conf->nlisteners; j++) {
			struct listener *l = &w->listeners[j];

			l->w = w;
			l->io.cb = accept_cb;
			l->idx = j;
			l->io.fd = bind_socket(&conf->listeners[j].addr, true, err, errlen);
			if (l->io.fd == -1)
				goto fail;
			if (pc_loop_add(w->loop, &l->io) != 0) {
				(void)snprintf(err, errlen, "listen %s: epoll failed",
				    conf->listeners[j].addr.text);
				goto fail;
			}
		}
	}
	srv->listen_text = calloc(conf->nlisteners, sizeof(*srv->listen_text));
	if (srv->listen_text == NULL)
		goto nomem;
	srv->nlisteners = conf->nlisteners;
	for (j = 0; j < conf->nlisteners; j++)
		memcpy(srv->listen_text[j], conf->listeners[j].addr.text,
		    sizeof(srv->listen_text[j]));
	return srv;
nomem:
	(void)snprintf(err, errlen, "out of memory starting workers");
fail:
	if (srv != NULL) {
		__atomic_store_n(&srv->stop, 1, __ATOMIC_RELEASE);
		srv->drain_ms = 0;
		for (i = 0; i < srv->started; i++) {
			pc_loop_notify(srv->workers[i].loop);
			pthread_join(srv->workers[i].thread, NULL);
		}
		for (i = 0; srv->workers != NULL && i < srv->nworkers; i++)
			if (srv->workers[i].loop != NULL || srv->workers[i].listeners != NULL)
				worker_fini(&srv->workers[i]);
		free(srv->workers);
		free(srv->listen_text);
		free(srv);
	}
	return NULL;
}

int
pc_server_run(struct pc_server *srv, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < srv->nworkers; i++) {
		if (pthread_create(&srv->workers[i].thread, NULL, worker_main,
		    &srv->workers[i]) != 0) {
			(void)snprintf(err, errlen, "cannot start worker threads");
			return -PC_ENOMEM;
		}
		srv->started++;
	}
	for (i = 0; i < srv->nlisteners; i++)
		pc_log_info("listening on %s", srv->listen_text[i]);
	pthread_mutex_lock(&wake_lock);
	wake_srv = srv;
	pthread_mutex_unlock(&wake_lock);
	return 0;
}

void
pc_server_wake(void)
{
	unsigned i;

	pthread_mutex_lock(&wake_lock);
	for (i = 0; wake_srv != NULL && i < wake_srv->started; i++) {
		__atomic_store_n(&wake_srv->workers[i].wake, 1, __ATOMIC_RELEASE);
		pc_loop_notify(wake_srv->workers[i].loop);
	}
	pthread_mutex_unlock(&wake_lock);
}

void
pc_server_reload(struct pc_server *srv)
{
	unsigned i;

	for (i = 0; i < srv->nworkers; i++)
		pc_loop_notify(srv->workers[i].loop);
}

void
pc_server_stop(struct pc_server *srv, uint32_t drain_ms)
{
	unsigned i;

	pthread_mutex_lock(&wake_lock);
	if (wake_srv == srv)
		wake_srv = NULL;
	pthread_mutex_unlock(&wake_lock);
	srv->drain_ms = drain_ms;
	__atomic_store_n(&srv->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < srv->started; i++)
		pc_loop_notify(srv->workers[i].loop);
	for (i = 0; i < srv->started; i++)
		pthread_join(srv->workers[i].thread, NULL);
	for (i = 0; i < srv->nworkers; i++)
		worker_fini(&srv->workers[i]);
	free(srv->workers);
	free(srv->listen_text);
	free(srv);
}
