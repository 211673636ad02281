"""Make Debian's Ceph bindings (rados, rbd) importable from a virtualenv.

Usage: VENV/bin/python tools/ceph/link-bindings.py [--check]

The ``rados`` and ``rbd`` modules are not on PyPI: Debian builds them (python3-rados,
python3-rbd) as C extensions for its own python3, CPython 3.11 on Debian 12, into
/usr/lib/python3/dist-packages. Any CPython of the same minor version loads them (the
extension suffix, such as ``.cpython-311-x86_64-linux-gnu.so``, says which). This
script symlinks exactly those two files into the site-packages of the Python that runs
it, so that no other Debian package becomes importable there (a .pth file or a venv with
--system-site-packages would expose all of them). Idempotent; ``--check`` only imports
them. Exits 1 with the reason when the files are missing or built for another Python.
"""

import os
import subprocess
import sys
import sysconfig

DEBIAN_DIST = os.environ.get('CEPH_BINDINGS_DIR',
                             '/usr/lib/python3/dist-packages')
MODULES = ('rados', 'rbd')


def link():
    site = sysconfig.get_paths()['platlib']
    suffix = sysconfig.get_config_var('EXT_SUFFIX')
    sources = [os.path.join(DEBIAN_DIST, name + suffix) for name in MODULES]
    missing = [path for path in sources if not os.path.exists(path)]
    if missing:
        have = sorted(name for name in os.listdir(DEBIAN_DIST)
                      if name.startswith(tuple(m + '.' for m in MODULES))) \
            if os.path.isdir(DEBIAN_DIST) else []
        sys.exit('link-bindings: no %s for this Python %d.%d (%s); %s has %s. '
                 'Install python3-rados and python3-rbd, and make the '
                 'virtualenv with the Python minor version of the system\'s '
                 'python3.'
                 % (', '.join(missing), sys.version_info[0],
                    sys.version_info[1], suffix, DEBIAN_DIST,
                    ', '.join(have) or 'neither'))
    for source in sources:
        target = os.path.join(site, os.path.basename(source))
        if os.path.realpath(target) == os.path.realpath(source):
            continue
        if os.path.lexists(target):
            os.unlink(target)
        os.symlink(source, target)
        print('link-bindings: %s -> %s' % (target, source), flush=True)


def check():
    # A new interpreter: this one may have failed imports cached.
    subprocess.run(
        [sys.executable, '-c',
         'import rados, rbd; print("link-bindings: rados and rbd import '
         'from", rados.__file__, "and", rbd.__file__)'], check=True)


def main():
    if '--check' not in sys.argv[1:]:
        link()
    check()


if __name__ == '__main__':
    main()
