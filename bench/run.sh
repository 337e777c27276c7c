#!/bin/sh
# bench/run.sh - `make bench`: portcullis against nginx as a reverse proxy, side by side,
# on one machine, with the same backend, the same client, the same CPU and the same job.
# Owns: build/bench/ (generated configs, logs, raw rounds, results.md) and every process it
# starts, each stopped by PID on exit. Does not: touch /etc/nginx or the system nginx
# service, listen anywhere but 127.0.0.1, or hide a failed measurement (errors fail the run;
# only rounds disturbed by other work on CPU 0 are repeated, and they are flagged if that
# does not help).
#
# Layout (2 CPUs):  CPU 0: the proxy under test (nginx #2 or portcullis), nothing else.
#                   CPU 1: the backend (nginx #1, `return 200`) and the client (wrk, idleconns).
# Environment: BENCH_ROUNDS (5) rounds per proxy, alternating; BENCH_SECS (8) per round;
# BENCH_WARMUP (2) seconds per proxy; BENCH_IDLE_CONNS (10000); BENCH_RETRIES (2) repeats
# of a disturbed round; BENCH_QUIET_WAIT (20) seconds to wait for quiet CPUs;
# BENCH_SELFTEST=1 puts a third nginx in the portcullis slot, to validate the harness
# without portcullis. BENCH_TLS (1): after the plain-HTTP part, the same rounds over TLS
# (keep-alive requests/s with wrk over https, then full handshakes/s with bench/tlsconns.c);
# 0 skips them, leaving exactly the plain-HTTP run. BENCH_H2 (1): after that, HTTP/2
# requests/s with h2load (TLS with ALPN h2 on ports of their own, many streams per
# connection, the same plain HTTP/1.1 backend). Opt-in until a full run shows `make bench`
# stays under about 10 minutes with it (estimated: about 100 s more, 7.5 min in all).
# BENCH_AUTH (1): last, the identity targets of issue 4 (bench/auth.sh, sourced: cached JWT
# vs public route, first-seen JWT verification vs `openssl speed`, an invalid-token flood
# from a second client address); 0 skips them.
# Results: build/bench/results.md (see BENCHMARKS.md).
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECS:-8}
WARMUP=${BENCH_WARMUP:-2}
IDLE=${BENCH_IDLE_CONNS:-10000}
SELFTEST=${BENCH_SELFTEST:-0}
WRK_THREADS=1
WRK_CONNS=64
PORT_BACKEND=18081
PORT_NGINX=18082
PORT_PC=18083
# TLS: both proxies terminate TLS on these ports with the same ECDSA P-256 certificate and
# proxy to the same plain backend.
TLS=${BENCH_TLS:-1}
H2=${BENCH_H2:-1}
AUTH=${BENCH_AUTH:-1}
PORT_NGINX_TLS=18443
PORT_PC_TLS=18444
# HTTP/2: TLS listeners of their own (the TLS/1.1 rounds keep their exact setup), the same
# certificate; h2load opens H2_CONNS connections with up to H2_STREAMS streams each.
PORT_NGINX_H2=18445
PORT_PC_H2=18446
PC_H2=0		# 1 once portcullis accepted its HTTP/2 listener
H2_CONNS=16
H2_STREAMS=32
PC_TLS=0	# 1 once portcullis accepted its TLS listener
WRK_SCHEME=http
LOAD=wrk	# what run_wrk runs: wrk (http or https by WRK_SCHEME) or tlsconns
# Same per-connection request cap for both proxies (portcullis' default); the backend's is
# effectively unlimited, as it is shared.
KEEPALIVE_REQS=10000
MAX_CONNS=30000
# Shared machines: a round during which anything else used more than DISTURB_PCT of CPU 0
# is repeated (up to RETRIES times); QUIET_PCT / BENCH_QUIET_WAIT gate the start of each.
DISTURB_PCT=5
RETRIES=${BENCH_RETRIES:-2}
QUIET_PCT=10
QUIET_WAIT=${BENCH_QUIET_WAIT:-20}
DISTURBED=0
REPEATS=0
BUSY=0

OUT=$ROOT/build/bench
RUN=$OUT/run
ROUNDS_TSV=$OUT/rounds.tsv
RESULTS=$OUT/results.md

PIDS=""		# every process we started (and nginx workers), stopped by cleanup
FAILED=0	# a measurement went wrong: report it, finish, exit 1

say()
{
	echo "bench: $*"
}

