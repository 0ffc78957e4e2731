#!/usr/bin/env bash
# Private PostgreSQL 15 + PgBouncer (transaction mode) on loopback, in a state folder, run as an
# unprivileged OS user because initdb refuses root.
#   ops/stack.sh up   STATE PG_PORT BOUNCER_PORT [POOL_GROUPS]   start (initialising on first use)
#   ops/stack.sh down STATE                                      stop both
# Writes STATE/secrets.env (mode 600) with the generated role passwords and the two URLs.
set -euo pipefail
cmd=${1:?usage: stack.sh up|down STATE ...}
STATE=$(realpath -m "${2:?state folder}")
RUNNER=${NZILA_OS_USER:-nzila}
PGBIN=/usr/lib/postgresql/15/bin

as_runner() { if [ "$(id -u)" = 0 ]; then runuser -u "$RUNNER" -- "$@"; else "$@"; fi; }

stop() {
  if [ -f "$STATE/pgbouncer.pid" ]; then
    local pid; pid=$(cat "$STATE/pgbouncer.pid")
    # PgBouncer 1.18 shuts down on SIGINT once clients leave; give it a moment, then insist.
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$STATE/pgbouncer.pid"
  fi
  if [ -f "$STATE/data/postmaster.pid" ]; then
    as_runner "$PGBIN/pg_ctl" -D "$STATE/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 did not open" >&2; return 1; }

