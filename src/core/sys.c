/*
 * core/sys.c - time, randomness and secret wiping: the few system services every module uses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/core.h"
#include "core/banned.h"

uint64_t
pc_now_ms(void)
{
	return pc_now_us() / 1000;
}

uint64_t
pc_now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
pc_wall_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
pc_wall_format(uint64_t wall_us, char out[32])
{
	time_t		t = (time_t)(wall_us / 1000000u);
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL) {
		(void)snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	/* The modulos only tell the compiler the widths; gmtime_r's ranges are smaller. */
	(void)snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
	    (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u, (unsigned)(wall_us / 1000u % 1000u));
}

int
pc_random_bytes(void *out, size_t n)
{
	uint8_t	*p = out;
	ssize_t	 r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return pc_err_errno(errno);
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void
pc_secret_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}
