#!/bin/sh
# smoke: each fuzz target runs a few seconds over its corpus (make test); long: 10 min each.
set -e
mode=$1; shift
secs=4; [ "$mode" = long ] && secs=600
for t in "$@"; do
	mkdir -p "fuzz/corpus/$t" "build/fuzz/new/$t"
	dict=""; [ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
	echo "fuzz: $t for ${secs}s"
	"build/fuzz/fuzz_$t" -max_total_time=$secs -print_final_stats=0 $dict \
	    "build/fuzz/new/$t" "fuzz/corpus/$t" >"build/fuzz/$t.log" 2>&1 ||
	    { tail -50 "build/fuzz/$t.log"; echo "fuzz: $t FAILED"; exit 1; }
done
echo "fuzz: $# targets clean"
