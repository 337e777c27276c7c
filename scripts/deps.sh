#!/bin/sh
# Installs the Debian packages portcullis needs to build, test and benchmark.
# Idempotent and quick when everything is present: dpkg is asked first, apt only if needed.
set -e
PKGS="build-essential clang pkg-config libyaml-dev libcmocka-dev \
libclang-rt-14-dev python3 python3-pytest python3-h2 curl wrk nginx-light procps cppcheck \
libssl-dev openssl libnghttp2-dev nghttp2-client testssl.sh libjansson-dev \
python3-jwt python3-cryptography libcurl4-openssl-dev"
# The OpenID Provider of the integration tests (tests/oidc/op.js) runs on node: Debian's
# nodejs and npm, unless node and npm are already on the PATH (node 18 or later will do).
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
# Its npm packages exactly as tests/oidc/package-lock.json pins them; `npm ci` runs again
# only when the lockfile is newer than the installed tree (npm's own copy of it).
oidc_provider() {
	oidc="$(dirname "$0")/../tests/oidc"
	[ -f "$oidc/node_modules/.package-lock.json" ] &&
	    [ ! "$oidc/package-lock.json" -nt "$oidc/node_modules/.package-lock.json" ] && return 0
	echo "deps: npm ci in tests/oidc"
	npm ci --prefix "$oidc" --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null
}
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && { oidc_provider; exit 0; }
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# nginx-light's postinst would start nginx on port 80: policy-rc.d keeps it stopped.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.portcullis
chmod +x /usr/sbin/policy-rc.d.portcullis
[ -e /usr/sbin/policy-rc.d ] || ln -s /usr/sbin/policy-rc.d.portcullis /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends $missing
[ -L /usr/sbin/policy-rc.d ] && rm -f /usr/sbin/policy-rc.d
rm -f /usr/sbin/policy-rc.d.portcullis
oidc_provider
