#!/usr/bin/env bash
# run-with-ceph.sh -- run a command against a one-node Ceph (RBD and radosgw S3):
# start it with start-ceph.sh (which installs the Debian packages on first use and
# reuses a running, healthy cluster), link Debian's rados/rbd bindings into the
# Python that `python` runs (link-bindings.py: the tox env's), run the command with the KEY=VALUE lines it
# prints in the environment (CEPH_CONF, CEPH_FSID, CEPH_RBD_POOL, CEPH_RBD_USER,
# S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, ...), then stop the cluster again unless
# CEPH_KEEP_RUNNING=1. Exits with the command's status.
#
# Usage: tools/ceph/run-with-ceph.sh [--] CMD [ARG...]
# Settings: those of start-ceph.sh (CEPH_DIR, CEPH_MON_PORT, CEPH_MON_V1_PORT,
# CEPH_RGW_PORT, CEPH_MGR, ...); `tox -e ceph` sets them in tox.ini.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ ${1:-} == -- ]] && shift
if [[ $# -eq 0 ]]; then
    echo "usage: $0 [--] CMD [ARG...]" >&2
    exit 2
fi

exports=$(mktemp)
cleanup() {
    if [[ ${CEPH_KEEP_RUNNING:-0} != 1 ]]; then
        bash "$here/stop-ceph.sh" >&2 || true
    fi
    rm -f "$exports"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$here/start-ceph.sh" > "$exports"
# after start-ceph.sh: it installs python3-rados and python3-rbd
python "$here/link-bindings.py"
set -a
# shellcheck source=/dev/null
source "$exports"
set +a
set +e
"$@"
exit $?
