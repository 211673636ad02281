#!/usr/bin/env bash
# run-with-swift.sh -- run a command against a throw-away Swift: start it with
# start-swift.sh, run the command with the exports start-swift.sh prints (ST_AUTH,
# ST_USER, ST_KEY, SWIFT_STORAGE_URL, SWIFT_STATE_DIR), stop Swift again (also when
# the command fails or is interrupted). Exits with the command's status.
#
# Usage: tools/swift/run-with-swift.sh [--] CMD [ARG...]
# Settings: those of start-swift.sh (SWIFT_STATE_DIR, SWIFT_*_PORT, SWIFT_MAX_FILE_SIZE,
# ...); `tox -e swift` sets them in tox.ini.
#
# Run under tools/keystone/start-keystone.sh run (IMAGEAPI_TEST_KEYSTONE_INFO names its
# keystone.json), Swift also accepts that keystone's tokens: SWIFT_KEYSTONE_URL, _USER,
# _PASSWORD and _PROJECT default to keystone's URL and its service user (imageapi, admin
# in project service), whose account is then AUTH_<id of project service>.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ ${1:-} == -- ]] && shift
if [[ $# -eq 0 ]]; then
    echo "usage: $0 [--] CMD [ARG...]" >&2
    exit 2
fi

exports=$(mktemp)
cleanup() {
    bash "$here/stop-swift.sh" >&2 || true
    rm -f "$exports"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n ${IMAGEAPI_TEST_KEYSTONE_INFO:-} && -z ${SWIFT_KEYSTONE_URL:-} ]]; then
    # "export SWIFT_KEYSTONE_<NAME>=<value>" lines, the values shell-quoted.
    keystone_exports=$(python3 -c '
import json, shlex, sys
info = json.load(open(sys.argv[1]))
user = info["service_user"]
for name, value in (("URL", info["auth_url"]), ("USER", user),
                    ("PASSWORD", info["users"][user]["password"]),
                    ("PROJECT", info["service_project"])):
    print("export SWIFT_KEYSTONE_%s=%s" % (name, shlex.quote(value)))
' "$IMAGEAPI_TEST_KEYSTONE_INFO")
    eval "$keystone_exports"
fi
bash "$here/start-swift.sh" > "$exports"
set -a
# shellcheck source=/dev/null
source "$exports"
set +a
set +e
"$@"
exit $?
