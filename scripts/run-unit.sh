#!/bin/sh
# Runs each unit-test binary with a timeout; fails if any fails. Prints one summary line.
pass=0; fail=0
for t in "$@"; do
	if timeout 60 "$t" >"$t.log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); echo "FAILED: $t"; cat "$t.log"
	fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ]
