#!/usr/bin/env bash
# Run a real keystone for imageapi's tests: installed from PyPI into its own
# virtualenv, SQLite and fernet tokens, served by gunicorn on a free loopback port.
#
# Usage: tools/keystone/start-keystone.sh COMMAND
#   install          create the virtualenv, or keep it when the versions match
#   start            install if needed, start keystone on a fresh data dir, provision
#                    it (provision.py) and print its URL and env files; with keystone
#                    already running on that data dir, only print them
#   stop | status | restart
#   run [--] CMD...  start on its own data dir, run CMD with the variables of
#                    keystone.env exported, stop; exits with CMD's status. This is
#                    what `tox -e keystone` runs.
#
# What start provisions (admin's password is new on every start):
#   admin (bootstrap; admin on project admin and on the system), projects alpha and
#   beta with users <project>-member (member, reader) and <project>-reader (reader),
#   project service with user imageapi (admin, service; system reader, for
#   oslo.limit), service type "image" with endpoints at IMAGEAPI_URL, and registered
#   limits image_size_total (MiB), image_stage_total (MiB), image_count_total,
#   image_count_uploading, with smaller project limits for beta.
#
# Files in the data dir: keystone.env (KEYSTONE_URL, KEYSTONE_AUTH_URL,
# KEYSTONE_PID, ..., IMAGEAPI_TEST_KEYSTONE_INFO; `source` it), keystone.json (every
# id and password, read by imageapi/tests/functional/keystone/fixtures.py),
# openrc/<user>.env (OS_* variables for each user) and log/.
#
# Settings (environment):
#   KEYSTONE_HOME      cache of venv and data dirs (<repo>/.tox/keystone-server)
#   KEYSTONE_VENV      the virtualenv ($KEYSTONE_HOME/venv)
#   KEYSTONE_DATA      data dir of start, stop, status ($KEYSTONE_HOME/data);
#                      run always uses $KEYSTONE_HOME/run
#   KEYSTONE_HOST      listen address (127.0.0.1)
#   KEYSTONE_PORT      listen port (0: a free one, picked by the kernel)
#   KEYSTONE_THREADS   gunicorn threads (1: see "SQLite" below)
#   KEYSTONE_VERSION   keystone release on PyPI (30.0.0)
#   GUNICORN_VERSION   gunicorn release on PyPI (27.0.1)
#   KEYSTONE_CONSTRAINTS  pip constraints for the rest (tools/keystone/constraints.txt;
#                      empty: none)
#   KEYSTONE_PYTHON    interpreter that creates the virtualenv (python3)
#   KEYSTONE_NO_INSTALL=1  exit with status 3 instead of installing
#   KEYSTONE_PARENT_PID    stop keystone once this process is gone
#   IMAGEAPI_URL       URL of the image endpoints (http://127.0.0.1:9292)
#
# Pitfalls this script works around:
# - keystone reads sys.argv with oslo.config when its WSGI module is imported, so
#   gunicorn's arguments make it exit: gunicorn loads keystone_wsgi.py instead.
# - SQLite: concurrent writers fail with "database is locked" rather than wait, so
#   one worker with one thread serves requests one at a time (10-40 ms a token).
# - bcrypt at its default cost takes ~0.3 s of CPU per password check; the tests
#   authenticate often on 2 cores, so password_hash_rounds is the minimum, 4.
# - Without a cache every request costs keystone ~0.1 s of CPU (token validation,
#   role and policy lookups); dogpile's in-memory cache cuts that to ~0.02 s. It
#   is per process, which is right only because there is one worker.
# - gunicorn >= 25.1 opens a control socket at one path per user, which two
#   keystones (or imageapi-api) would fight over: --no-control-socket.
# - Each keystone-manage call costs ~2 s of imports: db_sync runs once per install
#   into a template database that each start copies, and the fernet keys (32
#   random bytes, urlsafe base64) are written here instead of by fernet_setup.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

