#!/usr/bin/env bash
# Install Debian's apache2 and libapache2-mod-wsgi-py3 for `tox -e deploy`,
# unless they already are (then this returns at once). Needs root or sudo.
# The tests start their own Apache from a throwaway ServerRoot; the Apache
# service the packages set up is left stopped.

set -euo pipefail

packages=(apache2 libapache2-mod-wsgi-py3)
installed=$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null |
            grep -c '^install ok installed$' || true)
if [ "$installed" -eq "${#packages[@]}" ]; then
    exit 0
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
fi
echo "installing ${packages[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
# Without a policy-rc.d the package starts the service it installed: stop
# that one, it would hold port 80 for nothing.
$sudo apt-get install -y -qq "${packages[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${packages[@]}"; }
$sudo apache2ctl -k stop >/dev/null 2>&1 || true
