#!/usr/bin/env bash
# start-ceph.sh -- start a REAL one-node Ceph cluster (Debian 12's Ceph 16.2.15
# "Pacific") on 127.0.0.1 for test suites: 1 mon, 1 OSD on the RAM-backed
# memstore, 1 mgr (optional), 1 radosgw (S3, beast frontend), cephx auth.
# Creates an RBD pool with a cephx user of its own (as Glance's rbd store is
# set up) and a radosgw S3 user with fixed test credentials.
#
# Usage:  env=$(bash start-ceph.sh) && set -a && eval "$env" && set +a
#         ... tests ...
#         bash stop-ceph.sh [--purge]          (stop-ceph.sh must sit beside this file)
#   (`eval "$(bash start-ceph.sh)"` alone would hide a failed start: eval of
#   nothing succeeds.) stdout carries only these KEY=VALUE lines (plain
#   characters, so also fit for `. file`); progress and errors go to stderr:
#     CEPH_DIR CEPH_CONF CEPH_FSID CEPH_RBD_POOL CEPH_RBD_USER CEPH_RBD_KEYRING
#     CEPH_ADMIN_KEYRING S3_ENDPOINT S3_REGION S3_ACCESS_KEY S3_SECRET_KEY
#   RBD: rados.Rados(conffile=CEPH_CONF, rados_id=CEPH_RBD_USER) -- the id
#     without "client."; its key file is found through `keyring =` in the
#     [client] section of CEPH_CONF. The ceph/rbd/rados CLIs read CEPH_CONF from
#     the environment (admin by default; `rbd --id glance ls images`).
#   S3: boto3.client("s3", endpoint_url=S3_ENDPOINT, region_name=S3_REGION,
#     aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY)
#   tools/ceph/run-with-ceph.sh wraps a command (tox -e ceph) in start and stop;
#   tools/ceph/link-bindings.py makes rados/rbd importable from a virtualenv.
#
# Idempotent; run it as root (it apt-gets what is missing; the daemons run as
# root, each in its own session, pid recorded in CEPH_DIR/run/NAME.pid).
#   running and healthy      -> only prints the lines                 (~0.4 s)
#   stopped by stop-ceph.sh  -> starts it again, data kept            (~2 s)
#   no cluster / purged      -> creates one                           (~3 s)
#   OSD died or was killed   -> memstore data is gone with it, so the cluster
#                               is created anew (same fsid and credentials)
#   partly running           -> stops the rest first, then as above
#   Waits (CEPH_START_TIMEOUT) for: mon answering, osd.0 up, radosgw answering
#   GET / with a bucket list, client.$CEPH_RBD_USER listing the pool, health
#   OK or WARN. On failure: log tails on stderr, daemons stopped, exit 1.
#
# Environment (default):
#   CEPH_DIR (/tmp/ceph-aio)  everything: ceph.conf (rewritten at each start),
#                   keyring/, mon/, osd/, mgr/, rgw/, log/ (log.prev/ after a
#                   re-creation), run/ (pid files, admin sockets); <= 50 chars
#   CEPH_MEMSTORE_MB (2048)   OSD capacity. The data lives in the OSD's RAM;
#                   stop-ceph.sh writes it to CEPH_DIR/osd, a start reads it back
#   CEPH_OSD_MEMORY_TARGET (939524096 = 896 MiB, the smallest Ceph accepts; by
#                   its help text it acts "when tcmalloc and cache autotuning is
#                   enabled": Debian's build has no tcmalloc, memstore no cache)
#   CEPH_MGR (1)    0 = no ceph-mgr (-165 MiB RSS): RBD and S3 work, but `ceph
#                   df`, PG stats and pool quotas (not enforced!) need the mgr;
#                   its health check MGR_DOWN (HEALTH_ERR after ~2 min) is muted
#   CEPH_RBD_POOL (images)  CEPH_RBD_USER (glance: caps mon 'profile rbd',
#                   osd/mgr 'profile rbd pool=images')
#   CEPH_S3_UID (imageapi)  CEPH_S3_ACCESS_KEY (IMAGEAPITESTACCESSKEY)
#   CEPH_S3_SECRET_KEY (imageapi-test-secret-key-0123456789abcd)
#   CEPH_MON_PORT (3300, msgr2)  CEPH_MON_V1_PORT (6789)  CEPH_RGW_PORT (7480);
#                   the OSD and mgr take free ports in 6800-7300; all bind
#                   127.0.0.1 only. Mon ports are fixed when a cluster is created.
#   CEPH_FSID (random; used when a cluster is created)
#   CEPH_START_TIMEOUT (120 s)  CEPH_INSTALL (1; 0 = never apt-get)
#   CEPH_KEEP_ON_FAILURE (0; 1 = leave the daemons running after a failed start)
#   A changed pool, RBD user or S3 key is applied to a running cluster.
#
# Measured on a 2-core / 24 GiB Debian 12 VM:
#   apt-get install (7 named, 95 packages with dependencies, 73 MB) 15 s
#   (another machine: 60 s); new cluster 3 s; restart 2 s; stop 0.5-1 s, plus
#   ~3 s per GiB held in memstore. RSS: mon 45, osd 55, mgr 165, radosgw 50
#   MiB (~320 MiB); after a 64 MiB RBD + S3 round trip osd ~200, radosgw ~100. The OSD holds
#   ~2x the data written through it (1 GiB written: 2.2 GiB RSS); it returns
#   that on delete, but not data it loaded at start (glibc malloc: Debian's Ceph
#   has no tcmalloc). Idle CPU: < 1 % for all four together.
#
# Pitfalls met on the way (each handled below):
#   - memstore + the default osd_fast_shutdown=true: a stopped OSD loses all
#     data, and after a restart every I/O on the old pools hangs forever.
#   - paxos_propose_interval (1 s): each RBD snapshot create/remove took 0.95 s
#     and a new cluster 17 s; at 0.05 s: 0.06 s and 3 s.
#   - mon_data_avail_warn (30 % free) gave HEALTH_WARN MON_DISK_LOW on a 252 GB
#     disk with 29 % free (and MON_DISK_CRIT, an error, comes below 5 %).
#   - A client takes $cluster from its conf file's name (nomon.conf looked for
#     /etc/ceph/nomon.client.admin.keyring): the keyring path is literal.
#   - ceph-mgr loads all 26 Python modules (~300 MiB); disabling an always-on
#     one gives HEALTH_ERR MGR_MODULE_ERROR, disabling the others halves it.
#   - radosgw deletes S3 data lazily: garbage collection after 2 h by default,
#     the memstore fills up meanwhile; here 60 s.
#   - A full pool (quota) or a full OSD (memstore used up) does not fail RBD
#     writes: they block (HEALTH_WARN POOL_FULL / HEALTH_ERR OSD_FULL) until
#     rados_osd_op_timeout, if the client set one (then rbd.Timeout); memstore
#     overshoots (256 MiB store: 272 MiB went in before writes blocked).
#   - radosgw ignores SIGTERM while the OSD is down: stop-ceph.sh SIGKILLs it
#     after 10 s. The `ceph` CLI without a mon waits 300 s (seen:
#     "authenticate timed out after 300"): always give --connect-timeout.
#   - Daemons inherit open file descriptors: the lock on fd 9 is closed for them.
set -euo pipefail
umask 022
shopt -s extglob
unset CEPH_ARGS   # would be added to every ceph/rados/rbd call below

