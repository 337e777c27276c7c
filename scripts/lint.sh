#!/bin/sh
# make lint: static checks that need no build. cppcheck (the two suppressed checks are
# whole-program false positives here: out-parameters passed uninitialized on purpose, and
# one-past-the-end pointers), then the module boundaries: a private *_int.h header is
# included only from its own module directory, and OpenSSL headers only from src/tls/ and
# src/crypto/ (tests and fuzz targets may reach inside).
set -e
cppcheck -q --enable=warning,portability,performance --inline-suppr --error-exitcode=1 \
    -D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem --suppress=ctuuninitvar \
    --suppress=ctuPointerArith --std=c11 src
bad=0
for f in $(grep -rlE '#include "[a-z]+/[a-z_]+_int\.h"' src); do
	for inc in $(grep -oE '#include "[a-z]+/[a-z_]+_int\.h"' "$f" | sed 's/#include "\(.*\)"/\1/'); do
		mod=${inc%%/*}
		case "$f" in
		src/"$mod"/*) ;;
		*) echo "lint: $f includes $inc, private to src/$mod/"; bad=1 ;;
		esac
	done
done
# OpenSSL belongs to tls/ (connections) and crypto/ (JOSE keys and signatures), STYLE.md 1:
# elsewhere SSL objects are opaque struct ssl_st pointers and keys are struct pc_pkey, so
# every OpenSSL call, and every key, stays in those two modules.
for f in $(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]openssl/' src); do
	case "$f" in
	src/tls/*|src/crypto/*) ;;
	*) echo "lint: $f includes an OpenSSL header, private to src/tls/ and src/crypto/"; bad=1 ;;
	esac
done
[ "$bad" = 0 ]
echo "lint: clean"
