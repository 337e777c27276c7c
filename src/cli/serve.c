/*
 * cli/serve.c - `portcullis run` and the serving part shared with `demo`: open the logs,
 * publish the configuration, start the admin listener and the workers, then turn signals
 * into drain (TERM/INT), reload (HUP) and log reopening (USR1).
 * Owns: the process lifecycle. The main thread only waits for signals: no request work.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "fetch/fetch.h"
#include "limit/limit.h"
#include "observe/observe.h"
#include "proxy/proxy.h"
#include "sandbox/sandbox.h"
#include "core/banned.h"

const char *
pc_cli_config_arg(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

unsigned
pc_cli_prime_keys(const struct pc_conf *conf, void (*report)(void *arg, const char *msg),
    void *arg)
{
	const struct pc_conf_issuer	*is;
	char				 err[320], msg[512];
	unsigned			 i, nfail = 0;

	for (i = 0; i < conf->nissuers; i++) {
		is = &conf->issuers[i];
		if (is->v.ring == NULL || pc_keyring_prime(is->v.ring, err, sizeof(err)) == 0)
			continue;
		(void)snprintf(msg, sizeof(msg), "%s:%d: warning: issuer '%s': cannot fetch its "
		    "keys: %s (its tokens are refused with 503 until a fetch succeeds)",
		    conf->path != NULL ? conf->path : "<config>", is->line, is->name, err);
		report(arg, msg);
		nfail++;
	}
	return nfail;
}

static void
log_error_msg(void *arg, const char *msg)
{
	(void)arg;
	pc_log_error("%s", msg);
}

static bool
same_addr(const struct pc_addr *a, const struct pc_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/* What a reload cannot change without a restart: sockets and threads already exist. */
static const char *
reload_incompatible(const struct pc_conf *old, const struct pc_conf *neu)
{
	unsigned i;

	if (old->nlisteners != neu->nlisteners)
		return "listen changed";
	for (i = 0; i < old->nlisteners; i++)
		if (!same_addr(&old->listeners[i].addr, &neu->listeners[i].addr))
			return "listen changed";
	if (old->workers != neu->workers)
		return "workers changed";
	if (old->admin_enabled != neu->admin_enabled ||
	    (old->admin_enabled && !same_addr(&old->admin_addr, &neu->admin_addr)))
		return "admin.listen changed";
	if (old->limits.max_connections != neu->limits.max_connections)
		return "limits.max_connections changed";
	if ((old->user == NULL) != (neu->user == NULL) ||
	    (old->user != NULL && strcmp(old->user, neu->user) != 0))
		return "user changed";
	return NULL;
}

static void
reload(struct pc_server *srv, const char *path)
{
	struct pc_conf_diag	 diag;
	struct pc_conf		*neu, *old;
	const char		*why;
	int			 rc;

	if (path == NULL) {
		pc_log_info("reload: the embedded demo configuration does not change");
		return;
	}
	rc = pc_conf_load(path, &neu, &diag);
	if (rc != 0) {
		pc_log_error("reload refused, still serving the previous configuration: %s",
		    diag.text);
		return;
	}
	old = pc_conf_acquire();
	why = reload_incompatible(old, neu);
	/* The key set of the new snapshot keeps the key the old one signed with, so tokens
	 * minted just before the reload still verify (docs/decisions/0014). */
	rc = why == NULL ? pc_minter_follow(neu->minter, old->minter) : 0;
	pc_conf_unref(old);
	if (why != NULL) {
		pc_log_error("reload refused, still serving the previous configuration: %s: "
		    "%s needs a restart", path, why);
		pc_conf_unref(neu);
		return;
	}
	if (rc != 0) {
		pc_log_error("reload refused, still serving the previous configuration: %s: "
		    "gateway_identity: %s", path, rc == -PC_EINVAL ? "the new key has the kid "
		    "of the previous one, which stays published (give the new key another kid)" :
		    pc_strerror(rc));
		pc_conf_unref(neu);
		return;
	}
	rc = pc_observe_open(neu->access_log, neu->event_log);
	if (rc != 0) {
		pc_log_error("reload refused, still serving the previous configuration: "
		    "cannot open logs: %s", pc_strerror(rc));
		pc_conf_unref(neu);
		return;
	}
	pc_tls_tickets_set_rotation(neu->tls_ticket_rotation_s);
	/* Issuers new in this file get their first keys now; kept ones keep their ring. */
	(void)pc_cli_prime_keys(neu, log_error_msg, NULL);
	pc_conf_publish(neu);
	pc_server_reload(srv);
	pc_log_info("reloaded %s", path);
}

