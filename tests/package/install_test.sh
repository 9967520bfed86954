#!/bin/bash
# The Debian package (cmake/package.cmake) as an operator gets it: built by CPack from this
# build, installed with dpkg — into a scratch root, with the maintainer scripts run there
# (dpkg --root --force-script-chrootless; DPKG_ROOT tells them where) — then the installed
# binary started with the installed configuration, serving from the installed definitions
# and mappings (never the source tree), answering HTTPS with mutual TLS and /metrics; then
# removed and purged, the store kept.
#   install_test.sh BUILD_DIR CERTS_DIR
# Run by ctest (package.InstallsWithDpkgAndStarts). Needs dpkg, dpkg-deb, cpack, curl.
set -euo pipefail
# dpkg sets owners as it unpacks: root only (ctest reads 77 as skipped).
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (dpkg)"; exit 77; fi
build=$(cd "$1" && pwd)
certs=$(cd "$2" && pwd)
work=$(mktemp -d)
gateway_pid=""
cleanup() {
  if [ -n "$gateway_pid" ]; then kill "$gateway_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- the package ----
cpack --config "$build/CPackConfig.cmake" -B "$work/out" >/dev/null
deb=$(ls "$work"/out/acp-gateway_*_*.deb)
[ "$(dpkg-deb -f "$deb" Package)" = acp-gateway ] || fail "package name"
dpkg-deb -f "$deb" Depends | grep -q 'libpoconet80' || fail "Depends lacks the Poco libraries: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Depends | grep -q 'adduser' || fail "Depends lacks adduser"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/acp-gateway ./usr/share/acp-gateway/conformance/r4/types.json \
            ./usr/share/acp-gateway/conformance/acp/StructureDefinition-acp-careplan.json \
            ./usr/share/acp-gateway/conformance/ukcore/UKCore-Patient.xml \
            ./usr/share/acp-gateway/mappings/hospice/conceptmaps/hospice-resuscitation.json \
            ./usr/share/acp-gateway/mappings/community/community-export-1.xsd \
            ./etc/acp-gateway/gateway.properties ./lib/systemd/system/acp-gateway.service \
            ./usr/share/doc/acp-gateway/operations.md ./usr/share/doc/acp-gateway/copyright; do
  grep -qx "$path" <<<"$contents" || fail "$path is not in the package"
done
if grep -q '\.cc$\|/samples/' <<<"$contents"; then fail "sources or samples are in the package"; fi
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/acp-gateway/gateway.properties "$work/control/conffiles" || fail "the configuration is not a conffile"

# ---- installed with dpkg into a scratch root ----
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-script-chrootless --force-depends --log="$work/dpkg.log" \
     -i "$deb" >"$work/install.out" 2>&1 || { cat "$work/install.out"; fail "dpkg -i"; }
dpkg --root="$root" -s acp-gateway | grep -qx 'Status: install ok installed' || fail "not installed"
grep -q 'installed, not started' "$work/install.out" || fail "postinst said nothing of what to do next"
[ -s "$root/etc/acp-gateway/token-key.pem" ] || fail "postinst made no token key"
grep -q 'BEGIN PRIVATE KEY' "$root/etc/acp-gateway/token-key.pem" || fail "the token key is not a key"
[ "$(stat -c %a "$root/etc/acp-gateway/token-key.pem")" = 640 ] || fail "the token key is readable by others"
[ "$(stat -c %a "$root/var/lib/acp-gateway")" = 700 ] || fail "the data folder is not 0700"
grep -q '^ExecStart=/usr/bin/acp-gateway --config=/etc/acp-gateway/gateway.properties$' \
  "$root/lib/systemd/system/acp-gateway.service" || fail "the unit does not start the installed binary"

# ---- started from the scratch root: only what a site supplies is given ----
# (its certificates, the paths of the scratch root, free ports on loopback, a store of its own)
bin="$root/usr/bin/acp-gateway"
site=(--config="$root/etc/acp-gateway/gateway.properties"
      -Dgateway.http.host=127.0.0.1 -Dgateway.http.port=0
      -Dgateway.mllp.host=127.0.0.1 -Dgateway.mllp.port=0 -Dgateway.metrics.port=0
      -Dgateway.http.baseUrl=https://localhost
      -Dgateway.tls.certificate="$certs/server.crt" -Dgateway.tls.privateKey="$certs/server.key"
      -Dgateway.tls.caCertificates="$certs/ca.crt"
      -Dgateway.auth.clients="$root/etc/acp-gateway/clients.json"
      -Dgateway.auth.tokenKey="$root/etc/acp-gateway/token-key.pem"
      -Dgateway.store.url=sqlite:"$root/var/lib/acp-gateway/acp.db")
"$bin" check-config "${site[@]}" >"$work/check.out" || { cat "$work/check.out"; fail "check-config"; }
grep -q "^ok    model: FHIR R4 definitions from $root/usr/share/acp-gateway/conformance/r4/" "$work/check.out" \
  || { cat "$work/check.out"; fail "the installed binary does not read the installed definitions"; }
grep -q "^ok    mappings: .*$root/usr/share/acp-gateway/mappings" "$work/check.out" \
  || { cat "$work/check.out"; fail "the installed binary does not read the installed mappings"; }
"$bin" "${site[@]}" >"$work/gateway.out" 2>"$work/gateway.err" &
gateway_pid=$!
for _ in $(seq 1 100); do
  grep -q '^ready ' "$work/gateway.out" && break
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$work/gateway.err"; fail "the gateway exited"; }
  sleep 0.1
done
ready=$(head -1 "$work/gateway.out")
[[ "$ready" =~ ^ready\ http=127\.0\.0\.1:([0-9]+)\ mllp=127\.0\.0\.1:[0-9]+\ metrics=127\.0\.0\.1:([0-9]+)$ ]] \
  || fail "unexpected ready line: $ready"
https_port=${BASH_REMATCH[1]}
metrics_port=${BASH_REMATCH[2]}
metadata=$(curl -sS --fail --cacert "$certs/ca.crt" --cert "$certs/clients/X81001.crt" \
                --key "$certs/clients/X81001.key" --resolve "localhost:$https_port:127.0.0.1" \
                -H 'Accept: application/fhir+json' "https://localhost:$https_port/metadata")
version=$(sed -n 's/^project(acp_gateway VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
grep -q "\"version\":\"$version\"" <<<"$metadata" || fail "the CapabilityStatement does not name version $version"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$certs/ca.crt" \
            --resolve "localhost:$https_port:127.0.0.1" "https://localhost:$https_port/metadata" || true)
[ "$code" = 000 ] || fail "served without a client certificate ($code)"
curl -sS --fail "http://127.0.0.1:$metrics_port/metrics" | grep -qx "acp_build_info{version=\"$version\"} 1" \
  || fail "/metrics does not answer"
kill -TERM "$gateway_pid"
wait "$gateway_pid" || fail "the gateway did not stop cleanly"
gateway_pid=""

# ---- removed, then purged: the package's configuration goes with the purge, the store and
# the administrator's own files never ----
echo "administrator's certificate" > "$root/etc/acp-gateway/tls/server-chain.pem"
dpkg --root="$root" --force-script-chrootless --force-depends --log="$work/dpkg.log" -r acp-gateway >/dev/null
[ ! -e "$root/usr/bin/acp-gateway" ] || fail "the binary is still there after remove"
[ -e "$root/etc/acp-gateway/gateway.properties" ] || fail "remove took the configuration"
dpkg --root="$root" --force-script-chrootless --force-depends --log="$work/dpkg.log" -P acp-gateway >/dev/null
[ ! -e "$root/etc/acp-gateway/gateway.properties" ] || fail "purge left the configuration"
[ ! -e "$root/etc/acp-gateway/token-key.pem" ] || fail "purge left the token key"
[ ! -e "$root/etc/acp-gateway/clients.json" ] || fail "purge left the client registry"
[ -e "$root/etc/acp-gateway/tls/server-chain.pem" ] || fail "purge removed the administrator's file"
[ -e "$root/var/lib/acp-gateway/acp.db" ] || fail "purge removed the store"
echo "ok: $(basename "$deb") installed, served and removed"
