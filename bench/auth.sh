# bench/auth.sh - the identity part of `make bench` (issue 4, "Targets"), sourced by
# bench/run.sh when BENCH_AUTH=1 (the default): it uses run.sh's helpers (measure, run_wrk,
# quiet_gate, median, ratio, fmt) and its layout (proxy on CPU 0, backend and clients on
# CPU 1). Three measurements, each with its target; a missed target is reported as FAIL
# but does not fail the run (the machine is shared and noisy); errors still do:
#   1. cached JWT vs no authentication: one portcullis with two routes to the same backend,
#      "public: true" and "auth: [bench]" (ES256, static jwks_file); wrk rounds alternate
#      between them, the auth ones with one good token (verified once, then cached).
#      Target: auth req/s >= 0.95 x public req/s.
#   2. first-seen verification vs OpenSSL: build/release/bench/jwtverify (bench/jwtverify.c,
#      pc_jwt_verify over many distinct tokens, no cache) against `openssl speed -seconds 2`
#      verify/s, both on CPU 0, alternating 3 times (AUTH_CRYPTO_ROUNDS), medians: ES256 (ecdsap256, the target), EdDSA (ed25519) and RS256
#      (rsa2048). Target: openssl/portcullis <= 1.2.
#   3. invalid-token flood: the auth route's valid wrk traffic from 127.0.0.1, alone and
#      then with bench/flood.c sending tokens with bad signatures (each one different) from
#      127.0.0.2 as fast as it is answered, alternating. failed_auth: as configured by
#      default (on, since a route authenticates): the flooding address is slowed down, then
#      locked out. Target: valid req/s with flood >= 0.90 x without.
# Owns: build/bench/run/auth/ (keys, tokens, the configuration), build/bench/rounds-auth-*.tsv,
# the "Identity" section of results.md, and the portcullis and flood processes it starts
# (stopped by run.sh's cleanup, by PID). Environment: BENCH_FLOOD_CONNS (8) connections of
# the flood; BENCH_FLOOD_ROUNDS (3) rounds per side of part 3, fewer than BENCH_ROUNDS so
# that the whole `make bench` stays near 10 minutes (its target, 0.90, is the loosest);
# part 1 has BENCH_ROUNDS; rounds last BENCH_SECS, as everywhere.

PORT_PC_AUTH=18084
AUTH_ISS=https://bench.portcullis.test	# jwtverify.c's BENCH_ISS and BENCH_AUD
AUTH_AUD=bench
FLOOD_CONNS=${BENCH_FLOOD_CONNS:-8}
FLOOD_ROUNDS=${BENCH_FLOOD_ROUNDS:-3}
FLOOD_SRC=127.0.0.2	# loopback on Linux: a second client address without any setup
JWTVERIFY=$ROOT/build/release/bench/jwtverify
AUTH_FLOOD=0		# 1: auth_load runs the flood next to wrk
AUTH_PATH=/public/hello
AUTH_HDR=""
AUTH_FA="default"	# what failed_auth: the configuration has (reported)

# auth_preflight: before anything runs, so that a missing piece stops the run at once.
auth_preflight()
{
	case "$FLOOD_CONNS$FLOOD_ROUNDS" in
	''|*[!0-9]*) die "BENCH_FLOOD_CONNS, BENCH_FLOOD_ROUNDS: integers" ;;
	esac
	[ "$FLOOD_CONNS" -ge 1 ] && [ "$FLOOD_ROUNDS" -ge 1 ] ||
	    die "BENCH_FLOOD_CONNS and BENCH_FLOOD_ROUNDS must be at least 1"
	command -v openssl >/dev/null 2>&1 || die "openssl not found (make deps installs it)"
	/usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null ||
	    die "python3-jwt and python3-cryptography needed for the identity part (make deps)"
	port_free $PORT_PC_AUTH ||
	    die "port $PORT_PC_AUTH is in use: $(ss -Hltnp "sport = :$PORT_PC_AUTH" | head -n 1)"
	# `make bench` builds it; `sh bench/run.sh` alone may not have.
	make --no-print-directory -s -C "$ROOT" build/release/bench/jwtverify >&2 ||
	    die "cannot build $JWTVERIFY"
}