die()
{
	echo "bench: error: $*" >&2
	exit 1
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive()
{
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

cleanup()
{
	rc=$?
	trap - EXIT INT TERM
	for p in $PIDS; do
		alive "$p" && kill -TERM "$p" 2>/dev/null
	done
	i=0
	while [ $i -lt 100 ]; do
		left=""
		for p in $PIDS; do
			alive "$p" && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for p in $PIDS; do
		if alive "$p"; then
			echo "bench: pid $p ignored SIGTERM for 10 s: SIGKILL" >&2
			kill -KILL "$p" 2>/dev/null
		fi
	done
	wait 2>/dev/null
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_free PORT: nothing listens on 127.0.0.1:PORT (or the wildcard address).
port_free()
{
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

show_log()
{
	if [ -s "$1" ]; then
		echo "---- last lines of $1:" >&2
		tail -n 20 "$1" >&2
		echo "----" >&2
	else
		echo "($1 is empty)" >&2
	fi
}

# wait_listen NAME PID PORT LOG: up to 10 s for PID to listen on PORT.
wait_listen()
{
	i=0
	while [ $i -lt 100 ]; do
		if ! alive "$2"; then
			show_log "$4"
			die "$1 (pid $2) exited during start-up"
		fi
		port_free "$3" || return 0
		sleep 0.1
		i=$((i + 1))
	done
	show_log "$4"
	die "$1 (pid $2) did not listen on 127.0.0.1:$3 within 10 s"
}

# check_hello NAME PORT LOG: one request through must give 200 "hello world".
check_hello()
{
	code=$(curl -s -m 5 -o "$RUN/$1.hello" -w '%{http_code}' "http://127.0.0.1:$2/bench/hello")
	if [ "$code" != 200 ] || [ "$(cat "$RUN/$1.hello")" != "hello world" ]; then
		show_log "$3"
		die "$1 on port $2 answered '$code' '$(head -c 200 "$RUN/$1.hello")', want 200 'hello world'"
	fi
}

# worker_of NAME PID: the process that serves requests. nginx: its single worker; a
# process without children (portcullis: workers are threads) is its own worker.
worker_of()
{
	i=0
	while [ $i -lt 50 ]; do
		kids=$(pgrep -P "$2" | tr '\n' ' ')
		set -- "$1" "$2" $kids
		if [ $# -eq 3 ]; then
			echo "$3"
			return 0
		fi
		if [ $# -gt 3 ]; then
			die "$1 (pid $2) has $(($# - 2)) child processes, want one worker"
		fi
		case "$1" in
		nginx*) ;;
		*)	echo "$2"; return 0 ;;
		esac
		sleep 0.1
		i=$((i + 1))
	done
	die "$1 (pid $2) started no worker process within 5 s"
}

# cpu_ticks PID: user + system time of all its threads, in clock ticks.
cpu_ticks()
{
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# nginx_conf DIR PORT ROLE WORKER_CONNS [TLS_PORT] [H2_PORT]: a self-contained nginx
# configuration under DIR; a proxy with TLS_PORT also terminates TLS there (same upstream,
# same location), and with H2_PORT TLS with HTTP/2 there.
nginx_conf()
{
	mkdir -p "$1/tmp" "$1/logs"
	{
		cat <<EOF
# generated by bench/run.sh ($3)
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events {
	use epoll;
	worker_connections $4;
}
http {
	access_log off;
	default_type text/plain;
	client_body_temp_path $1/tmp/body;
	proxy_temp_path $1/tmp/proxy;
	fastcgi_temp_path $1/tmp/fastcgi;
	uwsgi_temp_path $1/tmp/uwsgi;
	scgi_temp_path $1/tmp/scgi;
	keepalive_timeout 60s;
EOF
		if [ "$3" = backend ]; then
			cat <<EOF
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$2 backlog=4096;
		location / {
			return 200 "hello world\n";
		}
	}
}
EOF
		else
			cat <<EOF
	keepalive_requests $KEEPALIVE_REQS;
	upstream backend {
		server 127.0.0.1:$PORT_BACKEND;
		keepalive 64;
		keepalive_requests 1000000;
		keepalive_timeout 30s;
	}
	server {
		listen 127.0.0.1:$2 backlog=4096;
		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
EOF
			[ -n "${5:-}" ] && nginx_tls_server "$5"
			[ -n "${6:-}" ] && nginx_tls_server "$6" http2
			echo "}"
		fi
	} > "$1/nginx.conf"
}

# nginx_tls_server PORT [http2]: the TLS server block. Same policy as portcullis' TLS listener
# (src/tls/tls_policy.c): TLS 1.2 and 1.3, its cipher lists in its order with the server's
# preference, groups X25519 then P-256, session tickets on (nginx's default session cache
# "none": tickets are the only resumption); the full-handshake rounds never resume anyway.
# "http2": ALPN h2 too (nginx 1.22 syntax). nginx caps the streams of an HTTP/2 connection
# with keepalive_requests and then sends GOAWAY, which h2load does not recover from (the
# connection's client stops: errors, a short round); portcullis has no such cap on HTTP/2.
# So that both serve every round on the same connections, the h2 server lifts it.
nginx_tls_server()
{
	cat <<EOF
	server {
		listen 127.0.0.1:$1 ssl${2:+ $2} backlog=4096;
		ssl_certificate $TLS_CERT;
		ssl_certificate_key $TLS_KEY;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
		ssl_prefer_server_ciphers on;
		ssl_ecdh_curve X25519:prime256v1;
		ssl_session_tickets on;
EOF
	[ "${2:-}" = http2 ] && echo "		keepalive_requests 1000000;"
	cat <<EOF
		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
EOF
}

# pc_conf_common, pc_conf_backend: the parts of a portcullis configuration every bench
# instance shares (limits like nginx's, no logs, no admin; the shared backend and its pool),
# for pc_conf here and auth_conf in auth.sh.
pc_conf_common()
{
	cat <<EOF
limits:
  max_connections: $MAX_CONNS
  idle_timeout_ms: 60000
  max_requests_per_connection: $KEEPALIVE_REQS
access_log: "off"
event_log: "off"
admin:
  enabled: false
drain_timeout_ms: 5000
EOF
}

pc_conf_backend()
{
	cat <<EOF
upstreams:
  backend:
    targets: [127.0.0.1:$PORT_BACKEND]
    keepalive: 64
    keepalive_timeout_ms: 30000
EOF
}

# pc_conf FILE [tls] [h2]: the portcullis configuration; "tls" adds the TLS listener (syntax
# of issue 3), with HSTS off so both proxies send the same response bytes; "h2" adds the
# HTTP/2 one (the same TLS settings, plus http2: true).
pc_conf()
{
	pc_tls=; pc_h2=
	for a in "${2:-}" "${3:-}"; do
		case "$a" in
		tls)	pc_tls=1 ;;
		h2)	pc_h2=1 ;;
		esac
	done
	{
		cat <<EOF
# generated by bench/run.sh
workers: 1
listen:
  - 127.0.0.1:$PORT_PC
EOF
		[ -n "$pc_tls" ] && cat <<EOF
  - address: 127.0.0.1:$PORT_PC_TLS
    tls:
      certificates:
        - cert: $TLS_CERT
          key: $TLS_KEY
      session_tickets: true
      hsts: "off"
EOF
		[ -n "$pc_h2" ] && cat <<EOF
  - address: 127.0.0.1:$PORT_PC_H2
    tls:
      certificates:
        - cert: $TLS_CERT
          key: $TLS_KEY
      session_tickets: true
      hsts: "off"
      http2: true
EOF
		pc_conf_common
		pc_conf_backend
		cat <<EOF
routes:
  - name: all
    path: /**
    upstream: backend
    public: true
EOF
	} > "$1"
}

# start_nginx NAME PORT ROLE CPU WORKER_CONNS [TLS_PORT] [H2_PORT]; sets STARTED_PID.
start_nginx()
{
	d=$RUN/$1
	nginx_conf "$d" "$2" "$3" "$5" "${6:-}" "${7:-}"
	nginx -t -q -p "$d/" -c "$d/nginx.conf" -e "$d/logs/error.log" \
	    >"$d/logs/test.log" 2>&1 || { show_log "$d/logs/test.log"; die "$1: bad nginx config"; }
	taskset -c "$4" nginx -p "$d/" -c "$d/nginx.conf" -e "$d/logs/error.log" \
	    >"$d/logs/stdout.log" 2>&1 &
	STARTED_PID=$!
	PIDS="$STARTED_PID $PIDS"
	wait_listen "$1" "$STARTED_PID" "$2" "$d/logs/error.log"
	[ -n "${6:-}" ] && wait_listen "$1" "$STARTED_PID" "$6" "$d/logs/error.log"
	[ -n "${7:-}" ] && wait_listen "$1" "$STARTED_PID" "$7" "$d/logs/error.log"
	return 0
}

start_portcullis()
{
	d=$RUN/portcullis
	mkdir -p "$d"
	pc_conf "$d/portcullis.yaml"
	if [ "$TLS" = 1 ]; then
		# The TLS listener only if this build accepts it: until portcullis terminates
		# TLS, the plain rounds still run and the TLS rounds measure nginx alone.
		pc_conf "$d/portcullis-tls.yaml" tls
		if "$ROOT/portcullis" check -c "$d/portcullis-tls.yaml" >"$d/check-tls.log" 2>&1
		then
			cp "$d/portcullis-tls.yaml" "$d/portcullis.yaml"
			PC_TLS=1
		else
			say "portcullis does not accept the TLS listener yet ($(head -n 1 \
			    "$d/check-tls.log")): the TLS rounds measure nginx only"
		fi
	fi
	if [ "$H2" = 1 ]; then
		# The same for the HTTP/2 listener: until portcullis takes it, nginx alone.
		pc_conf "$d/portcullis-h2.yaml" "$(if [ "$PC_TLS" = 1 ]; then echo tls; fi)" h2
		if "$ROOT/portcullis" check -c "$d/portcullis-h2.yaml" >"$d/check-h2.log" 2>&1
		then
			cp "$d/portcullis-h2.yaml" "$d/portcullis.yaml"
			PC_H2=1
		else
			say "portcullis does not accept the HTTP/2 listener yet ($(head -n 1 \
			    "$d/check-h2.log")): the HTTP/2 rounds measure nginx only"
		fi
	fi
	taskset -c 0 "$ROOT/portcullis" run -c "$d/portcullis.yaml" >"$d/stdout.log" \
	    2>"$d/stderr.log" &
	STARTED_PID=$!
	PIDS="$STARTED_PID $PIDS"
	wait_listen portcullis "$STARTED_PID" "$PORT_PC" "$d/stderr.log"
	[ "$PC_TLS" = 1 ] && wait_listen portcullis "$STARTED_PID" "$PORT_PC_TLS" "$d/stderr.log"
	[ "$PC_H2" = 1 ] && wait_listen portcullis "$STARTED_PID" "$PORT_PC_H2" "$d/stderr.log"
	return 0
}

# make_cert DIR: the ECDSA P-256 certificate both proxies present (self-signed, for
# localhost and 127.0.0.1; the clients do not verify chains). Sets TLS_CERT and TLS_KEY.
make_cert()
{
	mkdir -p "$1"
	TLS_KEY=$1/ec.key
	TLS_CERT=$1/ec.crt
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -pkeyopt ec_param_enc:named_curve -out "$TLS_KEY") >"$1/openssl.log" 2>&1 &&
	    openssl req -new -x509 -key "$TLS_KEY" -subj /CN=localhost -days 30 -sha256 \
	    -addext "subjectAltName = DNS:localhost, IP:127.0.0.1" -out "$TLS_CERT" \
	    >>"$1/openssl.log" 2>&1 || { show_log "$1/openssl.log"; die "cannot make the TLS certificate"; }
	chmod 600 "$TLS_KEY"
}

# check_hello_tls NAME PORT LOG [soft]: one request over TLS must give 200 "hello world";
# "soft": say so and return 1 instead of stopping the run.
check_hello_tls()
{
	code=$(curl -s -k -m 5 -o "$RUN/$1.tls.hello" -w '%{http_code}' \
	    "https://127.0.0.1:$2/bench/hello")
	if [ "$code" != 200 ] || [ "$(cat "$RUN/$1.tls.hello")" != "hello world" ]; then
		show_log "$3"
		m="$1 on TLS port $2 answered '$code' '$(head -c 200 "$RUN/$1.tls.hello")',"
		[ "${4:-}" = soft ] || die "$m want 200 'hello world'"
		echo "bench: $m want 200 'hello world'" >&2
		return 1
	fi
	return 0
}

# check_hello_h2 NAME PORT LOG [soft]: one request over TLS with ALPN h2 must give 200
# "hello world" over HTTP/2 (curl reports the version it used); "soft" as check_hello_tls.
check_hello_h2()
{
	got=$(curl -s -k --http2 -m 5 -o "$RUN/$1.h2.hello" -w '%{http_code} %{http_version}' \
	    "https://127.0.0.1:$2/bench/hello")
	if [ "$got" != "200 2" ] || [ "$(cat "$RUN/$1.h2.hello")" != "hello world" ]; then
		show_log "$3"
		m="$1 on HTTP/2 port $2 answered '$got' '$(head -c 200 "$RUN/$1.h2.hello")',"
		[ "${4:-}" = soft ] || die "$m want '200 2' 'hello world'"
		echo "bench: $m want '200 2' 'hello world'" >&2
		return 1
	fi
	return 0
}

# cpu0_ticks: "busy steal" clock ticks of CPU 0 so far, from /proc/stat. Busy is user,
# nice and system only: irq and softirq time is mostly the proxy's own loopback traffic
# (about 7% at full load here), which the kernel does not charge to the proxy's stime.
cpu0_ticks()
{
	awk '$1 == "cpu0" { print $2 + $3 + $4, $9 }' /proc/stat
}

# quiet_gate: waits (up to BENCH_QUIET_WAIT s) until CPUs 0 and 1 are both under
# QUIET_PCT busy over one second. Nothing of ours runs between rounds, so busy CPUs mean
# someone else's work, which would land in the next round.
quiet_gate()
{
	[ "$BUSY" -eq 1 ] && return 0
	waited=0
	while :; do
		a=$(awk '$1 == "cpu0" || $1 == "cpu1" { printf "%d ", $2 + $3 + $4 + $7 + $8 }' \
		    /proc/stat)
		sleep 1
		b=$(awk '$1 == "cpu0" || $1 == "cpu1" { printf "%d ", $2 + $3 + $4 + $7 + $8 }' \
		    /proc/stat)
		busy=$(awk -v a="$a" -v b="$b" -v hz="$HZ" 'BEGIN {
			split(a, x, " "); split(b, y, " ")
			m = (y[1] - x[1] > y[2] - x[2]) ? y[1] - x[1] : y[2] - x[2]
			printf "%d", m * 100 / hz }')
		[ "$busy" -le "$QUIET_PCT" ] && return 0
		if [ "$waited" -ge "$QUIET_WAIT" ]; then
			# Waiting once is worth it; waiting every round for work that does not
			# leave only makes the run long. Measure, and flag the result.
			say "CPUs still ${busy}% busy with other work after ${waited}s: going on;" \
			    "no more waiting or repeats (results will be flagged)"
			QUIET_WAIT=0
			RETRIES=0
			BUSY=1
			return 0
		fi
		[ "$waited" -eq 0 ] && say "waiting for other work to leave the CPUs (${busy}% busy)"
		waited=$((waited + 1))
	done
}

# cpu1_ticks: user, nice and system clock ticks of CPU 1 so far.
cpu1_ticks()
{
	awk '$1 == "cpu1" { print $2 + $3 + $4 }' /proc/stat
}

# kids_ticks: KIDS = CPU ticks used so far by this shell's waited-for children (wrk,
# mostly). Call it directly, never in $(...): `times` in a command substitution reports the
# subshell's children, none (it did, until issue 4: "CPU 1 other %" then included wrk).
kids_ticks()
{
	times >"$RUN/times"
	KIDS=$(awk -v hz="$HZ" 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) {
			split($i, p, "m")
			t += p[1] * 60 + p[2]
		}
		printf "%d\n", t * hz
	}' "$RUN/times")
}

# run_wrk NAME PORT WORKER SECS OUTFILE: sets WRK_RES to "rps p50_us p99_us requests
# socket_errors non2xx proxy_cpu_s other_cpu0_s steal_cpu0_s other_cpu1_s". "other" is
# CPU time not used by the proxy (CPU 0), or by the backend and wrk (CPU 1): anything else
# running there (another build) disturbs the round.
run_wrk()
{
	kids_ticks
	k0=$KIDS
	c10=$(cpu1_ticks)
	bk0=$(cpu_ticks "$BACKEND_W")
	c0=$(cpu0_ticks)
	t0=$(cpu_ticks "$3")
	if [ "$LOAD" = tlsconns ]; then
		timeout $(($4 + 30)) taskset -c 1 "$TLSCONNS" -p "$2" -c $WRK_CONNS -d "$4" \
		    -u /bench/hello >"$5" 2>&1
	elif [ "$LOAD" = h2load ]; then
		# Per-request latencies go to a log: h2load itself prints no percentiles.
		timeout $(($4 + 30)) taskset -c 1 h2load -t1 -c$H2_CONNS -m$H2_STREAMS -D"$4" \
		    --log-file="$5.lat" "https://127.0.0.1:$2/bench/hello" >"$5" 2>&1
	elif [ "$LOAD" = auth ]; then
		auth_load "$2" "$4" "$5"	# bench/auth.sh: wrk with a token, maybe a flood
	else
		timeout $(($4 + 30)) taskset -c 1 wrk -t$WRK_THREADS -c$WRK_CONNS -d"$4"s \
		    --latency "$WRK_SCHEME://127.0.0.1:$2/bench/hello" >"$5" 2>&1
	fi
	rc=$?
	alive "$3" || die "$1 worker (pid $3) died during the run; see $RUN"
	t1=$(cpu_ticks "$3")
	c1=$(cpu0_ticks)
	bk1=$(cpu_ticks "$BACKEND_W")
	c11=$(cpu1_ticks)
	kids_ticks
	k1=$KIDS
	o1=$(((c11 - c10) - (bk1 - bk0) - (k1 - k0)))
	[ "$o1" -lt 0 ] && o1=0
	[ $rc -eq 0 ] || { cat "$5" >&2; die "wrk against $1 failed (exit $rc)"; }
	if [ "$LOAD" = h2load ]; then
		# Counted as HTTP/2 only if it was: h2load falls back to HTTP/1.1 on ALPN.
		grep -q '^Application protocol: h2$' "$5" ||
		    { cat "$5" >&2; die "h2load against $1 did not negotiate h2 (see $5)"; }
		h2_latency "$5.lat" >>"$5" || die "no latencies in $5.lat"
		rm -f "$5.lat"
	fi
	WRK_RES=$(awk -v dt=$((t1 - t0)) -v hz="$HZ" -v c0="$c0" -v c1="$c1" -v o1="$o1" '
	function us(v) {
		if (v ~ /us$/) return v + 0
		if (v ~ /ms$/) return v * 1000
		if (v ~ /m$/) return v * 60000000
		if (v ~ /s$/) return v * 1000000
		return -1
	}
	/Requests\/sec:/		{ rps = $2 }
	/^ *50%/			{ p50 = us($2) }
	/^ *99%/			{ p99 = us($2) }
	/ requests in /			{ reqs = $1 }
	/Socket errors:/		{ gsub(",", ""); err = $4 + $6 + $8 + $10 }
	/Non-2xx or 3xx responses:/	{ non2xx = $5 }
	# h2load: "finished in 8.00s, 3.1 req/s, ...", "requests: N total, N started, N done,
	# N succeeded, N failed, N errored, N timeout", "status codes: N 2xx, N 3xx, N 4xx,
	# N 5xx", and the line h2_latency added.
	/^finished in /			{ rps = $4 }
	/^requests: /			{ reqs = $6; err = $10 + $12 + $14 }
	/^status codes: /		{ non2xx = $5 + $7 + $9 }
	/^latency p50_us=/		{ split($2, q, "="); p50 = q[2]; split($3, w, "="); p99 = w[2] }
	/^done conns=/ {		# tlsconns; a resumed handshake counts as a bad answer
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			d[kv[1]] = kv[2]
		}
		rps = d["rate"]; p50 = d["p50_us"]; p99 = d["p99_us"]; reqs = d["conns"]
		err = d["errors"]; non2xx = d["bad"] + d["resumed"]
	}
	END {
		if (rps == "" || p50 == "" || p99 == "" || reqs + 0 == 0)
			exit 1
		split(c0, a, " ")
		split(c1, b, " ")
		other = b[1] - a[1] - dt
		if (other < 0)
			other = 0
		printf "%s %.1f %.1f %d %d %d %.2f %.2f %.2f %.2f\n", rps, p50, p99, reqs, err,
		    non2xx, dt / hz, other / hz, (b[2] - a[2]) / hz, o1 / hz
	}' "$5") || die "cannot parse the wrk output in $5"
}

# h2_latency LOG: "latency p50_us=X p99_us=Y" (nearest rank) from an h2load --log-file
# (start us, status, us to the end of the response; status -1: a failed stream, counted
# as an error by h2load, not as a latency).
h2_latency()
{
	awk -F'\t' '$2 != -1 { print $3 }' "$1" | sort -n | awk '
	{ v[NR] = $1 }
	END {
		if (NR == 0)
			exit 1
		i = int(NR * 0.50); if (i < NR * 0.50) i++
		j = int(NR * 0.99); if (j < NR * 0.99) j++
		printf "latency p50_us=%d p99_us=%d\n", v[i], v[j]
	}'
}

# idle_test NAME PORT WORKER: sets IDLE_RES to "before_kb after_kb ok failed closed".
idle_test()
{
	f=$RUN/idle-$1.out
	before=$(rss_kb "$3")
	taskset -c 1 "$IDLECONNS" -p "$2" -n "$IDLE" -t 120 >"$f" 2>"$RUN/idle-$1.err" &
	icpid=$!
	PIDS="$icpid $PIDS"
	i=0
	while ! grep -q '^ready ' "$f" 2>/dev/null; do
		if ! alive "$icpid" || [ $i -ge 1300 ]; then
			cat "$RUN/idle-$1.err" >&2
			die "idleconns against $1 did not finish opening connections"
		fi
		sleep 0.1
		i=$((i + 1))
	done
	# Let the proxy finish whatever it defers (pool returns, timers) before reading RSS.
	sleep 1
	alive "$3" || die "$1 worker (pid $3) died holding idle connections"
	after=$(rss_kb "$3")
	kill -TERM "$icpid"
	wait "$icpid"
	[ -s "$RUN/idle-$1.err" ] && cat "$RUN/idle-$1.err" >&2
	IDLE_RES=$(awk -v b="$before" -v a="$after" '
	/^ready /	{ split($2, o, "="); split($3, f, "=") }
	/^held /	{ split($3, c, "="); held = 1 }
	END {
		if (!held)
			exit 1
		print b, a, o[2], f[2], c[2]
	}' "$f") || die "cannot parse the idleconns output in $f"
}

# median FILE PROXY COLUMN (1-based, in rounds.tsv)
median()
{
	awk -v p="$2" -v c="$3" '$1 == p { print $c }' "$1" | sort -g | awk '
	{ v[NR] = $1 }
	END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == 0) print "n/a"; else printf "%.2f\n", b / a }'
}

fmt()
{
	awk -v v="$1" -v f="$2" 'BEGIN { printf f "\n", v }'
}

# ---- preflight
for t in nginx wrk taskset ss curl pgrep cc timeout lscpu; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (make deps installs it)"
done
case "$ROUNDS$SECS$WARMUP$IDLE$RETRIES$QUIET_WAIT" in
*[!0-9]*) die "BENCH_ROUNDS, _SECS, _WARMUP, _IDLE_CONNS, _RETRIES, _QUIET_WAIT: integers" ;;
esac
[ "$ROUNDS" -ge 1 ] && [ "$SECS" -ge 1 ] && [ "$IDLE" -ge 1 ] ||
    die "BENCH_ROUNDS, BENCH_SECS and BENCH_IDLE_CONNS must be at least 1"
[ "$(nproc --all)" -ge 2 ] || die "needs 2 CPUs (proxy on CPU 0, backend and client on CPU 1)"
[ "$(nproc --all)" -eq 2 ] || say "note: $(nproc --all) CPUs; only CPUs 0 and 1 are used"
if [ "$SELFTEST" = 1 ]; then
	PC_NAME=nginx-selftest
	say "BENCH_SELFTEST=1: a third nginx stands in for portcullis (harness validation)"
else
	PC_NAME=portcullis
	[ -x "$ROOT/portcullis" ] || die "./portcullis not built (run make)"
fi
case "$TLS$H2$AUTH" in
[01][01][01]) ;;
*) die "BENCH_TLS, BENCH_H2 and BENCH_AUTH: 0 or 1" ;;
esac
if [ "$AUTH" = 1 ] && [ "$SELFTEST" = 1 ]; then
	say "BENCH_SELFTEST=1: no portcullis, so no identity part"
	AUTH=0
fi
if [ "$AUTH" = 1 ]; then
	. "$ROOT/bench/auth.sh"
	auth_preflight
fi
TLS_PORTS=""
if [ "$TLS" = 1 ]; then
	command -v openssl >/dev/null 2>&1 || die "openssl not found (make deps installs it)"
	TLS_PORTS="$PORT_NGINX_TLS $PORT_PC_TLS"
fi
H2_PORTS=""
if [ "$H2" = 1 ]; then
	command -v h2load >/dev/null 2>&1 || die "h2load not found (nghttp2-client; make deps)"
	command -v openssl >/dev/null 2>&1 || die "openssl not found (make deps installs it)"
	H2_PORTS="$PORT_NGINX_H2 $PORT_PC_H2"
fi
for p in $PORT_BACKEND $PORT_NGINX $PORT_PC $TLS_PORTS $H2_PORTS; do
	port_free $p || die "port $p is in use: $(ss -Hltnp "sport = :$p" | head -n 1)"
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=1048576
[ "$NOFILE" -ge $((IDLE + 1000)) ] ||
    die "open-file limit $NOFILE is too low for $IDLE idle connections (raise ulimit -Hn)"
HZ=$(getconf CLK_TCK)

rm -rf "$RUN"
rm -f "$OUT"/rounds-tls-*.tsv "$OUT"/rounds-h2.tsv
mkdir -p "$RUN"
IDLECONNS=$RUN/idleconns
cc -std=gnu11 -D_GNU_SOURCE -Isrc -O2 -Wall -Wextra -Werror -o "$IDLECONNS" bench/idleconns.c ||
    die "cannot compile bench/idleconns.c"
if [ "$TLS" = 1 ]; then
	TLSCONNS=$RUN/tlsconns
	cc -std=gnu11 -D_GNU_SOURCE -Isrc -O2 -Wall -Wextra -Werror -o "$TLSCONNS" \
	    bench/tlsconns.c -lssl -lcrypto || die "cannot compile bench/tlsconns.c"
fi
if [ "$TLS" = 1 ] || [ "$H2" = 1 ]; then
	make_cert "$RUN/tls"
fi

# ---- start: backend, then the two proxies
start_nginx backend $PORT_BACKEND backend 1 4096
BACKEND_PID=$STARTED_PID
BACKEND_W=$(worker_of nginx-backend "$BACKEND_PID") || exit 1
PIDS="$PIDS $BACKEND_W"
check_hello backend $PORT_BACKEND "$RUN/backend/logs/error.log"

NGINX_TLS_PORT=""
SELF_TLS_PORT=""
if [ "$TLS" = 1 ]; then
	NGINX_TLS_PORT=$PORT_NGINX_TLS
	SELF_TLS_PORT=$PORT_PC_TLS
fi
NGINX_H2_PORT=""
SELF_H2_PORT=""
if [ "$H2" = 1 ]; then
	NGINX_H2_PORT=$PORT_NGINX_H2
	SELF_H2_PORT=$PORT_PC_H2
fi
start_nginx nginx $PORT_NGINX proxy 0 $MAX_CONNS "$NGINX_TLS_PORT" "$NGINX_H2_PORT"
NGINX_W=$(worker_of nginx "$STARTED_PID") || exit 1
PIDS="$PIDS $NGINX_W"
check_hello nginx $PORT_NGINX "$RUN/nginx/logs/error.log"

if [ "$SELFTEST" = 1 ]; then
	start_nginx nginx-selftest $PORT_PC proxy 0 $MAX_CONNS "$SELF_TLS_PORT" "$SELF_H2_PORT"
	PC_TLS=$TLS
	PC_H2=$H2
	PC_LOG=$RUN/nginx-selftest/logs/error.log
	PC_W=$(worker_of nginx-selftest "$STARTED_PID") || exit 1
	PIDS="$PIDS $PC_W"
else
	start_portcullis
	PC_LOG=$RUN/portcullis/stderr.log
	PC_W=$(worker_of portcullis "$STARTED_PID") || exit 1
fi
check_hello "$PC_NAME" $PORT_PC "$PC_LOG"
if [ "$TLS" = 1 ]; then
	check_hello_tls nginx $PORT_NGINX_TLS "$RUN/nginx/logs/error.log"
	# portcullis' TLS side is young: if it accepts the listener but does not serve it,
	# the plain rounds still run, the TLS rounds measure nginx alone, and the run fails.
	if [ "$PC_TLS" = 1 ] && ! check_hello_tls "$PC_NAME" $PORT_PC_TLS "$PC_LOG" soft; then
		say "$PC_NAME accepted its TLS listener but did not serve it: TLS rounds" \
		    "measure nginx only, and the run will fail"
		PC_TLS=0
		FAILED=1
	fi
fi
if [ "$H2" = 1 ]; then
	check_hello_h2 nginx $PORT_NGINX_H2 "$RUN/nginx/logs/error.log"
	if [ "$PC_H2" = 1 ] && ! check_hello_h2 "$PC_NAME" $PORT_PC_H2 "$PC_LOG" soft; then
		say "$PC_NAME accepted its HTTP/2 listener but did not serve it: HTTP/2" \
		    "rounds measure nginx only, and the run will fail"
		PC_H2=0
		FAILED=1
	fi
fi
say "backend pid $BACKEND_PID; nginx worker pid $NGINX_W; $PC_NAME pid $PC_W"

# Two slots, always in this order: "nginx" (N) and the proxy under test (P).
SLOTS="N P"
slot()
{
	case "$1" in
	N)	NAME=nginx; PORT=$PORT_NGINX; WPID=$NGINX_W; TPORT=$PORT_NGINX_TLS
		HPORT=$PORT_NGINX_H2 ;;
	P)	NAME=$PC_NAME; PORT=$PORT_PC; WPID=$PC_W; TPORT=$PORT_PC_TLS; HPORT=$PORT_PC_H2 ;;
	*)	auth_slot "$1" ;;	# bench/auth.sh
	esac
}

# measure TSV LABEL SLOTS: warm-up, then ROUNDS alternating rounds of run_wrk (as LOAD and
# WRK_SCHEME say) per slot of SLOTS, into TSV. LABEL "" is the plain-HTTP part, with its
# original file names and messages; a TLS part (its label as prefix) uses the TLS ports.
measure()
{
	m_tsv=$1
	m_pfx=${2:+$2 }
	m_file=${2:-wrk}
	m_slots=$3
	for sl in $m_slots; do
		slot $sl
		[ -n "$m_pfx" ] && PORT=$TPORT
		[ "$LOAD" = h2load ] && PORT=$HPORT
		if [ "$WARMUP" -gt 0 ]; then
			say "${m_pfx}warm-up $NAME ${WARMUP}s"
			run_wrk "$NAME" "$PORT" "$WPID" "$WARMUP" "$RUN/$m_file-warmup-$NAME.txt"
		fi
	done
	printf 'proxy\tround\treq_s\tp50_us\tp99_us\tcpu_us_req\trequests\terrors\tnon2xx\tcpu_pct\tother_pct\tsteal_pct\tother1_pct\n' \
	    >"$m_tsv"
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		for sl in $m_slots; do
			slot $sl
			[ -n "$m_pfx" ] && PORT=$TPORT
			[ "$LOAD" = h2load ] && PORT=$HPORT
			try=1
			while :; do
				quiet_gate
				run_wrk "$NAME" "$PORT" "$WPID" "$SECS" "$RUN/$m_file-$NAME-$r.txt"
				set -- $WRK_RES
				# CPU 1 "other" is shown but not used here: it read 22-30% in every round
				# of a run whose CPU 0 was clean, likely kernel time charged to neither wrk
				# nor the backend, so it cannot yet tell other work from our own traffic.
				disturbed=$(awk -v o="$8" -v s="$SECS" -v m="$DISTURB_PCT" \
				    'BEGIN { print (o * 100 / s > m) ? 1 : 0 }')
				[ "$disturbed" -eq 0 ] && break
				if [ "$try" -gt "$RETRIES" ]; then
					say "${m_pfx}round $r $NAME: disturbed by other work: kept, flagged"
					DISTURBED=$((DISTURBED + 1))
					break
				fi
				say "${m_pfx}round $r $NAME: other work used CPU 0 during the round: repeating it"
				try=$((try + 1))
				REPEATS=$((REPEATS + 1))
			done
			# $1 rps, $2 p50, $3 p99, $4 requests, $5 socket errors, $6 non2xx, $7 proxy CPU
			# seconds, $8 other CPU 0 seconds, $9 CPU 0 steal seconds, $10 other CPU 1 seconds
			line=$(awk -v n="$NAME" -v r="$r" -v s="$SECS" -v rps="$1" -v p50="$2" -v p99="$3" \
			    -v reqs="$4" -v err="$5" -v bad="$6" -v cpu="$7" -v oth="$8" -v st="$9" \
			    -v o1="${10}" 'BEGIN {
				printf "%s\t%d\t%.0f\t%.0f\t%.0f\t%.2f\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\n",
				    n, r, rps, p50, p99, cpu * 1000000 / reqs, reqs, err, bad, cpu * 100 / s,
				    oth * 100 / s, st * 100 / s, o1 * 100 / s }')
			echo "$line" >>"$m_tsv"
			echo "$line" | awk -F'\t' -v R="$ROUNDS" -v pfx="$m_pfx" '{
				printf "bench: %sround %d/%d %-14s %8s req/s  p50 %6.2f ms  p99 %6.2f ms  " \
				    "%6s us CPU/req  (CPU 0: proxy %s%%, other %s%%, steal %s%%; CPU 1:" \
				    " other %s%%)\n", pfx, $2, R, $1, $3, $4 / 1000, $5 / 1000, $6, $10, $11, $12,
				    $13 }'
			if [ "$5" -ne 0 ] || [ "$6" -ne 0 ]; then
				echo "bench: ${m_pfx}round $r $NAME: $5 socket errors, $6 non-2xx responses" >&2
				FAILED=1
			fi
		done
		r=$((r + 1))
	done
}

# ---- throughput and latency: warm up each, then alternate rounds
measure "$ROUNDS_TSV" "" "$SLOTS"

# ---- memory per idle keep-alive connection
for sl in $SLOTS; do
	slot $sl
	idle_test "$NAME" "$PORT" "$WPID"
	set -- $IDLE_RES
	# $1 RSS before kB, $2 after kB, $3 ok, $4 failed, $5 closed while held
	per=$(awk -v b="$1" -v a="$2" -v n="$IDLE" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
	say "idle $NAME: RSS $1 kB -> $2 kB with $3 connections: $per bytes/connection" \
	    "($4 failed, $5 closed while held)"
	if [ "$4" -ne 0 ] || [ "$5" -ne 0 ] || [ "$3" -ne "$IDLE" ]; then
		echo "bench: idle $NAME: not all $IDLE connections were opened and held" >&2
		FAILED=1
	fi
	eval "IDLE_PER_$sl=$per IDLE_BASE_$sl=$1 IDLE_LOST_$sl=$(($IDLE - $3 + $5))"
done

# tls_params NAME: what the first full handshake with NAME negotiated (tlsconns' "tls" line).
tls_params()
{
	sed -n 's/^tls //p' "$RUN/tls-handshake-$1-1.txt" 2>/dev/null | head -n 1
}

# tls_row METRIC TSV COLUMN FORMAT: one row of the TLS table, "-" for an unmeasured proxy.
tls_row()
{
	a=$(fmt "$(median "$2" nginx "$3")" "$4")
	if [ "$PC_TLS" = 1 ]; then
		b=$(fmt "$(median "$2" "$PC_NAME" "$3")" "$4")
		printf '| %s | %s | %s | %s |\n' "$1" "$a" "$b" "$(ratio "$a" "$b")"
	else
		printf '| %s | %s | not measured | |\n' "$1" "$a"
	fi
}

tls_rounds_table()
{
	echo "| proxy | round | req/s | p50 us | p99 us | CPU us/req | requests | socket errors | non-2xx | CPU % | other % | steal % | CPU 1 other % |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' 'NR > 1 { printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; print "" }' \
	    "$1"
}

# tls_report: the TLS section of results.md.
tls_report()
{
	hs_pct=$(fmt "$(median "$HS_TSV" nginx 10)" %.0f)
	echo
	echo "## TLS termination (issue 3)"
	echo
	echo "- both proxies: the same self-signed ECDSA P-256 certificate, TLS 1.2 and 1.3,"
	echo "  groups X25519:P-256, session tickets on; the backend stays plain HTTP"
	echo "- keep-alive: wrk -t$WRK_THREADS -c$WRK_CONNS over https (one handshake per" \
	    "connection, then up to $KEEPALIVE_REQS requests on it)"
	echo "- full handshakes: bench/tlsconns.c -c$WRK_CONNS: every request on a new" \
	    "connection with a full handshake (no session is ever offered; a resumed one would" \
	    "count as a failure), \"Connection: close\", one request; CPU us/req is then the" \
	    "proxy's CPU per handshake plus its request"
	echo "- negotiated (first full handshake): nginx: $(tls_params nginx); $PC_NAME:" \
	    "$(if [ "$PC_TLS" = 1 ]; then tls_params "$PC_NAME"; else echo "not measured"; fi)"
	if [ "$PC_TLS" = 1 ] && [ "$(tls_params nginx)" != "$(tls_params "$PC_NAME")" ]; then
		echo
		echo "**The two proxies negotiated different parameters: the comparison is not" \
		    "like for like.**"
	fi
	if [ "$PC_TLS" != 1 ]; then
		echo
		echo "**portcullis did not accept the TLS listener"
		echo "(see build/bench/run/portcullis/check-tls.log): nginx alone was measured.**"
	fi
	echo
	echo "| metric (median of rounds) | nginx | $PC_NAME | ratio $PC_NAME/nginx |"
	echo "|---|---:|---:|---:|"
	tls_row "TLS keep-alive requests/s (higher is better)" "$KA_TSV" 3 %.0f
	tls_row "TLS keep-alive latency p50, us" "$KA_TSV" 4 %.0f
	tls_row "TLS keep-alive latency p99, us" "$KA_TSV" 5 %.0f
	tls_row "TLS keep-alive proxy CPU per request, us" "$KA_TSV" 6 %.2f
	tls_row "full handshakes/s, one request each (higher is better)" "$HS_TSV" 3 %.0f
	tls_row "full handshake + request latency p50, us" "$HS_TSV" 4 %.0f
	tls_row "full handshake + request latency p99, us" "$HS_TSV" 5 %.0f
	tls_row "proxy CPU per full handshake + request, us" "$HS_TSV" 6 %.2f
	tls_row "proxy CPU use during handshake rounds, % of one core" "$HS_TSV" 10 %.0f
	if [ "$hs_pct" -lt 90 ]; then
		echo
		echo "nginx used only $hs_pct% of its core during the handshake rounds: the client"
		echo "(tlsconns on CPU 1, whose TLS work per handshake is as large as the server's)"
		echo "set the rate. Compare CPU per handshake there, not handshakes/s."
	fi
	echo
	echo "TLS keep-alive rounds (raw, in run order):"
	echo
	tls_rounds_table "$KA_TSV"
	echo
	echo "Full-handshake rounds (raw, in run order):"
	echo
	tls_rounds_table "$HS_TSV"
	if [ "$DISTURBED" -ne "$DISTURBED_PLAIN" ]; then
		echo
		echo "**$((DISTURBED - DISTURBED_PLAIN)) TLS round(s) ran while other work used" \
		    "CPU 0, even after repeats: treat these numbers with care.**"
	fi
	if [ "$FAILED" -ne "$FAILED_PLAIN" ]; then
		echo
		echo "**A TLS measurement failed (socket errors, non-2xx responses or resumed"
		echo "handshakes): these numbers are not valid.**"
	fi
}

# h2_params NAME: what the first HTTP/2 round with NAME negotiated (from h2load's output).
h2_params()
{
	awk -F': ' '
	/^TLS Protocol: /		{ p = $2 }
	/^Cipher: /			{ c = $2 }
	/^Server Temp Key: /		{ k = $2 }
	/^Application protocol: /	{ a = $2 }
	END { if (a != "") printf "%s, %s, %s, ALPN %s\n", p, c, k, a }' "$RUN/h2-$1-1.txt" 2>/dev/null
}

# h2_row METRIC COLUMN FORMAT: one row of the HTTP/2 table, "-" for an unmeasured proxy.
h2_row()
{
	a=$(fmt "$(median "$H2_TSV" nginx "$2")" "$3")
	if [ "$PC_H2" = 1 ]; then
		b=$(fmt "$(median "$H2_TSV" "$PC_NAME" "$2")" "$3")
		printf '| %s | %s | %s | %s |\n' "$1" "$a" "$b" "$(ratio "$a" "$b")"
	else
		printf '| %s | %s | not measured | |\n' "$1" "$a"
	fi
}

# h2_report: the HTTP/2 section of results.md.
h2_report()
{
	echo
	echo "## HTTP/2 (issue 3 item 4)"
	echo
	echo "- both proxies: TLS with ALPN h2 on a listener of their own, the same certificate" \
	    "and TLS settings as the TLS rounds; the backend stays plain HTTP/1.1 (nginx:" \
	    "upstream keepalive 64; portcullis: its pool of 64); no cap on streams per" \
	    "connection (nginx: keepalive_requests 1000000 on its HTTP/2 server)"
	echo "- client: h2load -t1 -c$H2_CONNS -m$H2_STREAMS -D$SECS (up to $H2_STREAMS" \
	    "concurrent streams on each of $H2_CONNS connections, one TLS handshake per" \
	    "connection); latency percentiles from its per-request log (nearest rank)"
	echo "- negotiated (first round): nginx: $(h2_params nginx); $PC_NAME:" \
	    "$(if [ "$PC_H2" = 1 ]; then h2_params "$PC_NAME"; else echo "not measured"; fi)"
	if [ "$PC_H2" != 1 ]; then
		echo
		echo "**portcullis did not accept or serve the HTTP/2 listener"
		echo "(see build/bench/run/portcullis/check-h2.log): nginx alone was measured.**"
	fi
	echo
	echo "| metric (median of rounds) | nginx | $PC_NAME | ratio $PC_NAME/nginx |"
	echo "|---|---:|---:|---:|"
	h2_row "HTTP/2 requests/s (higher is better)" 3 %.0f
	h2_row "HTTP/2 latency p50, us" 4 %.0f
	h2_row "HTTP/2 latency p99, us" 5 %.0f
	h2_row "HTTP/2 proxy CPU per request, us" 6 %.2f
	h2_row "proxy CPU use during HTTP/2 rounds, % of one core" 10 %.0f
	echo
	echo "HTTP/2 rounds (raw, in run order):"
	echo
	tls_rounds_table "$H2_TSV"
	if [ "$DISTURBED" -ne "$DISTURBED_PRE_H2" ]; then
		echo
		echo "**$((DISTURBED - DISTURBED_PRE_H2)) HTTP/2 round(s) ran while other work" \
		    "used CPU 0, even after repeats: treat these numbers with care.**"
	fi
	if [ "$FAILED" -ne "$FAILED_PRE_H2" ]; then
		echo
		echo "**An HTTP/2 measurement failed (failed, errored or timed-out requests, or"
		echo "non-2xx responses): these numbers are not valid.**"
	fi
}

# h2_bench: HTTP/2 requests/s, nginx and portcullis alternating as in the other parts,
# h2load on CPU 1; appended to the results after the TLS section.
h2_bench()
{
	H2_TSV=$OUT/rounds-h2.tsv
	H2_SLOTS=N
	[ "$PC_H2" = 1 ] && H2_SLOTS="N P"
	DISTURBED_PRE_H2=$DISTURBED
	FAILED_PRE_H2=$FAILED
	LOAD=h2load
	measure "$H2_TSV" h2 "$H2_SLOTS"
	LOAD=wrk
	h2_report >>"$RESULTS"
}

# ---- report
row()
{
	printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"
}
ngx_rps=$(fmt "$(median "$ROUNDS_TSV" nginx 3)" %.0f)
pc_rps=$(fmt "$(median "$ROUNDS_TSV" "$PC_NAME" 3)" %.0f)
ngx_p50=$(fmt "$(median "$ROUNDS_TSV" nginx 4)" %.0f)
pc_p50=$(fmt "$(median "$ROUNDS_TSV" "$PC_NAME" 4)" %.0f)
ngx_p99=$(fmt "$(median "$ROUNDS_TSV" nginx 5)" %.0f)
pc_p99=$(fmt "$(median "$ROUNDS_TSV" "$PC_NAME" 5)" %.0f)
ngx_cpu=$(fmt "$(median "$ROUNDS_TSV" nginx 6)" %.2f)
pc_cpu=$(fmt "$(median "$ROUNDS_TSV" "$PC_NAME" 6)" %.2f)
ngx_pct=$(fmt "$(median "$ROUNDS_TSV" nginx 10)" %.0f)
pc_pct=$(fmt "$(median "$ROUNDS_TSV" "$PC_NAME" 10)" %.0f)
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] &&
    commit="$commit (working tree had uncommitted changes)"
cpu_model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)

{
	echo "# portcullis vs nginx: reverse-proxy benchmark"
	echo
	if [ "$SELFTEST" = 1 ]; then
		echo "**HARNESS VALIDATION (BENCH_SELFTEST=1): the \"portcullis\" column is a"
		echo "second nginx proxy, identical to the first. Ratios should be close to 1.00.**"
		echo
	fi
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -r); CPU: $cpu_model, $(nproc --all) CPUs"
	echo "- nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'); wrk: $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f2)"
	if [ "$SELFTEST" = 1 ]; then
		echo "- portcullis: not run (selftest); tree at commit $commit"
	else
		echo "- portcullis: commit $commit, binary" \
		    "$(readlink portcullis 2>/dev/null || echo portcullis)"
	fi
	echo "- rounds: $ROUNDS x ${SECS}s per proxy, alternating, after ${WARMUP}s warm-up;" \
	    "wrk -t$WRK_THREADS -c$WRK_CONNS; idle test: $IDLE connections"
	echo "- rounds repeated because other work used CPU 0 meanwhile: $REPEATS"
	echo
	echo "| metric (median of rounds) | nginx | $PC_NAME | ratio $PC_NAME/nginx |"
	echo "|---|---:|---:|---:|"
	row "requests/s (higher is better)" "$ngx_rps" "$pc_rps"
	row "latency p50, us" "$ngx_p50" "$pc_p50"
	row "latency p99, us" "$ngx_p99" "$pc_p99"
	row "proxy CPU per request, us" "$ngx_cpu" "$pc_cpu"
	row "memory per idle keep-alive connection, bytes" "$IDLE_PER_N" "$IDLE_PER_P"
	row "proxy RSS before the idle test, kB" "$IDLE_BASE_N" "$IDLE_BASE_P"
	printf '| proxy CPU use during rounds, %% of one core | %s | %s | |\n' "$ngx_pct" "$pc_pct"
	printf '| idle connections failed or closed | %s | %s | |\n' "$IDLE_LOST_N" "$IDLE_LOST_P"
	echo
	echo "Rounds (raw, in run order):"
	echo
	echo "CPU %: the proxy's CPU time over the round. other %: CPU 0 time used by anything"
	echo "else during the round (should be near 0); steal %: time the hypervisor took from CPU 0;"
	echo "CPU 1 other %: CPU 1 time not charged to the backend or wrk (before issue 4 wrk's own"
	echo "time was wrongly left in it, which was the 20-30% floor of earlier reports)."
	echo
	echo "| proxy | round | req/s | p50 us | p99 us | CPU us/req | requests | socket errors | non-2xx | CPU % | other % | steal % | CPU 1 other % |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' 'NR > 1 { printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; print "" }' \
	    "$ROUNDS_TSV"
	if [ "$DISTURBED" -ne 0 ]; then
		echo
		echo "**$DISTURBED round(s) ran while other work used CPU 0 (other % above" \
		    "$DISTURB_PCT), even after repeats: treat these numbers with care.**"
	fi
	if [ "$FAILED" -ne 0 ]; then
		echo
		echo "**A measurement failed (socket errors, non-2xx responses or idle connections"
		echo "lost): these numbers are not valid.**"
	fi
} >"$RESULTS"

# ---- TLS: keep-alive requests over https, then full handshakes. Appended to the results
# after the plain-HTTP report, which stays exactly as it was.
if [ "$TLS" = 1 ]; then
	TLS_SLOTS=N
	[ "$PC_TLS" = 1 ] && TLS_SLOTS="N P"
	KA_TSV=$OUT/rounds-tls-keepalive.tsv
	HS_TSV=$OUT/rounds-tls-handshake.tsv
	DISTURBED_PLAIN=$DISTURBED
	FAILED_PLAIN=$FAILED
	WRK_SCHEME=https
	LOAD=wrk
	measure "$KA_TSV" tls-keepalive "$TLS_SLOTS"
	LOAD=tlsconns
	measure "$HS_TSV" tls-handshake "$TLS_SLOTS"
	LOAD=wrk
	WRK_SCHEME=http
	tls_report >>"$RESULTS"
fi
[ "$H2" = 1 ] && h2_bench
[ "$AUTH" = 1 ] && auth_bench

echo
cat "$RESULTS"
echo
say "results in $RESULTS; raw wrk output and logs in $RUN"
if [ "$FAILED" -ne 0 ]; then
	echo "bench: FAILED: see the messages above" >&2
	exit 1
fi
exit 0