DIR=${CEPH_DIR:-/tmp/ceph-aio}
HOST=127.0.0.1
MON_PORT=${CEPH_MON_PORT:-3300}
MON_V1_PORT=${CEPH_MON_V1_PORT:-6789}
RGW_PORT=${CEPH_RGW_PORT:-7480}
MEMSTORE_MB=${CEPH_MEMSTORE_MB:-2048}
OSD_MEMORY_TARGET=${CEPH_OSD_MEMORY_TARGET:-939524096}
WITH_MGR=${CEPH_MGR:-1}
POOL=${CEPH_RBD_POOL:-images}
RBD_USER=${CEPH_RBD_USER:-glance}
S3_UID=${CEPH_S3_UID:-imageapi}
S3_ACCESS=${CEPH_S3_ACCESS_KEY:-IMAGEAPITESTACCESSKEY}
S3_SECRET=${CEPH_S3_SECRET_KEY:-imageapi-test-secret-key-0123456789abcd}
TIMEOUT=${CEPH_START_TIMEOUT:-120}
INSTALL=${CEPH_INSTALL:-1}
KEEP_ON_FAILURE=${CEPH_KEEP_ON_FAILURE:-0}

MON_ID=a MGR_ID=x OSD_ID=0 RGW_NAME=client.rgw.aio
PKGS=(ceph-mon ceph-osd ceph-mgr radosgw ceph-common python3-rados python3-rbd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "start-ceph: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
case "$DIR" in *[[:space:]]*) die "CEPH_DIR must not contain white space: '$DIR'" ;; esac
# admin sockets live in $DIR/run (radosgw's longest: ~50 characters), and a
# unix socket path has at most 107 bytes
[ ${#DIR} -le 50 ] || die "CEPH_DIR is too long (${#DIR} > 50 characters) for the admin sockets under it"
for v in MON_PORT MON_V1_PORT RGW_PORT MEMSTORE_MB OSD_MEMORY_TARGET TIMEOUT; do
  case "${!v}" in ''|*[!0-9]*) die "$v must be a number, got '${!v}'" ;; esac
done
case "$POOL$RBD_USER$S3_UID$S3_ACCESS$S3_SECRET" in
  *[!A-Za-z0-9._-]*) die "pool, user and S3 key names may use only A-Z a-z 0-9 . _ -" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (apt-get, and the daemons run as root)"

