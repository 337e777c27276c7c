/*
 * limit/limit.h - the public interface of limit/: counters of failed authentications shared
 * by every worker thread of the process, and the pure decisions made from them (how long to
 * delay an answer, whether a client address is locked out). docs/decisions/0013.
 * Owns: the table (sharded, bounded, keyed by a secret hash), its windows and thresholds.
 * Does not: look at requests, sockets or the configuration file; the caller passes the
 * client address text, the claimed identity, the clock and the thresholds.
 */
#ifndef PC_LIMIT_H
#define PC_LIMIT_H

#include "core/core.h"

/* The thresholds (config failed_auth:, docs/config.md). A reload may change every field but
 * <entries>: the table is made once, from the first configuration. */
struct pc_failures_conf {
	bool		 enabled;
	uint32_t	 window_s;	/* counting window; 60 */
	uint32_t	 delay_after;	/* failures in the window answered without delay; 5 */
	uint32_t	 delay_ms;	/* first delay, doubled per further failure; 250 */
	uint32_t	 max_delay_ms;	/* 4000 */
	uint32_t	 lockout_after;	/* failures of one client address: locked out; 30 */
	uint32_t	 lockout_s;	/* 300 */
	uint32_t	 entries;	/* table size (rounded up per shard); 65536 */
};

#define PC_FAILURES_SHARDS	64u
#define PC_FAILURES_PROBE	8u	/* slots looked at per key: the eviction window */
#define PC_FAILURES_ENTRY_BYTES	32u	/* docs/config.md quotes the memory this gives */

struct pc_failures;

/* Makes a table of at least <entries> (at least 16 per shard, powers of two) with a fresh
 * random hash key. NULL: no memory or no randomness. */
struct pc_failures *pc_failures_new(uint32_t entries);
void		 pc_failures_free(struct pc_failures *t);	/* accepts NULL */
size_t		 pc_failures_bytes(const struct pc_failures *t);	/* memory held */

/* What one failure did (pc_failures_record). */
struct pc_failures_result {
	uint32_t	 delay_ms;		/* hold the answer this long (0: at once) */
	uint32_t	 ip_count, id_count;	/* failures in the window, this one included */
	uint64_t	 locked_until_ms;	/* the address's lockout end, 0 if none */
	bool		 lockout_started;	/* this failure locked the address out */
};

/*
 * Returns the monotonic time (ms, pc_now_ms() clock) until which the client address <ip>
 * (text, as in req->client_ip; IPv6 counts per /64) is locked out, or 0 if it is not at
 * <now_ms>. Takes no lock unless a lockout in the address's shard is still running.
 */
uint64_t	 pc_failures_check(struct pc_failures *t, struct pc_str ip, uint64_t now_ms);

/*
 * Counts one failed authentication from <ip> that claimed to be <claimed_id> (may be empty:
 * then only the address counts). The delay is 0 for the first <delay_after> failures in
 * the window, then delay_ms doubling per further failure up to max_delay_ms, the larger of
 * the address's and the identity's. The address (never the identity: anyone could lock
 * its owner out) is locked out for lockout_s when it reaches lockout_after. Returns the
 * delay in ms; fills <res> if not NULL.
 */
uint32_t	 pc_failures_record(struct pc_failures *t, const struct pc_failures_conf *c,
    struct pc_str ip, struct pc_str claimed_id, uint64_t now_ms,
    struct pc_failures_result *res);

/* A successful authentication of <id> at <now_ms>: forgets that identity's failures (never
 * the address's: one valid credential must not wipe a credential-stuffing count). Takes no
 * lock unless the identity's shard counted a failure in the last two windows. */
void		 pc_failures_success(struct pc_failures *t, const struct pc_failures_conf *c,
    struct pc_str id, uint64_t now_ms);

/* The estimated failures in the window of <ip> (<is_ip>) or of the identity <key> at
 * <now_ms> (tests, and the delay rule). */
uint32_t	 pc_failures_count(struct pc_failures *t, const struct pc_failures_conf *c,
    bool is_ip, struct pc_str key, uint64_t now_ms);

/* The delay rule alone: <n> failures in the window -> ms. */
uint32_t	 pc_failures_delay(const struct pc_failures_conf *c, uint32_t n);

/* The process's table: made at start from the first configuration (cli/serve.c), read by
 * every worker. NULL until then, or when the configuration never enables failed_auth. */
void		 pc_failures_set_process(struct pc_failures *t);
struct pc_failures *pc_failures_process(void);

#endif