# auth_keys DIR: the issuer's ES256 key as a JWK Set, a good token (1 h), the same token
# signed by another key (the flood's "bad signature"), and for jwtverify an RSA-2048 JWK
# Set with 500 distinct RS256 tokens (crypto/ signs only ES256 and EdDSA).
auth_keys()
{
	/usr/bin/python3 - "$1" "$AUTH_ISS" "$AUTH_AUD" 500 <<'EOF' ||
import base64, json, os, sys, time
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm

d, iss, aud, nrs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def put(name, text):
    with open(os.path.join(d, name), "w") as f:
        f.write(text)


def ec_jwk(key, kid):
    # x and y at their full 32 bytes (RFC 7518 6.2.1.2): the gateway refuses shorter ones.
    n = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}


now = int(time.time())
claims = {"iss": iss, "aud": aud, "sub": "bench-user", "scope": "read", "iat": now,
          "exp": now + 3600}
hdr = {"kid": "bench-1", "typ": "at+jwt"}
good = ec.generate_private_key(ec.SECP256R1())
other = ec.generate_private_key(ec.SECP256R1())
put("jwks.json", json.dumps({"keys": [ec_jwk(good, "bench-1")]}))
tok = jwt.encode(claims, good, algorithm="ES256", headers=hdr)
bad = jwt.encode(claims, other, algorithm="ES256", headers=hdr)
assert tok.rsplit(".", 1)[0] == bad.rsplit(".", 1)[0]
put("token.good", tok)
put("token.bad", bad)

rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
j = json.loads(RSAAlgorithm.to_jwk(rk.public_key()))
j.update({"kid": "bench-rs", "use": "sig", "alg": "RS256"})
put("rs256-jwks.json", json.dumps({"keys": [j]}))
toks = []
for i in range(nrs):
    c = dict(claims, sub="user-%d" % i, jti="bench-%d" % i)
    toks.append(jwt.encode(c, rk, algorithm="RS256", headers={"kid": "bench-rs"}))
put("rs256-tokens.txt", "\n".join(toks) + "\n")
EOF
	    die "cannot make the bench keys and tokens"
}

