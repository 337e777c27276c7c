/*
 * cli/cli.h - the public interface of cli/: one function per command of `portcullis`.
 * Each returns the process exit status.
 */
#ifndef PC_CLI_H
#define PC_CLI_H

#include "config/config.h"

int	pc_cli_run(int argc, char **argv);
int	pc_cli_check(int argc, char **argv);
int	pc_cli_demo(int argc, char **argv);
/* `keys new|list|disable|rotate`: API key stores (cli/keys.c). */
int	pc_cli_keys(int argc, char **argv);
/* Shared by run and demo: serves <conf> (one reference taken) until SIGTERM/SIGINT.
 * SIGHUP reloads from <path> (NULL: nothing to reload), SIGUSR1 reopens the logs. */
int	pc_cli_serve(struct pc_conf *conf, const char *path);
/* Loads the configuration named by "-c FILE"; prints usage (returns 2) or the error
 * "file:line:col: message" (returns 1); 0 with *<conf> and *<path> set. */
int	pc_cli_load(int argc, char **argv, const char *verb, struct pc_conf **conf,
    const char **path);
/* Fetches the first key set of every remote issuer of <conf> that has none yet
 * (synchronously, bounded by its fetch timeout); each failure goes to <report> as
 * "file:line: warning: ...". Returns the number of failures. */
unsigned pc_cli_prime_keys(const struct pc_conf *conf,
    void (*report)(void *arg, const char *msg), void *arg);
/* Finds "-c FILE" / "--config FILE" / "--config=FILE" in argv; NULL if absent. */
const char *pc_cli_config_arg(int argc, char **argv);

#endif