up() {
  local pg_port=${3:?pg port} bouncer_port=${4:?bouncer port} groups=${5:-2}
  if [ "$(id -u)" = 0 ] && ! id -u "$RUNNER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUNNER"
  fi
  mkdir -p "$STATE"
  [ "$(id -u)" = 0 ] && chown "$RUNNER" "$STATE"
  chmod 700 "$STATE"
  # The runner must be able to reach the state folder through its parents.
  local p=$STATE; while [ "$p" != / ]; do p=$(dirname "$p"); [ "$(id -u)" = 0 ] && chmod o+x "$p" 2>/dev/null || true; done
  if [ ! -f "$STATE/secrets.env" ]; then
    umask 077
    { echo "NZILA_OWNER_PASSWORD=$(openssl rand -hex 24)"; echo "NZILA_APP_PASSWORD=$(openssl rand -hex 24)"; } > "$STATE/secrets.env"
  fi
  # shellcheck disable=SC1091
  . "$STATE/secrets.env"
  if [ ! -f "$STATE/data/PG_VERSION" ]; then
    as_runner "$PGBIN/initdb" -D "$STATE/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$STATE/initdb.log"
    cat >> "$STATE/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$STATE'
max_connections = ${NZILA_PG_MAX_CONNECTIONS:-200}
shared_buffers = 256MB
max_locks_per_transaction = 1024
fsync = ${NZILA_PG_FSYNC:-on}
synchronous_commit = ${NZILA_PG_SYNC_COMMIT:-on}
CONF
  fi
  # TLS on both servers, offered not required: a private CA and a server certificate for 127.0.0.1 and
  # localhost, so a client can connect with sslmode=verify-full&sslrootcert=STATE/tls/ca.pem (the test
  # suite does); loopback clients that say nothing (nzila dev) stay plaintext.
  if [ ! -f "$STATE/tls/server.pem" ]; then
    mkdir -p "$STATE/tls"
    (
      umask 077
      cd "$STATE/tls"
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 3650 \
        -subj "/CN=nzila stack CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 825 -extfile server.ext 2>/dev/null
      rm -f server.csr server.ext ca.srl ca.key
      chmod 644 ca.pem
    )
    [ "$(id -u)" = 0 ] && chown -R "$RUNNER" "$STATE/tls"
  fi
  if ! grep -q "^ssl = on" "$STATE/data/postgresql.conf"; then
    printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\nssl_min_protocol_version = 'TLSv1.2'\n" \
      "$STATE/tls/server.pem" "$STATE/tls/server.key" >> "$STATE/data/postgresql.conf"
    as_runner "$PGBIN/pg_ctl" -D "$STATE/data" status >/dev/null 2>&1 && as_runner "$PGBIN/pg_ctl" -D "$STATE/data" reload >/dev/null
  fi
  if ! as_runner "$PGBIN/pg_ctl" -D "$STATE/data" status >/dev/null 2>&1; then
    as_runner "$PGBIN/pg_ctl" -D "$STATE/data" -l "$STATE/postgres.log" -w -o "-p $pg_port" start >/dev/null
  fi
  # Roles: nzila_owner owns and provisions (CREATEROLE, not superuser, so forced RLS binds it);
  # nzila_app is the data plane login and owns nothing.
  as_runner psql -q -h "$STATE" -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -v owner_pw="$NZILA_OWNER_PASSWORD" -v app_pw="$NZILA_APP_PASSWORD" >/dev/null <<'SQL'
SELECT 'CREATE ROLE nzila_owner LOGIN CREATEROLE' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nzila_owner') \gexec
SELECT 'CREATE ROLE nzila_app LOGIN NOINHERIT' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nzila_app') \gexec
ALTER ROLE nzila_owner PASSWORD :'owner_pw';
ALTER ROLE nzila_app PASSWORD :'app_pw';
SELECT 'CREATE DATABASE nzila OWNER nzila_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'nzila') \gexec
REVOKE ALL ON DATABASE nzila FROM PUBLIC;
GRANT CONNECT ON DATABASE nzila TO nzila_owner, nzila_app;
SQL
  as_runner psql -q -h "$STATE" -p "$pg_port" -U postgres -d nzila -v ON_ERROR_STOP=1 -c "REVOKE ALL ON SCHEMA public FROM PUBLIC; ALTER SCHEMA public OWNER TO nzila_owner;" >/dev/null
  {
    echo "[databases]"
    echo "nzila = host=127.0.0.1 port=$pg_port dbname=nzila"
    for g in $(seq 0 $((groups - 1))); do echo "nzila_g$g = host=127.0.0.1 port=$pg_port dbname=nzila"; done
    cat <<INI
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir = $STATE
pool_mode = transaction
auth_type = scram-sha-256
auth_file = $STATE/userlist.txt
default_pool_size = ${NZILA_BOUNCER_POOL_SIZE:-16}
max_client_conn = 1000
server_lifetime = 3600
server_idle_timeout = 600
ignore_startup_parameters = extra_float_digits
stats_users = nzila_owner
client_tls_sslmode = allow
client_tls_cert_file = $STATE/tls/server.pem
client_tls_key_file = $STATE/tls/server.key
client_tls_protocols = tlsv1.2,tlsv1.3
stats_period = 1
logfile = $STATE/pgbouncer.log
pidfile = $STATE/pgbouncer.pid
INI
  } > "$STATE/pgbouncer.ini"
  (umask 077; printf '"nzila_app" "%s"\n"nzila_owner" "%s"\n' "$NZILA_APP_PASSWORD" "$NZILA_OWNER_PASSWORD" > "$STATE/userlist.txt")
  [ "$(id -u)" = 0 ] && chown "$RUNNER" "$STATE/pgbouncer.ini" "$STATE/userlist.txt" "$STATE/secrets.env"
  if ! { [ -f "$STATE/pgbouncer.pid" ] && kill -0 "$(cat "$STATE/pgbouncer.pid")" 2>/dev/null; }; then
    as_runner pgbouncer -q -d "$STATE/pgbouncer.ini"
  fi
  wait_port "$bouncer_port"
  {
    echo "NZILA_DIRECT_URL=postgres://nzila_owner:$NZILA_OWNER_PASSWORD@127.0.0.1:$pg_port/nzila"
    echo "NZILA_PGBOUNCER_URL=postgres://nzila_app:$NZILA_APP_PASSWORD@127.0.0.1:$bouncer_port/nzila"
    echo "NZILA_POOL_GROUPS=$groups"
    echo "NZILA_DATABASE_CA=$STATE/tls/ca.pem"
  } > "$STATE/urls.env"
  chmod 600 "$STATE/urls.env"
}

case "$cmd" in
  up) up "$@" ;;
  down) stop ;;
  *) echo "usage: stack.sh up|down STATE ..." >&2; exit 2 ;;
esac