# auth_conf FILE [failed_auth]: one listener, the shared backend, issuer "bench", and the
# two routes; "failed_auth" writes the key explicitly (failed_auth: true).
auth_conf()
{
	{
		cat <<EOF
# generated by bench/auth.sh
workers: 1
listen:
  - 127.0.0.1:$PORT_PC_AUTH
EOF
		pc_conf_common
		cat <<EOF
issuers:
  bench:
    issuer: $AUTH_ISS
    audiences: [$AUTH_AUD]
    algorithms: [ES256]
    jwks_file: $AUTH_DIR/jwks.json
EOF
		[ "${2:-}" = failed_auth ] && echo "failed_auth: true"
		pc_conf_backend
		cat <<EOF
routes:
  - name: public
    path: /public/**
    upstream: backend
    public: true
  - name: jwt
    path: /jwt/**
    upstream: backend
    auth: [bench]
EOF
	} >"$1"
}

# auth_slot NAME: run.sh's slot() for the identity slots (all on this part's portcullis).
auth_slot()
{
	NAME=$1; PORT=$PORT_PC_AUTH; TPORT=$PORT_PC_AUTH; HPORT=$PORT_PC_AUTH; WPID=$AUTH_W
	AUTH_FLOOD=0
	case "$1" in
	public)	AUTH_PATH=/public/hello; AUTH_HDR="" ;;
	jwt)	AUTH_PATH=/jwt/hello; AUTH_HDR="Authorization: Bearer $AUTH_TOKEN" ;;
	valid)	AUTH_PATH=/jwt/hello; AUTH_HDR="Authorization: Bearer $AUTH_TOKEN" ;;
	flooded) AUTH_PATH=/jwt/hello; AUTH_HDR="Authorization: Bearer $AUTH_TOKEN"
		AUTH_FLOOD=1 ;;
	*)	die "unknown slot $1" ;;
	esac
}

# auth_load PORT SECS OUTFILE: run_wrk's load for LOAD=auth: wrk as everywhere, on
# AUTH_PATH with AUTH_HDR; with AUTH_FLOOD=1 the flood runs from 127.0.0.2 meanwhile (its
# line in OUTFILE.flood). Returns wrk's status. The flood is waited for, so its CPU time
# counts as ours on CPU 1, like wrk's.
auth_load()
{
	fpid=""
	if [ "$AUTH_FLOOD" = 1 ]; then
		taskset -c 1 "$FLOOD" -p "$1" -s $FLOOD_SRC -c "$FLOOD_CONNS" -u /jwt/hello -x \
		    -t "$AUTH_BAD" >"$3.flood" 2>&1 &
		fpid=$!
		PIDS="$fpid $PIDS"
	fi
	if [ -n "$AUTH_HDR" ]; then
		timeout $(($2 + 30)) taskset -c 1 wrk -t$WRK_THREADS -c$WRK_CONNS -d"$2"s \
		    --latency -H "$AUTH_HDR" "http://127.0.0.1:$1$AUTH_PATH" >"$3" 2>&1
	else
		timeout $(($2 + 30)) taskset -c 1 wrk -t$WRK_THREADS -c$WRK_CONNS -d"$2"s \
		    --latency "http://127.0.0.1:$1$AUTH_PATH" >"$3" 2>&1
	fi
	lrc=$?
	if [ -n "$fpid" ]; then
		kill -TERM "$fpid" 2>/dev/null
		wait "$fpid"
		if ! grep -q '^flood ' "$3.flood"; then
			cat "$3.flood" >&2
			die "the flood (pid $fpid) did not report; see $3.flood"
		fi
	fi
	return $lrc
}

# auth_check NAME PATH WANT [curl args]: one request through the auth portcullis.
auth_check()
{
	n=$1; p=$2; w=$3
	shift 3
	code=$(curl -s -m 5 -o "$AUTH_DIR/$n.out" -w '%{http_code}' "$@" \
	    "http://127.0.0.1:$PORT_PC_AUTH$p")
	if [ "$code" != "$w" ]; then
		show_log "$AUTH_DIR/stderr.log"
		die "identity: $n on $p answered '$code' '$(head -c 200 "$AUTH_DIR/$n.out")', want $w"
	fi
}

auth_start()
{
	AUTH_DIR=$RUN/auth
	mkdir -p "$AUTH_DIR"
	auth_keys "$AUTH_DIR"
	AUTH_TOKEN=$(cat "$AUTH_DIR/token.good")
	AUTH_BAD=$(cat "$AUTH_DIR/token.bad")
	FLOOD=$RUN/flood
	cc -std=gnu11 -D_GNU_SOURCE -Isrc -O2 -Wall -Wextra -Werror -o "$FLOOD" bench/flood.c ||
	    die "cannot compile bench/flood.c"
	# failed_auth: is on by default here (a route authenticates); say so explicitly if
	# this build knows the key, else leave it out and report that.
	auth_conf "$AUTH_DIR/portcullis.yaml" failed_auth
	if "$ROOT/portcullis" check -c "$AUTH_DIR/portcullis.yaml" >"$AUTH_DIR/check.log" 2>&1
	then
		AUTH_FA="true (its defaults)"
	else
		say "identity: portcullis does not accept failed_auth ($(head -n 1 \
		    "$AUTH_DIR/check.log")): running without the key"
		AUTH_FA="omitted (not accepted by this build)"
		auth_conf "$AUTH_DIR/portcullis.yaml"
		"$ROOT/portcullis" check -c "$AUTH_DIR/portcullis.yaml" >"$AUTH_DIR/check.log" 2>&1 ||
		    { cat "$AUTH_DIR/check.log" >&2; die "identity: configuration refused"; }
	fi
	taskset -c 0 "$ROOT/portcullis" run -c "$AUTH_DIR/portcullis.yaml" \
	    >"$AUTH_DIR/stdout.log" 2>"$AUTH_DIR/stderr.log" &
	AUTH_PID=$!
	PIDS="$AUTH_PID $PIDS"
	wait_listen portcullis-auth "$AUTH_PID" "$PORT_PC_AUTH" "$AUTH_DIR/stderr.log"
	AUTH_W=$(worker_of portcullis-auth "$AUTH_PID") || exit 1
	auth_check public /public/hello 200
	auth_check jwt /jwt/hello 200 -H "Authorization: Bearer $AUTH_TOKEN"
	auth_check missing /jwt/hello 401
	# The bad token from the flood's address only: a failure counted against 127.0.0.1
	# would slow the valid client down.
	auth_check bad /jwt/hello 401 --interface $FLOOD_SRC -H "Authorization: Bearer $AUTH_BAD"
	say "identity: portcullis pid $AUTH_PID on port $PORT_PC_AUTH; failed_auth: $AUTH_FA"
}

# auth_cpu0 OUTFILE CMD...: runs CMD on CPU 0 into OUTFILE; a run during which other work
# used more than DISTURB_PCT of CPU 0 is repeated (up to RETRIES), as the wrk rounds are.
auth_cpu0()
{
	a_out=$1
	shift
	a_what="$(basename "$1") ${2:-}"
	a_try=1
	while :; do
		quiet_gate
		kids_ticks
		a_k0=$KIDS
		a_c0=$(cpu0_ticks)
		a_t0=$(date +%s%N)
		taskset -c 0 "$@" >"$a_out" 2>&1 || { cat "$a_out" >&2; return 1; }
		a_t1=$(date +%s%N)
		a_c1=$(cpu0_ticks)
		kids_ticks
		a_k1=$KIDS
		a_other=$(awk -v c0="$a_c0" -v c1="$a_c1" -v k="$((a_k1 - a_k0))" -v hz="$HZ" \
		    -v ns="$((a_t1 - a_t0))" 'BEGIN {
			split(c0, a, " "); split(c1, b, " ")
			o = b[1] - a[1] - k
			if (o < 0) o = 0
			printf "%.0f", o / hz * 100 / (ns / 1e9) }')
		[ "$a_other" -le "$DISTURB_PCT" ] && return 0
		if [ "$a_try" -gt "$RETRIES" ]; then
			say "identity: $a_what: other work used ${a_other}% of CPU 0: kept, flagged"
			DISTURBED=$((DISTURBED + 1))
			return 0
		fi
		say "identity: $a_what: other work used ${a_other}% of CPU 0: repeating it"
		a_try=$((a_try + 1))
		REPEATS=$((REPEATS + 1))
	done
}

# auth_crypto ALG SPEED_NAME SPEED_LINE [jwtverify args]: one row of part 2, into AUTH_CRYPTO.
# openssl speed and jwtverify alternate AUTH_CRYPTO_ROUNDS (3) times and each side's median
# is taken: run once each, one after the other, the ratio followed the CPU's clock between
# the two runs (openssl's own ES256 rate moved from 10,800 to 13,000/s from one full run
# to the next).
auth_crypto()
{
	c_alg=$1; c_speed=$2; c_line=$3
	shift 3
	c_tsv=$RUN/auth-crypto-$c_alg.tsv
	: >"$c_tsv"
	c_i=1
	while [ "$c_i" -le "${AUTH_CRYPTO_ROUNDS:-3}" ]; do
		c_o=$RUN/auth-openssl-$c_alg-$c_i.txt
		c_j=$RUN/auth-jwtverify-$c_alg-$c_i.txt
		if ! auth_cpu0 "$c_o" openssl speed -seconds 2 "$c_speed"; then
			say "identity: openssl speed $c_speed failed"
			FAILED=1
			return 0
		fi
		if ! auth_cpu0 "$c_j" "$JWTVERIFY" -a "$c_alg" "$@"; then
			say "identity: jwtverify $c_alg failed"
			FAILED=1
			return 0
		fi
		c_ossl=$(awk -v l="$c_line" 'index($0, l) { v = $NF } END { print v }' "$c_o")
		c_ours=$(sed -n 's/^result .*median_per_s=\([0-9]*\).*/\1/p' "$c_j")
		if [ -z "$c_ossl" ] || [ -z "$c_ours" ]; then
			say "identity: no rate in $c_o or $c_j"
			FAILED=1
			return 0
		fi
		printf 'openssl\t%s\nours\t%s\n' "$c_ossl" "$c_ours" >>"$c_tsv"
		c_i=$((c_i + 1))
	done
	ossl=$(median "$c_tsv" openssl 2)
	ours=$(median "$c_tsv" ours 2)
	c_ratio=$(awk -v o="$ossl" -v p="$ours" 'BEGIN { printf "%.2f", o / p }')
	say "identity: $c_alg first-seen verification: portcullis $ours/s, openssl $ossl/s:" \
	    "openssl/portcullis $c_ratio (medians of ${AUTH_CRYPTO_ROUNDS:-3} alternating runs)"
	AUTH_CRYPTO="$AUTH_CRYPTO$c_alg $ours $ossl $c_ratio
"
}

# verdict VALUE OP LIMIT: PASS or FAIL.
verdict()
{
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		if (v == "" || v == "n/a" || v == "nan") { print "n/a"; exit }
		ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0)
		print ok ? "PASS" : "FAIL" }'
}