CONF=$DIR/ceph.conf RUN=$DIR/run LOGD=$DIR/log KEYS=$DIR/keyring
ADMIN_KEYRING=$KEYS/ceph.client.admin.keyring
RBD_KEYRING=$KEYS/ceph.client.$RBD_USER.keyring
RGW_URL=http://$HOST:$RGW_PORT
ceph_() { timeout 30 ceph -c "$CONF" --connect-timeout 15 "$@"; }

# ---------------------------------------------------------------- packages
if [ "$INSTALL" = 1 ]; then
  missing=()
  for p in "${PKGS[@]}"; do
    [ "$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    t0=$SECONDS
    log "installing ${missing[*]} (apt-get update + install; ~15-60 s)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${PKGS[@]}" >&2
    log "installed in $((SECONDS - t0)) s"
  fi
fi
for c in ceph-mon ceph-osd ceph-mgr radosgw radosgw-admin ceph rbd ceph-authtool monmaptool curl flock setsid ss; do
  command -v "$c" >/dev/null || die "$c not found (Debian packages: ${PKGS[*]} curl util-linux iproute2)"
done
[ -f "$HERE/stop-ceph.sh" ] || die "stop-ceph.sh must sit beside $0"

mkdir -p "$DIR" "$RUN" "$LOGD" "$KEYS"
exec 9>"$DIR/.lock"
flock -w 300 9 || die "another start-ceph.sh holds $DIR/.lock"

# ---------------------------------------------------------------- helpers
starttime() { awk '{sub(/^.*\) /, ""); if ($1 != "Z") print $20}' "/proc/$1/stat" 2>/dev/null; }
alive() {  # alive NAME: the process recorded in run/NAME.pid is still the one we started
  local f=$RUN/$1.pid pid st
  [ -s "$f" ] || return 1
  read -r pid st < "$f" || return 1
  [ -n "${pid:-}" ] && [ -n "${st:-}" ] && [ "$(starttime "$pid" || true)" = "$st" ]
}
pid_of() { local pid st; read -r pid st < "$RUN/$1.pid"; echo "$pid"; }
spawn() {  # spawn NAME CMD...: run CMD in a new session; run/NAME.pid gets "PID STARTTIME"
  local name=$1; shift
  local pf=$RUN/$name.pid
  rm -f "$pf"
  # The child shell records its own pid (setsid may fork) and then execs the
  # daemon, which keeps that pid. stdout/stderr of the daemon go to log/NAME.out.
  # 9>&-: the daemon must not inherit (and so keep holding) the lock on fd 9.
  setsid bash -c 'echo "$$ $(awk "{sub(/^.*\\) /, \"\"); print \$20}" /proc/$$/stat)" > "$0.tmp" && mv "$0.tmp" "$0"; exec "$@"' \
    "$pf" "$@" </dev/null >>"$LOGD/$name.out" 2>&1 9>&- &
  for _ in $(seq 1 50); do [ -s "$pf" ] && break; sleep 0.1; done
  [ -s "$pf" ] || die "$name: no pid file"
  log "started $name (pid $(pid_of "$name"))"
}
daemon_log() {
  case "$1" in
    mon) echo "$LOGD/ceph-mon.$MON_ID.log" ;; osd) echo "$LOGD/ceph-osd.$OSD_ID.log" ;;
    mgr) echo "$LOGD/ceph-mgr.$MGR_ID.log" ;; rgw) echo "$LOGD/ceph-$RGW_NAME.log" ;;
  esac
}
fail() {  # fail MSG [NAME...]: print the log tails of the named daemons, stop, exit 1
  local msg=$1 n f; shift
  log "ERROR: $msg"
  for n in "$@"; do
    for f in "$LOGD/$n.out" "$(daemon_log "$n")"; do
      [ -s "$f" ] && { echo "----- tail -n 30 $f" >&2; tail -n 30 "$f" >&2; }
    done
  done
  if [ "$KEEP_ON_FAILURE" = 1 ]; then
    log "daemons left running (CEPH_KEEP_ON_FAILURE=1); logs in $LOGD"
  else
    log "stopping what was started; logs stay in $LOGD"
    bash "$HERE/stop-ceph.sh" "$DIR" || true
  fi
  exit 1
}
wait_until() {  # wait_until WHAT NAME CMD...: poll CMD until it succeeds; NAME = daemon to watch
  local what=$1 name=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    alive "$name" || fail "$name exited while waiting for: $what" "$name"
    [ $SECONDS -lt $deadline ] || fail "timed out after ${TIMEOUT}s waiting for: $what" "$name"
    sleep 0.5
  done
  log "$what ($((SECONDS - t_start)) s)"
}
# (no "cmd | grep -q": with pipefail an early grep exit can fail the pipeline)
osd_up() { [[ "$(ceph_ osd stat -f json)" == *'"num_up_osds":1,'* ]]; }
# an anonymous GET / is answered with an empty bucket list (200); checking the
# body makes sure it is radosgw and not some other server on that port
rgw_up() { [[ "$(curl -sf --max-time 5 "$RGW_URL/")" == *ListAllMyBucketsResult* ]]; }
health_ok() { [[ "$(ceph_ health)" == HEALTH_@(OK|WARN)* ]]; }
rbd_ok() { timeout 30 rbd -c "$CONF" --id "$RBD_USER" -p "$POOL" ls >/dev/null; }

