#!/bin/sh
# Installs the Debian packages portcullis needs to build, test and benchmark.
# Idempotent and quick when everything is present: dpkg is asked first, apt only if needed.
set -e
PKGS="build-essential clang pkg-config libyaml-dev libcmocka-dev \
libclang-rt-14-dev python3 python3-pytest python3-h2 curl wrk nginx-light procps cppcheck \
libssl-dev openssl libnghttp2-dev nghttp2-client testssl.sh libjansson-dev \
python3-jwt python3-cryptography"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
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