# flood_sum FIELD: the sum of FIELD over the flood rounds' lines (warm-up excluded).
flood_sum()
{
	cat "$RUN"/auth-flood-flooded-[0-9]*.txt.flood 2>/dev/null | awk -v f="$1" '
	/^flood / { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) s += kv[2] } }
	END { printf "%.0f\n", s }'
}

auth_report()
{
	c_row=$(echo "$AUTH_CRYPTO" | awk '$1 == "ES256"')
	es_ratio=$(echo "$c_row" | awk '{ print $4 }')
	fl_secs=$(cat "$RUN"/auth-flood-flooded-[0-9]*.txt.flood 2>/dev/null | awk '
	/^flood / { split($3, kv, "="); s += kv[2] } END { print s + 0 }')
	fl_reqs=$(flood_sum requests)
	fl_rate=$(awk -v r="$fl_reqs" -v s="$fl_secs" \
	    'BEGIN { if (s > 0) printf "%.0f", r / s; else print "n/a" }')
	echo
	echo "## Identity (issue 4)"
	echo
	echo "- one portcullis (port $PORT_PC_AUTH, CPU 0, one worker) with two routes to the"
	echo "  same backend: \`public: true\` and \`auth: [bench]\` (issuer with one ES256 key"
	echo "  from a static jwks_file, token cache at its defaults); failed_auth: $AUTH_FA"
	echo "- cached JWT: wrk -t$WRK_THREADS -c$WRK_CONNS, $ROUNDS x ${SECS}s rounds alternating"
	echo "  between the public route and the auth route with one valid token (\`-H"
	echo "  \"Authorization: Bearer ...\"\`; verified once, then found in the cache)"
	echo "- first-seen verification: build/release/bench/jwtverify (pc_jwt_verify over"
	echo "  distinct tokens, no cache: 2000 ES256, 2000 EdDSA, 500 RS256; median of 5 passes)"
	echo "  and \`openssl speed -seconds 2\` (ecdsap256, ed25519, rsa2048) verify/s, both on CPU 0,"
	echo "  alternating ${AUTH_CRYPTO_ROUNDS:-3} times, medians of each side"
	echo "- flood: the same valid wrk load on the auth route from 127.0.0.1, alone and with"
	echo "  bench/flood.c on CPU 1 sending from $FLOOD_SRC over $FLOOD_CONNS keep-alive"
	echo "  connections, as fast as answered, tokens with a bad signature (each different),"
	echo "  $FLOOD_ROUNDS rounds each, alternating"
	echo
	echo "| target | measured | wanted | verdict |"
	echo "|---|---:|---:|---|"
	echo "| cached JWT req/s / public req/s | $AUTH_JWT_RATIO | >= 0.95 |" \
	    "$(verdict "$AUTH_JWT_RATIO" ">=" 0.95) |"
	echo "| ES256: openssl verify/s / portcullis first-seen verify/s | ${es_ratio:-n/a} |" \
	    "<= 1.2 | $(verdict "${es_ratio:-n/a}" "<=" 1.2) |"
	echo "| valid req/s with the flood / without | $AUTH_FLOOD_RATIO | >= 0.90 |" \
	    "$(verdict "$AUTH_FLOOD_RATIO" ">=" 0.90) |"
	if [ "$DISTURBED" -ne "$DISTURBED_PRE_AUTH" ]; then
		echo
		echo "**$((DISTURBED - DISTURBED_PRE_AUTH)) identity round(s) or runs went on while" \
		    "other work used CPU 0, even after repeats: treat these verdicts with care.**"
	fi
	echo
	echo "| metric (median of rounds) | public | cached JWT | valid alone | valid, flooded |"
	echo "|---|---:|---:|---:|---:|"
	for m in "requests/s:3:%.0f" "latency p50, us:4:%.0f" "latency p99, us:5:%.0f" \
	    "proxy CPU per request, us:6:%.2f" "proxy CPU use, % of one core:10:%.0f"; do
		m_name=${m%%:*}; m_rest=${m#*:}; m_col=${m_rest%%:*}; m_fmt=${m_rest#*:}
		printf '| %s | %s | %s | %s | %s |\n' "$m_name" \
		    "$(fmt "$(median "$AUTH_JWT_TSV" public "$m_col")" "$m_fmt")" \
		    "$(fmt "$(median "$AUTH_JWT_TSV" jwt "$m_col")" "$m_fmt")" \
		    "$(fmt "$(median "$AUTH_FLOOD_TSV" valid "$m_col")" "$m_fmt")" \
		    "$(fmt "$(median "$AUTH_FLOOD_TSV" flooded "$m_col")" "$m_fmt")"
	done
	echo
	echo "Proxy CPU per request is per valid request: in the flooded rounds it includes"
	echo "what the flood cost. Where proxy CPU use is well under 100%, the clients on CPU 1"
	echo "(wrk, the backend and, flooded, the flood) set the rate: compare CPU per request."
	echo
	echo "Flood (all flooded rounds): $fl_reqs answers in ${fl_secs}s, $fl_rate/s;" \
	    "401: $(flood_sum s401), 429: $(flood_sum s429), 2xx: $(flood_sum s2xx)," \
	    "other: $(flood_sum other); connections opened: $(flood_sum connects), closed by" \
	    "the gateway: $(flood_sum closed), errors: $(flood_sum errors)."
	echo
	echo "| first-seen verification | portcullis verify/s | openssl speed verify/s |" \
	    "openssl/portcullis |"
	echo "|---|---:|---:|---:|"
	echo "$AUTH_CRYPTO" | awk 'NF == 4 { printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
	echo
	echo "Cached JWT rounds (raw, in run order):"
	echo
	tls_rounds_table "$AUTH_JWT_TSV"
	echo
	echo "Flood rounds (raw, in run order; the flood's own numbers are in"
	echo "build/bench/run/auth-flood-flooded-N.txt.flood):"
	echo
	tls_rounds_table "$AUTH_FLOOD_TSV"
	if [ "$FAILED" -ne "$FAILED_PRE_AUTH" ]; then
		echo
		echo "**An identity measurement failed (socket errors, non-2xx answers to valid"
		echo "requests, flood errors, or a verifier that refused a token): these numbers"
		echo "are not valid.**"
	fi
}

# auth_bench: the three measurements, then the report appended to results.md.
auth_bench()
{
	DISTURBED_PRE_AUTH=$DISTURBED
	FAILED_PRE_AUTH=$FAILED
	AUTH_JWT_TSV=$OUT/rounds-auth-jwt.tsv
	AUTH_FLOOD_TSV=$OUT/rounds-auth-flood.tsv
	AUTH_CRYPTO=""
	rm -f "$OUT"/rounds-auth-*.tsv
	auth_start

	LOAD=auth
	measure "$AUTH_JWT_TSV" auth-jwt "public jwt"
	LOAD=wrk
	AUTH_JWT_RATIO=$(ratio "$(median "$AUTH_JWT_TSV" public 3)" \
	    "$(median "$AUTH_JWT_TSV" jwt 3)")
	say "identity: cached JWT / public requests/s: $AUTH_JWT_RATIO" \
	    "($(verdict "$AUTH_JWT_RATIO" ">=" 0.95), target >= 0.95)"

	auth_crypto ES256 ecdsap256 "ecdsa (nistp256)" -n 2000
	auth_crypto EdDSA ed25519 "EdDSA (Ed25519)" -n 2000
	auth_crypto RS256 rsa2048 "rsa 2048 bits" -j "$AUTH_DIR/rs256-jwks.json" \
	    -t "$AUTH_DIR/rs256-tokens.txt"
	es=$(echo "$AUTH_CRYPTO" | awk '$1 == "ES256" { print $4 }')
	say "identity: ES256 openssl/portcullis: ${es:-n/a}" \
	    "($(verdict "${es:-n/a}" "<=" 1.2), target <= 1.2)"

	LOAD=auth
	a_rounds=$ROUNDS
	ROUNDS=$FLOOD_ROUNDS
	measure "$AUTH_FLOOD_TSV" auth-flood "valid flooded"
	ROUNDS=$a_rounds
	LOAD=wrk
	AUTH_FLOOD_RATIO=$(ratio "$(median "$AUTH_FLOOD_TSV" valid 3)" \
	    "$(median "$AUTH_FLOOD_TSV" flooded 3)")
	if [ "$(flood_sum errors)" -ne 0 ]; then
		say "identity: the flood had $(flood_sum errors) errors (see $RUN/auth-flood-*.flood)"
		FAILED=1
	fi
	say "identity: valid requests/s with the flood / without: $AUTH_FLOOD_RATIO" \
	    "($(verdict "$AUTH_FLOOD_RATIO" ">=" 0.90), target >= 0.90)"
	auth_report >>"$RESULTS"
}