print_info() {
  cat <<EOF
CEPH_DIR=$DIR
CEPH_CONF=$CONF
CEPH_FSID=$(cat "$DIR/fsid")
CEPH_RBD_POOL=$POOL
CEPH_RBD_USER=$RBD_USER
CEPH_RBD_KEYRING=$RBD_KEYRING
CEPH_ADMIN_KEYRING=$ADMIN_KEYRING
S3_ENDPOINT=$RGW_URL
S3_REGION=us-east-1
S3_ACCESS_KEY=$S3_ACCESS
S3_SECRET_KEY=$S3_SECRET
EOF
}

write_conf() {
  cat > "$CONF.tmp" <<EOF
# Written by start-ceph.sh on every start: change the script, not this file.
[global]
fsid = $(cat "$DIR/fsid")
mon_host = [v2:$HOST:$MON_PORT,v1:$HOST:$MON_V1_PORT]
public_addr = $HOST
cluster_addr = $HOST
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
run_dir = $RUN
crash_dir = $DIR/crash
# one OSD: one copy, few PGs (radosgw alone creates 7 pools), no autoscaler
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
# the defaults (30 % / 5 % free disk) give MON_DISK_LOW / MON_DISK_CRIT on a
# big, busy disk
mon_data_avail_warn = 1
mon_data_avail_crit = 0

[mon]
mon_data = $DIR/mon/\$cluster-\$id
keyring = $DIR/mon/\$cluster-\$id/keyring
log_file = $LOGD/\$cluster-\$name.log
mon_cluster_log_file = $LOGD/\$cluster.\$channel.log
mgr_initial_modules = iostat
# paxos batches map changes for up to 1 s: each RBD snapshot create/remove and
# pool or auth change then takes ~1 s; 0.05 s makes them ~0.06 s
paxos_propose_interval = 0.05

[osd]
osd_data = $DIR/osd/\$cluster-\$id
keyring = $DIR/osd/\$cluster-\$id/keyring
log_file = $LOGD/\$cluster-\$name.log
# RAM-backed object store; its contents are written to osd_data on a clean stop
osd_objectstore = memstore
memstore_device_bytes = $((MEMSTORE_MB * 1024 * 1024))
osd_memory_target = $OSD_MEMORY_TARGET
# the default (true) exits without unmounting: memstore would lose everything
osd_fast_shutdown = false

[mgr]
# ceph-mgr loads every module it finds, enabled or not (~300 MiB RSS); the
# always-on ones cannot be left out (HEALTH_ERR MGR_MODULE_ERROR), these can
mgr_disabled_modules = alerts,diskprediction_local,influx,insights,localpool,mirroring,nfs,osd_perf_query,osd_support,prometheus,restful,selftest,snap_schedule,stats,telegraf,test_orchestrator,zabbix,cephadm,dashboard,k8sevents,rook
mgr_data = $DIR/mgr/\$cluster-\$id
keyring = $DIR/mgr/\$cluster-\$id/keyring
log_file = $LOGD/\$cluster-\$name.log

[client]
# literal "ceph.", not \$cluster: a client derives \$cluster from the name of
# the conf file it is given (foo.conf -> foo), so a copied conf would miss it
keyring = $KEYS/ceph.\$name.keyring

[$RGW_NAME]
log_file = $LOGD/\$cluster-\$name.log
rgw_data = $DIR/rgw
rgw_frontends = beast endpoint=$HOST:$RGW_PORT
rgw_thread_pool_size = 32
# deleted S3 data is garbage-collected after 2 h by default; memstore is small
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
EOF
  mv "$CONF.tmp" "$CONF"
}