KEYSTONE_HOME=$(realpath -m "${KEYSTONE_HOME:-$repo/.tox/keystone-server}")
KEYSTONE_VENV=$(realpath -m "${KEYSTONE_VENV:-$KEYSTONE_HOME/venv}")
KEYSTONE_HOST=${KEYSTONE_HOST:-127.0.0.1}
KEYSTONE_PORT=${KEYSTONE_PORT:-0}
KEYSTONE_THREADS=${KEYSTONE_THREADS:-1}
KEYSTONE_VERSION=${KEYSTONE_VERSION:-30.0.0}
GUNICORN_VERSION=${GUNICORN_VERSION:-27.0.1}
KEYSTONE_PYTHON=${KEYSTONE_PYTHON:-python3}
KEYSTONE_CONSTRAINTS=${KEYSTONE_CONSTRAINTS-$here/constraints.txt}
KEYSTONE_REGION=RegionOne
KEYSTONE_SERVICE_USER=imageapi
IMAGEAPI_URL=${IMAGEAPI_URL:-http://127.0.0.1:9292}

stamp=$KEYSTONE_VENV/imageapi-keystone.stamp
template=$KEYSTONE_VENV/imageapi-keystone-template.sqlite
py=$KEYSTONE_VENV/bin/python

log() { printf '[keystone %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "$*"; exit 1; }

set_data_dir() {  # $1: the data dir
    data=$(realpath -m "$1")
    pidfile=$data/keystone.pid
}

# ------------------------------------------------------------------ install
install_keystone() {
    local want="keystone==$KEYSTONE_VERSION gunicorn==$GUNICORN_VERSION"
    if [[ -n $KEYSTONE_CONSTRAINTS ]]; then
        want+=" -c $(sha256sum < "$KEYSTONE_CONSTRAINTS" | cut -c1-16)"
    fi
    [[ -f $stamp && $(cat "$stamp") == "$want" ]] && return 0
    if [[ ${KEYSTONE_NO_INSTALL:-} == 1 ]]; then
        log "keystone is not installed in $KEYSTONE_VENV;" \
            "run $here/start-keystone.sh install"
        exit 3
    fi
    mkdir -p "$(dirname "$KEYSTONE_VENV")"
    # Parallel starts (one per test process) must not install twice at once.
    exec {lock}>"$KEYSTONE_VENV.lock"
    flock "$lock"
    if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
        _install "$want"
    fi
    flock -u "$lock"
}

_install() {
    local t0=$SECONDS pip_log=$KEYSTONE_VENV.install.log
    log "installing $1 into $KEYSTONE_VENV (log: $pip_log)"
    if [[ -e $KEYSTONE_VENV ]]; then
        [[ -f $KEYSTONE_VENV/pyvenv.cfg ]] ||
            die "$KEYSTONE_VENV exists and is not a virtualenv; not touching it"
        rm -rf "$KEYSTONE_VENV"
    fi
    "$KEYSTONE_PYTHON" -m venv "$KEYSTONE_VENV"
    local args=("keystone==$KEYSTONE_VERSION" "gunicorn==$GUNICORN_VERSION")
    [[ -z $KEYSTONE_CONSTRAINTS ]] || args+=(-c "$KEYSTONE_CONSTRAINTS")
    if ! "$KEYSTONE_VENV/bin/pip" install --disable-pip-version-check "${args[@]}" \
            > "$pip_log" 2>&1; then
        tail -n 30 "$pip_log" >&2
        die "pip install failed"
    fi
    # The template database: migrated once per install, copied by each start.
    local tmp; tmp=$(mktemp -d)
    printf '[database]\nconnection = sqlite:///%s\n' "$template" > "$tmp/keystone.conf"
    rm -f "$template"
    if ! "$KEYSTONE_VENV/bin/keystone-manage" --config-file "$tmp/keystone.conf" \
            db_sync > "$tmp/db_sync.log" 2>&1; then
        cat "$tmp/db_sync.log" >&2
        die "keystone-manage db_sync failed"
    fi
    "$py" -c 'import sqlite3, sys
sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchall()' "$template"
    rm -rf "$tmp"
    echo "$1" > "$stamp"
    log "installed in $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------ process
running_pid() {  # the gunicorn master of this data dir, if it runs
    local pid
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    # The pid may have been reused since: check it is our gunicorn.
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q keystone_wsgi || return 1
    echo "$pid"
}

stop_keystone() {
    local pid
    pid=$(running_pid) || { log "not running ($data)"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # gunicorn runs in its own session: its pid is the process group.
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
    log "stopped keystone (pid $pid)"
}

write_config() {
    mkdir -p "$data/log" "$data/fernet-keys" "$data/credential-keys"
    chmod 700 "$data" "$data/fernet-keys" "$data/credential-keys"
    cat > "$data/keystone.conf" <<EOF
[DEFAULT]
log_file = $data/log/keystone.log
[database]
connection = sqlite:///$data/keystone.sqlite
# pysqlite's busy timeout, in seconds.
connection_parameters = timeout=30
[token]
provider = fernet
expiration = 14400
[fernet_tokens]
key_repository = $data/fernet-keys
[fernet_receipts]
key_repository = $data/fernet-keys
[credential]
key_repository = $data/credential-keys
[identity]
password_hash_rounds = 4
[cache]
enabled = true
backend = dogpile.cache.memory
EOF
    cp "$template" "$data/keystone.sqlite"
    # Key 0 is the staged key and 1 the primary, as fernet_setup leaves them.
    "$py" - "$data/fernet-keys" "$data/credential-keys" <<'EOF'
import base64, os, sys
for repository in sys.argv[1:]:
    for name in ('0', '1'):
        fd = os.open(os.path.join(repository, name),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, base64.urlsafe_b64encode(os.urandom(32)))
        os.close(fd)
EOF
}

launch() {  # start gunicorn; sets port
    local gunicorn_log=$data/log/gunicorn.log
    OS_KEYSTONE_CONFIG_FILES=$data/keystone.conf setsid "$KEYSTONE_VENV/bin/gunicorn" \
        --pythonpath "$here" --chdir "$data" \
        --bind "$KEYSTONE_HOST:$KEYSTONE_PORT" --workers 1 \
        --worker-class gthread --threads "$KEYSTONE_THREADS" \
        --timeout 120 --graceful-timeout 5 --no-control-socket \
        --pid "$pidfile" --error-logfile "$gunicorn_log" \
        --access-logfile "$data/log/access.log" \
        keystone_wsgi:application < /dev/null > "$data/log/stdout.log" 2>&1 &
    for _ in $(seq 300); do
        port=$(sed -n 's|.*Listening at: http://.*:\([0-9][0-9]*\) .*|\1|p' \
               "$gunicorn_log" 2>/dev/null | head -n 1) || true
        [[ -n $port ]] && return 0
        kill -0 $! 2>/dev/null || break
        sleep 0.1
    done
    cat "$gunicorn_log" "$data/log/stdout.log" >&2 2>/dev/null || true
    die "gunicorn did not listen"
}

watchdog() {  # stop keystone once KEYSTONE_PARENT_PID is gone
    [[ -n ${KEYSTONE_PARENT_PID:-} ]] || return 0
    # shellcheck disable=SC2016  # the inner script gets its values as $1, $2
    setsid bash -c '
        while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
        if ! kill -0 "$1" 2>/dev/null; then
            kill -TERM "$2" 2>/dev/null; sleep 5; kill -KILL -- "-$2" 2>/dev/null
        fi' watchdog "$KEYSTONE_PARENT_PID" "$1" < /dev/null > /dev/null 2>&1 &
}

start_keystone() {
    local pid t0=$SECONDS admin_password url
    if pid=$(running_pid); then
        log "already running (pid $pid)"
        report
        return 0
    fi
    install_keystone
    if [[ -e $data ]]; then
        [[ -f $data/keystone.conf || -z $(ls -A "$data") ]] ||
            die "$data is not empty and holds no keystone.conf; not touching it"
        rm -rf "$data"
    fi
    write_config
    launch
    url=http://$KEYSTONE_HOST:$port
    pid=$(cat "$pidfile")
    # bootstrap runs while the worker imports keystone: both take seconds.
    admin_password=$("$py" -c 'import secrets; print(secrets.token_hex(16))')
    if ! "$KEYSTONE_VENV/bin/keystone-manage" --config-file "$data/keystone.conf" \
            bootstrap --bootstrap-username admin \
            --bootstrap-password "$admin_password" \
            --bootstrap-project-name admin --bootstrap-role-name admin \
            --bootstrap-service-name keystone \
            --bootstrap-region-id "$KEYSTONE_REGION" \
            --bootstrap-admin-url "$url/v3" --bootstrap-internal-url "$url/v3" \
            --bootstrap-public-url "$url/v3" > "$data/log/bootstrap.log" 2>&1; then
        cat "$data/log/bootstrap.log" >&2
        stop_keystone
        die "keystone-manage bootstrap failed"
    fi
    if ! "$py" "$here/provision.py" wait "$url/v3" 120; then
        tail -n 40 "$data/log/gunicorn.log" "$data/log/keystone.log" >&2 || true
        stop_keystone
        die "keystone did not answer"
    fi
    if ! KEYSTONE_AUTH_URL=$url/v3 KEYSTONE_REGION=$KEYSTONE_REGION \
            KEYSTONE_ADMIN_PASSWORD=$admin_password \
            KEYSTONE_SERVICE_USER=$KEYSTONE_SERVICE_USER IMAGEAPI_URL=$IMAGEAPI_URL \
            "$py" "$here/provision.py" provision "$data"; then
        stop_keystone
        die "provisioning failed"
    fi
    (
        umask 077
        cat > "$data/keystone.env" <<EOF
export KEYSTONE_URL=$url
export KEYSTONE_AUTH_URL=$url/v3
export KEYSTONE_REGION=$KEYSTONE_REGION
export KEYSTONE_PID=$pid
export KEYSTONE_DATA=$data
export IMAGEAPI_TEST_KEYSTONE_INFO=$data/keystone.json
EOF
    )
    watchdog "$pid"
    log "keystone $KEYSTONE_VERSION up at $url in $((SECONDS - t0)) s"
    report
}

report() {
    cat "$data/keystone.env"
    echo "# OS_* variables of each user:"
    ls "$data"/openrc/*.env
}

# ------------------------------------------------------------------ commands
command=${1:-}
[[ $# -gt 0 ]] && shift
case $command in
    install)
        install_keystone ;;
    start)
        set_data_dir "${KEYSTONE_DATA:-$KEYSTONE_HOME/data}"
        start_keystone ;;
    stop)
        set_data_dir "${KEYSTONE_DATA:-$KEYSTONE_HOME/data}"
        stop_keystone ;;
    restart)
        set_data_dir "${KEYSTONE_DATA:-$KEYSTONE_HOME/data}"
        stop_keystone
        start_keystone ;;
    status)
        set_data_dir "${KEYSTONE_DATA:-$KEYSTONE_HOME/data}"
        if running_pid > /dev/null; then
            report
        else
            echo "keystone is not running ($data)"
            exit 1
        fi ;;
    run)
        [[ ${1:-} == -- ]] && shift
        [[ $# -gt 0 ]] || die "usage: $0 run [--] COMMAND [ARG...]"
        set_data_dir "$KEYSTONE_HOME/run"
        # A keystone left here belongs to an earlier run that was killed.
        if running_pid > /dev/null; then stop_keystone; fi
        trap stop_keystone EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        KEYSTONE_PARENT_PID=$$ start_keystone > /dev/null
        set -a
        # shellcheck source=/dev/null
        source "$data/keystone.env"
        set +a
        set +e
        "$@"
        exit $? ;;
    *)
        sed -n '4,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
        exit 2 ;;
esac
