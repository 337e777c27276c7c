/*
 * bench/jwtverify.c - first-seen JWT verification rate, for `make bench` (bench/auth.sh):
 * pc_jwt_verify() over many distinct tokens, exactly as a worker meets a token it has not
 * cached, so that auth.sh can set it against `openssl speed` for the same algorithm.
 * Owns: its tokens, its issuer, its timing. Does not: touch the verified-token cache (the
 * gateway consults it before pc_jwt_verify, and that is what it skips here), the network,
 * or OpenSSL directly (keys and signatures go through crypto/ and auth/, as in the gateway).
 *
 * Usage: jwtverify -a ES256|EdDSA [-n TOKENS] [-p PASSES] [-m MIN_MS]
 *        jwtverify -a ALG -j JWKS_FILE -t TOKENS_FILE [-p PASSES] [-m MIN_MS]
 * The first form makes one key and TOKENS distinct tokens (each its own sub and jti, so
 * each its own signature) with crypto/; the second reads a JWK Set and one token per line
 * made elsewhere (RS256: crypto/ does not sign RSA). Both use issuer BENCH_ISS, audience
 * BENCH_AUD. A pass verifies every token, over and over until MIN_MS have gone by; the
 * result line gives the median rate of the passes:
 *   result alg=ES256 tokens=2000 passes=5 verifications=... median_per_s=... min_per_s=...
 *   max_per_s=...
 * Any token that does not verify is an error (exit 1): a rate of refusals is no rate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "crypto/crypto.h"
#include "core/banned.h"

#define BENCH_ISS	"https://bench.portcullis.test"
#define BENCH_AUD	"bench"
#define BENCH_KID	"bench-1"
#define TOKENS_MAX	100000
#define PASSES_MAX	99
#define TOKEN_MAX	4096
#define FILE_MAX	(64u * 1024 * 1024)

static void
usage(void)
{
	fprintf(stderr, "usage: jwtverify -a ES256|EdDSA [-n tokens] [-p passes] [-m min_ms]\n"
	    "       jwtverify -a ALG -j jwks_file -t tokens_file [-p passes] [-m min_ms]\n");
	exit(2);
}

static void
fail(const char *what, int rc)
{
	fprintf(stderr, "jwtverify: %s: %s\n", what, pc_strerror(rc));
	exit(1);
}

static void
warn_key(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "jwtverify: key set: %s\n", msg);
}

static unsigned
number(const char *s, uint64_t max, const char *what)
{
	uint64_t v;

	if (pc_parse_u64(pc_str_c(s), max, &v) != 0 || v == 0) {
		fprintf(stderr, "jwtverify: %s: want 1..%llu, got '%s'\n", what,
		    (unsigned long long)max, s);
		exit(2);
	}
	return (unsigned)v;
}

/* The whole of <path>, NUL-terminated, in a heap buffer; at most FILE_MAX bytes. */
static char *
slurp(const char *path, size_t *lenp)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		fprintf(stderr, "jwtverify: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= FILE_MAX) {
				fprintf(stderr, "jwtverify: %s: over %u bytes\n", path, FILE_MAX);
				exit(1);
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				fail("reading a file", -PC_ENOMEM);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "jwtverify: %s: %s\n", path, strerror(errno));
			exit(1);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Splits <text> into lines in place; the non-empty ones become tokens. Returns how many. */
static unsigned
split_tokens(char *text, size_t len, struct pc_str *toks, unsigned max)
{
	unsigned	 n = 0;
	char		*p = text, *end = text + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl > p) {
			if (n == max) {
				fprintf(stderr, "jwtverify: more than %u tokens\n", max);
				exit(1);
			}
			toks[n++] = pc_str_make(p, (size_t)(nl - p));
		}
		p = nl + 1;
	}
	return n;
}

