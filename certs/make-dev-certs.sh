#!/usr/bin/env bash
# Development certificates for ACP Gateway's TLS listeners (docs/security.md, "Transport"):
#   OUTDIR/ca.crt, ca.key            a development CA (it issues everything below)
#   OUTDIR/server.crt, server.key    the gateway's server certificate: localhost, 127.0.0.1, ::1
#   OUTDIR/elsewhere.crt, .key       a server certificate for another host (subjectAltName
#                                    IP:192.0.2.10 only, though its CN says localhost): what
#                                    a client must refuse from 127.0.0.1 or localhost
#   OUTDIR/clients/NAME.crt, .key    one client certificate per organisation of
#                                    ../shared/partners/organisations.md (NAME = its ODS code),
#                                    plus privacy-officer and service-operator
# Client certificate subjects follow the gateway's rule: OU = the organisation's ODS code,
# O = its name, CN = the sending system.
#
# Usage: certs/make-dev-certs.sh [OUTDIR]     (default certs/dev, which git ignores)
# Files that exist are kept (re-running adds what is missing; delete OUTDIR to start over).
# Keys are written unencrypted, readable by the owner only. NEVER use these in production, and
# never commit them: production certificates come from the organisation's PKI.
set -euo pipefail

out=${1:-certs/dev}
days=${ACP_DEV_CERT_DAYS:-825}
command -v openssl >/dev/null || { echo "make-dev-certs: the openssl command is needed (Debian package openssl)" >&2; exit 1; }
umask 077
mkdir -p "$out/clients"

cnf="$out/.openssl.cnf"
cat >"$cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[elsewhere_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:192.0.2.10
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

if [ ! -s "$out/ca.crt" ] || [ ! -s "$out/ca.key" ]; then
  openssl req -config "$cnf" -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -sha256 -days 3650 \
    -keyout "$out/ca.key" -out "$out/ca.crt" -extensions ca_ext \
    -subj "/C=GB/O=Northshire ICS (development only)/CN=ACP Gateway Development CA" 2>/dev/null
fi

# issue BASENAME EXTENSIONS SUBJECT KEYTYPE...: the server's key is RSA (every client can use
# it, and the NHS cipher list's EDH suites need it), the others ECDSA P-256.
issue() {
  local base=$1 ext=$2 subject=$3
  shift 3
  [ -s "$base.crt" ] && [ -s "$base.key" ] && return 0
  openssl req -config "$cnf" -new -newkey "$@" -nodes -sha256 \
    -keyout "$base.key" -out "$base.csr" -subj "$subject" 2>/dev/null
  openssl x509 -req -in "$base.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
    -extfile "$cnf" -extensions "$ext" -out "$base.crt" 2>/dev/null
  rm -f "$base.csr"
}

issue "$out/server" server_ext "/C=GB/O=Northshire ICS (development only)/CN=localhost" rsa:2048
issue "$out/elsewhere" elsewhere_ext "/C=GB/O=Northshire ICS (development only)/CN=localhost" \
  rsa:2048

# NAME | ODS code (OU) | organisation (O) | system (CN)
while IFS='|' read -r name ods org system; do
  issue "$out/clients/$name" client_ext "/C=GB/O=$org/OU=$ods/CN=$system" \
    ec -pkeyopt ec_paramgen_curve:P-256
done <<'ORGS'
8WB01|8WB01|Willowbrook Children's Hospice|hospice record system export
RX9|RX9|Northshire Community Health NHS Trust|community nursing export
RX8|RX8|Northshire University Hospitals NHS Trust|hospital integration engine
X81001|X81001|Castle Street Surgery|GP clinical system
X81002|X81002|Meadow Lane Medical Centre|GP clinical system
X82001|X82001|Northshire Urgent Care|urgent care clinical system
privacy-officer|QNS|Northshire ICS (gateway operator)|privacy officer console
service-operator|QNS|Northshire ICS (gateway operator)|service operator console
ORGS

# Certificates are public; keys stay owner-only.
chmod 644 "$out"/*.crt "$out"/clients/*.crt
rm -f "$cnf"
echo "development certificates in $out (CA: $out/ca.crt)"
