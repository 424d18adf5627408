#!/bin/sh
# Makes a self-signed development certificate for the handset HTTPS API
# (and the SMPP TLS listener): EC P-256, CN localhost, SAN IP:127.0.0.1
# and DNS:localhost, valid 365 days. The same as sealgate makes by itself
# when the configured cert and key files are both missing. Never for
# production.
#
# usage: conf/make-dev-cert.sh [CERT [KEY]]   (default var/handset-api.crt var/handset-api.key,
#   the paths conf/sealgate.yaml uses)
# Refuses to overwrite existing files. Trust it in curl with --cacert CERT.
set -eu
cert=${1:-var/handset-api.crt}
key=${2:-var/handset-api.key}
for f in "$cert" "$key"; do
	if [ -e "$f" ]; then
		echo "make-dev-cert: $f exists; remove it first" >&2
		exit 1
	fi
done
mkdir -p "$(dirname "$cert")" "$(dirname "$key")"
# the key is never readable by others, not even while it is written
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
	-nodes -days 365 -subj /CN=localhost \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,digitalSignature,keyCertSign" \
	-addext "extendedKeyUsage=serverAuth" \
	-keyout "$key" -out "$cert" 2>/dev/null
chmod 600 "$key"
chmod 644 "$cert"
echo "make-dev-cert: wrote $cert and $key (0600)"
