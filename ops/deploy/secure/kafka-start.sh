#!/bin/sh
# Starts a single-node KRaft broker (broker + controller) whose clients must use SASL_SSL with
# SCRAM-SHA-512, under the standard authorizer (deny unless an ACL allows). The super user 'admin'
# is created when the storage is formatted, because SCRAM users cannot be added before a broker
# runs and nobody may connect without one; 'ops security init' adds the others as admin.
# Settings (environment):
#   KAFKA_ADMIN_PASSWORD   required; the admin user's password
#   KAFKA_CERTS_DIR        broker.p12, broker.password, ca.crt from certs.sh      (default /certs)
#   KAFKA_DATA_DIR         log and metadata directory                             (default /var/lib/kafka/data)
#   KAFKA_INTERNAL_HOST/_PORT   listener for containers      (default kafka:9092)
#   KAFKA_EXTERNAL_HOST/_PORT   listener for the host        (default localhost:29093)
#   KAFKA_CONTROLLER_PORT       loopback-only controller     (default 9093)
#   KAFKA_HOME             Kafka installation                                     (default /opt/kafka)
set -eu
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD (see docker-compose.secure.yml)}"
case "$KAFKA_ADMIN_PASSWORD" in *'"'*) echo "KAFKA_ADMIN_PASSWORD must not contain '\"'" >&2; exit 2 ;; esac
home=${KAFKA_HOME:-/opt/kafka}
certs=${KAFKA_CERTS_DIR:-/certs}
data=${KAFKA_DATA_DIR:-/var/lib/kafka/data}
internal_host=${KAFKA_INTERNAL_HOST:-kafka}
internal_port=${KAFKA_INTERNAL_PORT:-9092}
external_host=${KAFKA_EXTERNAL_HOST:-localhost}
external_port=${KAFKA_EXTERNAL_PORT:-29093}
controller_port=${KAFKA_CONTROLLER_PORT:-9093}
config=${KAFKA_CONFIG_FILE:-/tmp/kinfer-server.properties}
jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$KAFKA_ADMIN_PASSWORD\";"

umask 077
cat > "$config" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listeners=INTERNAL://0.0.0.0:$internal_port,EXTERNAL://0.0.0.0:$external_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=INTERNAL://$internal_host:$internal_port,EXTERNAL://$external_host:$external_port
listener.security.protocol.map=INTERNAL:SASL_SSL,EXTERNAL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=$jaas
listener.name.external.scram-sha-512.sasl.jaas.config=$jaas
ssl.keystore.type=PKCS12
ssl.keystore.location=$certs/broker.p12
ssl.keystore.password=$(cat "$certs/broker.password")
# The broker is a client of itself (inter-broker listener): it trusts the same CA.
ssl.truststore.type=PEM
ssl.truststore.location=$certs/ca.crt
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
# The controller listener is bound to loopback inside this container, hence ANONYMOUS.
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
log.dirs=$data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPERTIES

# Settings for the healthcheck and for kafka-*.sh tools run inside this container as admin.
cat > "${KAFKA_ADMIN_CLIENT_FILE:-/tmp/admin.properties}" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$jaas
ssl.truststore.type=PEM
ssl.truststore.location=$certs/ca.crt
PROPERTIES

if [ ! -f "$data/meta.properties" ]; then
  "$home/bin/kafka-storage.sh" format --config "$config" --cluster-id "$("$home/bin/kafka-storage.sh" random-uuid)" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]"
fi
exec "$home/bin/kafka-server-start.sh" "$config"