/* One key made here and <n> tokens signed with it; the JWK Set text goes to <jwks>. */
static void
make_tokens(enum pc_jws_alg alg, unsigned n, struct pc_str *toks, char *jwks, size_t cap)
{
	struct pc_skey	*k;
	struct pc_pkey	*pub;
	char		 x[128], y[128], hdr[128], pl[512];
	int64_t		 now = (int64_t)time(NULL);
	struct pc_buf	 b;
	unsigned	 i;
	int		 len, rc;

	if ((rc = pc_skey_generate(alg, &k, &pub)) != 0)
		fail("making a key", rc);
	pc_pkey_free(pub);
	if ((rc = pc_skey_public_jwk(k, x, sizeof(x), y, sizeof(y))) != 0)
		fail("exporting the key", rc);
	if (alg == PC_ALG_ES256)
		len = snprintf(jwks, cap, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\""
		    BENCH_KID "\",\"use\":\"sig\",\"alg\":\"ES256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
		    x, y);
	else
		len = snprintf(jwks, cap, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\""
		    BENCH_KID "\",\"use\":\"sig\",\"alg\":\"EdDSA\",\"x\":\"%s\"}]}", x);
	if (len < 0 || (size_t)len >= cap)
		fail("the key set", -PC_ETOOBIG);
	len = snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"" BENCH_KID "\",\"typ\":"
	    "\"at+jwt\"}", pc_jws_alg_name(alg));
	if (len < 0 || (size_t)len >= sizeof(hdr))
		fail("a header", -PC_ETOOBIG);
	for (i = 0; i < n; i++) {
		/* A distinct sub and jti per token: a distinct signed text, so no two
		 * verifications are of the same bytes. */
		len = snprintf(pl, sizeof(pl), "{\"iss\":\"" BENCH_ISS "\",\"aud\":\"" BENCH_AUD
		    "\",\"sub\":\"user-%u\",\"scope\":\"read write\",\"iat\":%lld,\"exp\":%lld,"
		    "\"jti\":\"bench-%u\"}", i, (long long)now, (long long)(now + 3600), i);
		if (len < 0 || (size_t)len >= sizeof(pl))
			fail("a payload", -PC_ETOOBIG);
		pc_buf_init(&b, TOKEN_MAX);
		rc = pc_jws_compact(k, pc_str_c(hdr), pc_str_make(pl, (size_t)len), &b);
		if (rc != 0)
			fail("signing a token", rc);
		toks[i] = pc_str_make((const char *)b.data, b.len);	/* kept until exit */
	}
	pc_skey_free(k);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static char			 jwks_buf[1024];
	const char			*alg_name = NULL, *jwks_file = NULL, *tok_file = NULL;
	const char			*detail;
	const char *const		 auds[] = { BENCH_AUD };
	const struct pc_jwt_issuer	*list[1];
	struct pc_jwt_issuer		 is;
	struct pc_principal		 p;
	struct pc_jwks			*ks = NULL;
	struct pc_arena			*a;
	struct pc_str			*toks;
	enum pc_jws_alg			 alg;
	enum pc_reason			 reason;
	double				 rates[PASSES_MAX];
	char				 err[256], *text;
	const char			*jwks;
	size_t				 jwks_len, len;
	uint64_t			 t0, t1, done, total = 0, min_us;
	unsigned			 ntok = 2000, passes = 5, min_ms = 600, pass, i;
	int64_t				 now;
	int				 c, rc;

	while ((c = getopt(argc, argv, "a:n:p:m:j:t:")) != -1) {
		switch (c) {
		case 'a':
			alg_name = optarg;
			break;
		case 'n':
			ntok = number(optarg, TOKENS_MAX, "-n");
			break;
		case 'p':
			passes = number(optarg, PASSES_MAX, "-p");
			break;
		case 'm':
			min_ms = number(optarg, 60000, "-m");
			break;
		case 'j':
			jwks_file = optarg;
			break;
		case 't':
			tok_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || alg_name == NULL || (jwks_file == NULL) != (tok_file == NULL))
		usage();
	alg = pc_jws_alg_from_str(pc_str_c(alg_name));
	if (alg == PC_ALG_NONE || pc_jws_alg_is_hmac(alg))
		usage();
	if (jwks_file == NULL && alg != PC_ALG_ES256 && alg != PC_ALG_EDDSA)
		usage();	/* crypto/ signs only these two */

	if ((toks = calloc(TOKENS_MAX, sizeof(*toks))) == NULL)
		fail("tokens", -PC_ENOMEM);
	if (jwks_file != NULL) {
		jwks = slurp(jwks_file, &jwks_len);
		text = slurp(tok_file, &len);
		ntok = split_tokens(text, len, toks, TOKENS_MAX);
		if (ntok == 0) {
			fprintf(stderr, "jwtverify: %s: no tokens\n", tok_file);
			return 1;
		}
	} else {
		make_tokens(alg, ntok, toks, jwks_buf, sizeof(jwks_buf));
		jwks = jwks_buf;
		jwks_len = strlen(jwks_buf);
	}
	if ((rc = pc_jwks_parse(jwks, jwks_len, &ks, warn_key, NULL, err, sizeof(err))) != 0) {
		fprintf(stderr, "jwtverify: key set: %s\n", err);
		return 1;
	}

	/* What `issuers:` makes of a plain static issuer (config/auth_conf.c defaults). */
	memset(&is, 0, sizeof(is));
	is.name = "bench";
	is.iss = BENCH_ISS;
	is.audiences = auds;
	is.naudiences = 1;
	is.algs = 1u << alg;
	is.keys = ks;
	is.leeway_s = 30;
	is.max_lifetime_s = 86400;
	is.max_bytes = PC_JWT_MAX_BYTES_DEFAULT;
	list[0] = &is;
	if ((a = pc_arena_new(256 * 1024)) == NULL)
		fail("arena", -PC_ENOMEM);

	min_us = (uint64_t)min_ms * 1000;
	for (pass = 0; pass < passes; pass++) {
		done = 0;
		now = (int64_t)time(NULL);
		t0 = pc_now_us();
		do {
			for (i = 0; i < ntok; i++) {
				detail = NULL;
				reason = PC_R_NONE;
				rc = pc_jwt_verify(list, 1, toks[i], now, a, &p, &reason, &detail);
				if (rc != 0) {
					fprintf(stderr, "jwtverify: token %u refused: %s (%s)\n", i,
					    pc_reason_name(reason), detail != NULL ? detail : "");
					return 1;
				}
				pc_arena_reset(a);
			}
			done += ntok;
			t1 = pc_now_us();
		} while (t1 - t0 < min_us);
		rates[pass] = (double)done * 1e6 / (double)(t1 - t0);
		total += done;
		printf("pass %u verifications=%llu us=%llu per_s=%.0f\n", pass + 1,
		    (unsigned long long)done, (unsigned long long)(t1 - t0), rates[pass]);
	}
	qsort(rates, passes, sizeof(rates[0]), cmp_double);
	printf("result alg=%s tokens=%u passes=%u verifications=%llu median_per_s=%.0f "
	    "min_per_s=%.0f max_per_s=%.0f\n", pc_jws_alg_name(alg), ntok, passes,
	    (unsigned long long)total, passes % 2 ? rates[passes / 2] :
	    (rates[passes / 2 - 1] + rates[passes / 2]) / 2, rates[0], rates[passes - 1]);
	pc_arena_free(a);
	pc_jwks_free(ks);
	return 0;
}
