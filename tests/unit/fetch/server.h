/*
 * tests/unit/fetch/server.h - starts tests/unit/fetch/https_server.py for a unit test (its
 * CA files and port in a fresh temporary directory) and stops it by its PID.
 */
#ifndef PC_TEST_FETCH_SERVER_H
#define PC_TEST_FETCH_SERVER_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fetch/fetch.h"

struct test_server {
	pid_t	 pid;
	int	 port;
	char	 dir[64];
	char	 ca[128], other_ca[128];
	char	 base[64];	/* https://127.0.0.1:PORT */
};

static int
test_server_start(struct test_server *s)
{
	char		 path[160];
	FILE		*f;
	int		 i;

	memset(s, 0, sizeof(*s));
	(void)snprintf(s->dir, sizeof(s->dir), "/tmp/pc-fetch-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	s->pid = fork();
	if (s->pid == -1)
		return -1;
	if (s->pid == 0) {
		execl("/usr/bin/python3", "python3", "tests/unit/fetch/https_server.py", s->dir,
		    (char *)NULL);
		_exit(127);
	}
	(void)snprintf(path, sizeof(path), "%s/port", s->dir);
	for (i = 0; i < 200; i++) {	/* 20 s: key generation in Python is quick */
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%d", &s->port) != 1)
				s->port = 0;
			(void)fclose(f);
			if (s->port > 0)
				break;
		}
		(void)usleep(100000);
	}
	if (s->port <= 0)
		return -1;
	(void)snprintf(s->ca, sizeof(s->ca), "%s/ca.pem", s->dir);
	(void)snprintf(s->other_ca, sizeof(s->other_ca), "%s/other-ca.pem", s->dir);
	(void)snprintf(s->base, sizeof(s->base), "https://127.0.0.1:%d", s->port);
	return 0;
}

static void
test_server_stop(struct test_server *s)
{
	static const char *const files[] = { "ca.pem", "other-ca.pem", "srv.pem", "srv.key",
		"port" };
	char		 path[160];
	unsigned	 i;

	if (s->pid > 0) {
		(void)kill(s->pid, SIGTERM);
		(void)waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0] == '\0')
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", s->dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(s->dir);
}

/* The group's server and fetch thread, for cmocka_run_group_tests (test_fetch.c and
 * auth/test_keyring.c both run against them). */
static struct test_server srv;

static int
test_server_setup(void **state)
{
	(void)state;
	if (test_server_start(&srv) != 0) {
		test_server_stop(&srv);
		return -1;
	}
	return pc_fetch_start() == 0 ? 0 : -1;
}

static int
test_server_teardown(void **state)
{
	(void)state;
	pc_fetch_stop();
	test_server_stop(&srv);
	return 0;
}

#endif