int
pc_cli_serve(struct pc_conf *conf, const char *path)
{
	struct pc_server	*srv;
	sigset_t		 set;
	siginfo_t		 si;
	char			 err[256];
	uint32_t		 drain_ms = conf->drain_timeout_ms;
	bool			 admin = conf->admin_enabled;
	struct pc_failures	*failures;
	int			 rc, sig;

	/* Block before any thread starts: every thread inherits the mask, and only this
	 * one takes signals, synchronously, with sigwaitinfo. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	rc = pc_observe_open(conf->access_log, conf->event_log);
	if (rc != 0) {
		(void)fprintf(stderr, "portcullis: cannot open logs (%s, %s): %s\n",
		    conf->access_log, conf->event_log, pc_strerror(rc));
		pc_conf_unref(conf);
		return 1;
	}
	pc_tls_tickets_set_rotation(conf->tls_ticket_rotation_s);
	/* Remote key sets: the fetch thread (signals already blocked, as for every thread)
	 * refreshes them and wakes the workers parked on a fetch; the first set of each is
	 * fetched here, before the first request. A failure does not stop the start: those
	 * tokens get 503 until a retry succeeds. */
	rc = pc_fetch_start();
	if (rc != 0) {
		(void)fprintf(stderr, "portcullis: cannot start the fetch thread: %s\n",
		    pc_strerror(rc));
		pc_conf_unref(conf);
		return 1;
	}
	pc_fetch_on_complete(pc_server_wake);
	(void)pc_cli_prime_keys(conf, log_error_msg, NULL);
	/* Failed-login counters outlive reloads (a reload must not forgive a lockout): one
	 * table for the process, sized by the first configuration (docs/decisions/0013). */
	failures = pc_failures_new(conf->failed_auth.entries);
	if (failures == NULL) {
		(void)fprintf(stderr, "portcullis: cannot make the failed-login table (%u "
		    "entries)\n", conf->failed_auth.entries);
		pc_conf_unref(conf);
		return 1;
	}
	pc_failures_set_process(failures);
	pc_conf_publish(conf);
	if (admin && pc_admin_bind(&conf->admin_addr) != 0) {
		(void)fprintf(stderr, "portcullis: cannot start the admin listener on %s\n",
		    conf->admin_addr.text);
		return 1;
	}
	srv = pc_server_start(conf, err, sizeof(err));
	if (srv == NULL) {
		(void)fprintf(stderr, "portcullis: %s\n", err);
		if (admin)
			pc_admin_stop();
		return 1;
	}
	/* Everything privileged is done (sockets bound, logs open): restrict, then accept
	 * the first connection; or stop (fail closed). */
	rc = pc_sandbox_drop(conf->user, err, sizeof(err));
	if (rc == 0 && admin && pc_admin_run() != 0) {
		(void)snprintf(err, sizeof(err), "cannot start the admin listener");
		rc = -PC_EIO;
	}
	if (rc == 0)
		rc = pc_server_run(srv, err, sizeof(err));
	if (rc != 0) {
		(void)fprintf(stderr, "portcullis: %s\n", err);
		pc_server_stop(srv, 0);
		if (admin)
			pc_admin_stop();
		return 1;
	}
	for (;;) {
		sig = sigwaitinfo(&set, &si);
		if (sig == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sig == SIGHUP) {
			reload(srv, path);
		} else if (sig == SIGUSR1) {
			rc = pc_observe_reopen();
			if (rc != 0)
				pc_log_error("log reopen failed: %s", pc_strerror(rc));
			else
				pc_log_info("logs reopened");
		} else if (sig == SIGTERM || sig == SIGINT) {
			break;
		}
	}
	pc_log_info("shutting down: draining in-flight requests (up to %u ms)", drain_ms);
	pc_server_stop(srv, drain_ms);
	pc_fetch_stop();
	if (admin)
		pc_admin_stop();
	pc_log_info("stopped");
	pc_observe_close();
	pc_failures_set_process(NULL);
	pc_failures_free(failures);
	return 0;
}

int
pc_cli_load(int argc, char **argv, const char *verb, struct pc_conf **conf,
    const char **path)
{
	struct pc_conf_diag diag;

	*path = pc_cli_config_arg(argc, argv);
	if (*path == NULL) {
		(void)fprintf(stderr, "usage: portcullis %s -c FILE\n", verb);
		return 2;
	}
	if (pc_conf_load(*path, conf, &diag) != 0) {
		(void)fprintf(stderr, "%s\n", diag.text);
		return 1;
	}
	return 0;
}

int
pc_cli_run(int argc, char **argv)
{
	struct pc_conf	*conf;
	const char	*path;
	int		 rc;

	rc = pc_cli_load(argc, argv, "run", &conf, &path);
	if (rc != 0)
		return rc;
	return pc_cli_serve(conf, path);
}
