#!/bin/sh
# Confirms the binary is PIE with full RELRO and a non-executable stack.
set -e
bin=$1
readelf -h "$bin" | grep -q 'DYN' || { echo "check: $bin is not PIE"; exit 1; }
readelf -l "$bin" | grep -q 'GNU_RELRO' || { echo "check: $bin lacks RELRO"; exit 1; }
readelf -d "$bin" | grep -Eq 'BIND_NOW|FLAGS.*NOW' || { echo "check: $bin lacks BIND_NOW"; exit 1; }
readelf -lW "$bin" | grep GNU_STACK | grep -q 'RW ' || { echo "check: executable stack"; exit 1; }
echo "check: $bin is PIE, full RELRO, non-executable stack"
