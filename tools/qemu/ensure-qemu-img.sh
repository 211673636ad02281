#!/usr/bin/env bash
# Make sure qemu-img (Debian's qemu-utils) is installed for the tests of the
# image_conversion import plugin. Run by tox before the py3 and functional
# envs. Installs with apt-get when missing and allowed to (root, or sudo
# without a password); otherwise prints why on stderr and exits 0, and the
# conversion tests skip saying qemu-img is not installed.
set -u
if command -v qemu-img >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "qemu-img is missing and apt-get needs root: the image_conversion tests will skip" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "qemu-img is missing and there is no apt-get: the image_conversion tests will skip" >&2
    exit 0
fi
echo "installing qemu-utils for the image_conversion tests" >&2
if ! { $SUDO apt-get install -y -q --no-install-recommends qemu-utils >&2 ||
       { $SUDO apt-get update -q >&2 &&
         $SUDO apt-get install -y -q --no-install-recommends qemu-utils >&2; }; }; then
    echo "apt-get could not install qemu-utils: the image_conversion tests will skip" >&2
fi
exit 0
