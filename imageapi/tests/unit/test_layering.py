"""The import rules of STYLE.md section 2, checked on the source tree.

cmd/wsgi -> api -> db/store -> common/conf: ``store`` and ``db`` never import ``api``
nor each other, ``common`` imports only ``conf`` of imageapi, and ``imageapi-manage``
loads no module of the API layer.
"""

import ast
import os
import subprocess
import sys

from imageapi.tests import base

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# package -> imageapi packages it must never import
_FORBIDDEN = {
    'store': ('imageapi.api', 'imageapi.db', 'imageapi.service',
              'imageapi.leases', 'imageapi.cmd'),
    'db': ('imageapi.api', 'imageapi.store', 'imageapi.service',
           'imageapi.leases', 'imageapi.cmd'),
    'common': ('imageapi.api', 'imageapi.db', 'imageapi.store',
               'imageapi.service', 'imageapi.leases', 'imageapi.cmd',
               'imageapi.policy', 'imageapi.context'),
    'importing': ('imageapi.api', 'imageapi.cmd', 'imageapi.service',
                  'imageapi.leases'),
    'leases.py': ('imageapi.api', 'imageapi.cmd'),
    'cache': ('imageapi.api', 'imageapi.cmd', 'imageapi.service'),
    'service.py': ('imageapi.api', 'imageapi.cmd'),
}


def imported_modules(path):
    """Every module name ``path`` imports, as written (absolute)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += ['%s.%s' % (node.module, alias.name)
                      for alias in node.names]
    return names


def violations(package_path, forbidden):
    found = []
    paths = [package_path]
    if os.path.isdir(package_path):
        paths = [os.path.join(d, f) for d, _, files in os.walk(package_path)
                 for f in files if f.endswith('.py')]
    for path in paths:
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + '.') for f in forbidden):
                found.append('%s imports %s'
                             % (os.path.relpath(path, _ROOT), name))
    return found


class LayeringTest(base.TestCase):

    def test_layers_import_only_downwards(self):
        found = []
        for package, forbidden in _FORBIDDEN.items():
            found += violations(os.path.join(_ROOT, package), forbidden)
        self.assertEqual([], found)

    def test_violation_is_detected(self):
        # The check itself can fail: the API layer does import db.
        self.assertNotEqual([], violations(
            os.path.join(_ROOT, 'api', 'v2', 'images.py'), ('imageapi.db',)))

    def test_manage_loads_no_api_module(self):
        probe = ('import sys, imageapi.cmd.manage; '
                 'print(sorted(m for m in sys.modules '
                 'if m.startswith("imageapi.api")))')
        out = subprocess.run([sys.executable, '-c', probe], check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual('[]', out.strip())
