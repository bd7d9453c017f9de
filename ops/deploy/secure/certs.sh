#!/bin/sh
# A private CA and the broker's TLS key pair signed by it (PKCS12, made with keytool), for
# docker-compose.secure.yml. Usage: certs.sh DIR [HOST...] (default hosts: kafka localhost).
# Writes into DIR:
#   broker.p12 + broker.password   the broker's key and chain (owner BROKER_UID if set, mode 0600)
#   ca.crt                         the CA certificate (PEM) clients trust (ssl.truststore.type=PEM)
# Idempotent: an existing DIR/ca.crt is kept, so clients keep trusting the broker.
set -eu
dir=${1:?usage: certs.sh DIR [HOST...]}
shift
[ $# -gt 0 ] || set -- kafka localhost
if [ -f "$dir/ca.crt" ]; then
  echo "certs.sh: certificates already in $dir; delete it to make new ones"
  exit 0
fi
mkdir -p "$dir"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ca_pass=$(secret)
broker_pass=$(secret)

# Subject alternative names: host names as dns:, IPv4 literals as ip:.
san=""
for host in "$@"; do
  case "$host" in
    *[!0-9.]*) san="$san,dns:$host" ;;
    *) san="$san,ip:$host" ;;
  esac
done
san=${san#,}

keytool -genkeypair -alias ca -keyalg EC -groupname secp256r1 -dname "CN=kinfer-ca" -ext bc:c \
  -validity 825 -storetype PKCS12 -keystore "$work/ca.p12" -storepass "$ca_pass"
keytool -exportcert -rfc -alias ca -keystore "$work/ca.p12" -storepass "$ca_pass" -file "$dir/ca.crt"

keytool -genkeypair -alias broker -keyalg EC -groupname secp256r1 -dname "CN=$1" -validity 825 \
  -storetype PKCS12 -keystore "$dir/broker.p12" -storepass "$broker_pass"
keytool -certreq -alias broker -keystore "$dir/broker.p12" -storepass "$broker_pass" -file "$work/broker.csr"
keytool -gencert -rfc -alias ca -keystore "$work/ca.p12" -storepass "$ca_pass" -validity 825 \
  -infile "$work/broker.csr" -outfile "$work/broker.crt" \
  -ext "SAN=$san" -ext "KU=digitalSignature,keyAgreement" -ext "EKU=serverAuth"
keytool -importcert -noprompt -alias ca -file "$dir/ca.crt" -keystore "$dir/broker.p12" -storepass "$broker_pass"
keytool -importcert -noprompt -alias broker -file "$work/broker.crt" -keystore "$dir/broker.p12" -storepass "$broker_pass"
printf '%s' "$broker_pass" > "$dir/broker.password"
chmod 0644 "$dir/ca.crt"
chmod 0755 "$dir"
# The CA's private key is thrown away with $work: nobody can sign another broker with it.
if [ -n "${BROKER_UID:-}" ]; then
  chown "$BROKER_UID" "$dir/broker.p12" "$dir/broker.password"
fi
echo "certs.sh: CA and broker certificate for [$san] in $dir"