wipe_cluster() {  # remove a cluster's data, keep fsid and the directory itself
  rm -rf "$DIR/mon" "$DIR/osd" "$DIR/mgr" "$DIR/rgw" "$DIR/tmp" "$DIR/crash" "$DIR/created"
  rm -f "$KEYS"/*.keyring "$RUN"/*.pid "$RUN"/*.asok
  if [ -n "$(ls -A "$LOGD" 2>/dev/null)" ]; then   # keep one generation of logs
    rm -rf "$LOGD.prev"; mv "$LOGD" "$LOGD.prev"
  fi
  mkdir -p "$LOGD"
}

# ---------------------------------------------------------------- pool, users
# Idempotent; run on every full start, and by the "already running" path when
# CEPH_RBD_POOL / CEPH_RBD_USER / the S3 settings differ from the last run.
SETUP_STAMP="$POOL $RBD_USER $S3_UID $S3_ACCESS $S3_SECRET $WITH_MGR"
ensure_pool_and_users() {
  {
    ceph_ osd pool create "$POOL" 8 8
    timeout 60 rbd -c "$CONF" pool init "$POOL"          # = application enable rbd
    ceph_ auth get-or-create "client.$RBD_USER" -o "$RBD_KEYRING"
    # the caps Glance's documentation gives its user (profile rbd includes the
    # "osd blocklist" right that exclusive-lock needs to break a dead client's lock)
    ceph_ auth caps "client.$RBD_USER" mon 'profile rbd' osd "profile rbd pool=$POOL" mgr "profile rbd pool=$POOL"
    ceph_ auth get-or-create "$RGW_NAME" mon 'allow rw' osd 'allow rwx' mgr 'allow rw' \
      -o "$KEYS/ceph.$RGW_NAME.keyring"
    if [ "$WITH_MGR" = 1 ]; then
      mkdir -p "$DIR/mgr/ceph-$MGR_ID"
      ceph_ auth get-or-create "mgr.$MGR_ID" mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
        -o "$DIR/mgr/ceph-$MGR_ID/keyring"
      ceph_ health unmute MGR_DOWN
    else
      # without a mgr a new cluster turns HEALTH_ERR (MGR_DOWN) after ~2 min
      ceph_ health mute MGR_DOWN --sticky
    fi
  } >>"$LOGD/setup.out" 2>&1 || fail "creating the pool or the users failed (see $LOGD/setup.out)" setup mon
  chmod 0644 "$RBD_KEYRING"   # so that tests running as another user can read it
}
rgwadmin() { timeout 60 radosgw-admin -c "$CONF" "$@"; }
ensure_s3_user() {  # needs radosgw running (it creates the zone on first start)
  local info
  if info=$(rgwadmin user info --uid="$S3_UID" 2>/dev/null); then
    if ! grep -qF "\"access_key\": \"$S3_ACCESS\"" <<<"$info" || ! grep -qF "\"secret_key\": \"$S3_SECRET\"" <<<"$info"; then
      rgwadmin key create --uid="$S3_UID" --key-type=s3 --access-key="$S3_ACCESS" --secret-key="$S3_SECRET" \
        >>"$LOGD/setup.out" 2>&1 || fail "radosgw-admin key create failed" setup rgw
      log "S3 user $S3_UID: key $S3_ACCESS set"
    fi
  else
    rgwadmin user create --uid="$S3_UID" --display-name="imageapi tests" \
      --access-key="$S3_ACCESS" --secret-key="$S3_SECRET" >>"$LOGD/setup.out" 2>&1 \
      || fail "radosgw-admin user create failed" setup rgw
    log "S3 user $S3_UID created"
  fi
}

# ---------------------------------------------------------------- state
# the mon's address is in its monmap, fixed at creation
MON_DATA=$DIR/mon/ceph-$MON_ID
if [ -s "$MON_DATA/ports" ] && [ "$(cat "$MON_DATA/ports")" != "$MON_PORT $MON_V1_PORT" ]; then
  die "the cluster in $DIR was created with mon ports $(cat "$MON_DATA/ports"), not $MON_PORT $MON_V1_PORT: use those, or stop-ceph.sh --purge first"
fi
all_alive=1 any_alive=0
for n in mon osd mgr rgw; do
  if alive "$n"; then any_alive=1
  elif [ "$n" != mgr ] || [ "$WITH_MGR" = 1 ]; then all_alive=0
  fi
done

if [ -e "$DIR/created" ] && [ $all_alive = 1 ]; then
  if health_ok && osd_up && rgw_up; then
    if [ "$(cat "$DIR/created")" != "$SETUP_STAMP" ]; then
      t_start=$SECONDS
      ensure_pool_and_users; ensure_s3_user
      echo "$SETUP_STAMP" > "$DIR/created"
      log "pool, users and S3 key updated"
    fi
    log "already running: mon $(pid_of mon), osd $(pid_of osd)$(alive mgr && echo ", mgr $(pid_of mgr)"), rgw $(pid_of rgw)"
    print_info
    exit 0
  fi
  log "running but not healthy: restarting it"
fi
if [ $any_alive = 1 ]; then
  log "stopping the leftovers of an earlier start"
  bash "$HERE/stop-ceph.sh" "$DIR"
fi
t_start=$SECONDS                      # CEPH_START_TIMEOUT counts from here
deadline=$((SECONDS + TIMEOUT))

if [ ! -e "$DIR/created" ]; then
  [ -e "$DIR/mon" ] && log "removing an unfinished cluster in $DIR"
  wipe_cluster
elif [ ! -e "$DIR/osd/clean-stop" ]; then
  # memstore keeps everything in the OSD's RAM and writes it to disk only on a
  # clean stop (stop-ceph.sh). After a crash or SIGKILL the mon would list
  # pools whose PGs exist nowhere and every I/O would hang: start over.
  log "the OSD was not stopped cleanly, its memstore contents are gone: creating a new cluster (same fsid)"
  wipe_cluster
fi
mkdir -p "$RUN" "$LOGD" "$KEYS"
[ -s "$DIR/fsid" ] || echo "${CEPH_FSID:-$(cat /proc/sys/kernel/random/uuid)}" > "$DIR/fsid"
write_conf

# nothing of ours runs now: a listener on one of our ports is someone else's
for p in "$MON_PORT" "$MON_V1_PORT" "$RGW_PORT"; do
  if users=$(ss -Hltnp "( sport = :$p )" 2>/dev/null) && [ -n "$users" ]; then
    die "port $p is already in use (set CEPH_MON_PORT / CEPH_MON_V1_PORT / CEPH_RGW_PORT): $users"
  fi
done

# ---------------------------------------------------------------- mon
if [ ! -e "$MON_DATA/done" ]; then
  log "creating a new cluster in $DIR (fsid $(cat "$DIR/fsid"))"
  rm -rf "$MON_DATA" "$DIR/tmp"; mkdir -p "$MON_DATA" "$DIR/tmp"
  {
    ceph-authtool --create-keyring "$DIR/tmp/mon.keyring" --gen-key -n mon. --cap mon 'allow *'
    ceph-authtool --create-keyring "$ADMIN_KEYRING" --gen-key -n client.admin \
      --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
    ceph-authtool "$DIR/tmp/mon.keyring" --import-keyring "$ADMIN_KEYRING"
    monmaptool --create --fsid "$(cat "$DIR/fsid")" --enable-all-features --clobber \
      --addv "$MON_ID" "[v2:$HOST:$MON_PORT,v1:$HOST:$MON_V1_PORT]" "$DIR/tmp/monmap"
    ceph-mon -c "$CONF" --mkfs -i "$MON_ID" --monmap "$DIR/tmp/monmap" --keyring "$DIR/tmp/mon.keyring"
  } >>"$LOGD/mkfs.out" 2>&1 || fail "creating the monitor failed" mkfs
  rm -rf "$DIR/tmp"
  echo "$MON_PORT $MON_V1_PORT" > "$MON_DATA/ports"
  touch "$MON_DATA/done"
fi
spawn mon ceph-mon -c "$CONF" -i "$MON_ID" -f
wait_until "mon answering" mon health_ok

# ---------------------------------------------------------------- osd
OSD_DATA=$DIR/osd/ceph-$OSD_ID
if [ ! -e "$OSD_DATA/done" ]; then
  log "creating osd.$OSD_ID (memstore, $MEMSTORE_MB MiB)"
  rm -rf "$OSD_DATA"; mkdir -p "$OSD_DATA"
  uuid=$(cat /proc/sys/kernel/random/uuid)
  secret=$(ceph-authtool --gen-print-key)
  id=$(echo "{\"cephx_secret\": \"$secret\"}" | ceph_ osd new "$uuid" "$OSD_ID" -i -) \
    || fail "ceph osd new failed" mon
  [ "$id" = "$OSD_ID" ] || fail "ceph osd new returned '$id', expected $OSD_ID" mon
  {
    ceph-authtool --create-keyring "$OSD_DATA/keyring" --name "osd.$OSD_ID" --add-key "$secret"
    ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$uuid"
  } >>"$LOGD/mkfs.out" 2>&1 || fail "ceph-osd --mkfs failed" mkfs osd
  touch "$OSD_DATA/done"
fi
rm -f "$DIR/osd/clean-stop"   # stop-ceph.sh puts it back after a clean stop
spawn osd ceph-osd -c "$CONF" -i "$OSD_ID" -f
wait_until "osd.$OSD_ID up" osd osd_up
ensure_pool_and_users
log "pool $POOL, users client.$RBD_USER and $RGW_NAME ($((SECONDS - t_start)) s)"

# ---------------------------------------------------------------- mgr, rgw
[ "$WITH_MGR" = 1 ] && spawn mgr ceph-mgr -c "$CONF" -i "$MGR_ID" -f
spawn rgw radosgw -c "$CONF" -n "$RGW_NAME" -f
wait_until "rgw answering on $RGW_URL" rgw rgw_up
ensure_s3_user

# ---------------------------------------------------------------- final check
wait_until "client.$RBD_USER can list pool $POOL" osd rbd_ok
h=$(ceph_ health detail 2>&1) || fail "ceph health failed: $h" mon
case "$h" in
  HEALTH_OK*|HEALTH_WARN*) ;;
  *) log "$h"; fail "cluster health is not OK/WARN" mon osd ;;
esac
[ "${h%%$'\n'*}" = HEALTH_OK ] || log "note: $h"
echo "$SETUP_STAMP" > "$DIR/created"
log "ready in $((SECONDS - t_start)) s: mon $(pid_of mon), osd $(pid_of osd)$([ "$WITH_MGR" = 1 ] && echo ", mgr $(pid_of mgr)"), rgw $(pid_of rgw); logs in $LOGD"
print_info
