"""imageapi and tools use other libraries through their public API only (STYLE.md 1).

An ast scan of every .py under imageapi/ and tools/: no private names imported from another
package, no private attributes read off another package's modules, no assignments to them
(outside tests, which patch through fixtures and mock), no event listeners on classes.
"""

import ast
import importlib
import inspect
import os

import imageapi
from imageapi.tests import base

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(imageapi.__file__)))
SCANNED = ('imageapi', 'tools')
OWN_PACKAGE = 'imageapi'
# Tests patch attributes through fixtures.MonkeyPatch and mock.patch, which
# undo themselves; rule "assign" does not apply there.
TESTS = 'imageapi/tests/'

# (path, dotted name) -> why it is allowed.
ALLOWED = {
    ('imageapi/cmd/api.py', 'os._exit'):
        'A forked child leaves with os._exit, so that it runs none of the '
        "parent's atexit handlers and flushes none of its buffers: the "
        'documented way for a child after fork().',
    ('tools/keystone/keystone_wsgi.py', 'sys.argv'):
        "keystone's WSGI module parses sys.argv with oslo.config when it "
        "is imported and would reject gunicorn's arguments. sys.argv is "
        "the interpreter's documented, writable argument list.",
}


def _private(name):
    return name.startswith('_') and not (name.startswith('__')
                                         and name.endswith('__'))


class _Scan(ast.NodeVisitor):
    """Violations in one module's source, as (line, rule, dotted name)."""

    def __init__(self, path):
        self.path = path
        self.directory = os.path.dirname(os.path.join(ROOT, path))
        self.imported = {}   # local name -> dotted name, other packages only
        self.found = []

    def _own(self, module, level=0):
        top = (module or '').split('.')[0]
        if level > 0 or top == OWN_PACKAGE:
            return True
        # tools/ scripts import their sibling files by bare name.
        return self.path.startswith('tools/') and (
            os.path.exists(os.path.join(self.directory, top + '.py'))
            or os.path.isdir(os.path.join(self.directory, top)))

    def _report(self, node, rule, name):
        self.found.append((node.lineno, rule, name))

    # -- rule "import": no private names from another package
    def record_import(self, node):
        if isinstance(node, ast.ImportFrom):
            self._record_from(node)
            return
        for alias in node.names:
            if self._own(alias.name):
                continue
            if any(_private(part) for part in alias.name.split('.')):
                self._report(node, 'import', alias.name)
            if alias.asname:
                self.imported[alias.asname] = alias.name
            else:
                top = alias.name.split('.')[0]
                self.imported[top] = top

    def _record_from(self, node):
        if self._own(node.module, node.level):
            return
        if any(_private(part) for part in node.module.split('.')):
            self._report(node, 'import', node.module)
        for alias in node.names:
            name = node.module + '.' + alias.name
            if _private(alias.name):
                self._report(node, 'import', name)
            self.imported[alias.asname or alias.name] = name

    def _dotted(self, node):
        """'sa.pool.QueuePool' as 'sqlalchemy.pool.QueuePool', if imported."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.imported:
            return None
        return '.'.join([self.imported[node.id]] + parts[::-1])

    # -- rule "attribute": no private attributes of another package
    def visit_Attribute(self, node):
        if _private(node.attr):
            name = self._dotted(node)
            if name is not None:
                self._report(node, 'attribute', name)
        self.generic_visit(node)

    # -- rule "assign": no monkeypatching of another package
    def _assigned(self, targets):
        if self.path.startswith(TESTS):
            return
        for target in targets:
            if isinstance(target, (ast.Tuple, ast.List)):
                self._assigned(target.elts)
            elif isinstance(target, ast.Starred):
                self._assigned([target.value])
            elif isinstance(target, ast.Attribute):
                name = self._dotted(target)
                if name is not None:
                    self._report(target, 'assign', name)

    def visit_Assign(self, node):
        self._assigned(node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._assigned([node.target])
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._assigned([node.target])
        self.generic_visit(node)

    def visit_Delete(self, node):
        self._assigned(node.targets)
        self.generic_visit(node)

    # -- rule "listener": event listeners go on objects, not classes
    def visit_Call(self, node):
        function = node.func
        called = (function.attr if isinstance(function, ast.Attribute)
                  else getattr(function, 'id', None))
        if called in ('listen', 'listens_for') and node.args:
            name = self._dotted(node.args[0])
            if name is not None and _is_class(name):
                self._report(node, 'listener', name)
        if (called in ('setattr', 'delattr') and len(node.args) > 1
                and not self.path.startswith(TESTS)):
            name = self._dotted(node.args[0])
            if name is not None:
                attr = getattr(node.args[1], 'value', '?')
                self._report(node, 'assign', '%s.%s' % (name, attr))
        self.generic_visit(node)


def _is_class(dotted):
    """Whether ``dotted`` names a class: imported if it can be, else by case."""
    parts = dotted.split('.')
    for split in range(len(parts), 0, -1):
        try:
            value = importlib.import_module('.'.join(parts[:split]))
        except ImportError:
            continue
        try:
            for part in parts[split:]:
                value = getattr(value, part)
        except AttributeError:
            break
        return inspect.isclass(value)
    return parts[-1][:1].isupper() and not parts[-1].isupper()


def scan(source, path, allowed=ALLOWED):
    """The violations in ``source`` (at ``path`` under ROOT), less ``allowed``.

    :returns: a sorted list of (path, line, rule, dotted name)
    """
    visitor = _Scan(path)
    tree = ast.parse(source, filename=path)
    # Imports first, wherever they are, so that every use sees them.
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            visitor.record_import(node)
    visitor.visit(tree)
    return [(path,) + found for found in sorted(visitor.found)
            if (path, found[2]) not in allowed]


def _read(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as source:
        return source.read()


def _python_files():
    for top in SCANNED:
        for directory, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(d for d in dirs if d != '__pycache__')
            for name in sorted(files):
                if name.endswith('.py'):
                    path = os.path.join(directory, name)
                    yield os.path.relpath(path, ROOT).replace(os.sep, '/')


class PublicApiTest(base.TestCase):

    def test_imageapi_and_tools_use_only_public_api_of_other_packages(self):
        found = []
        for path in _python_files():
            found.extend(scan(_read(path), path))

        self.assertEqual([], ['%s:%d: %s %s' % violation
                              for violation in found])

    def test_every_allowed_name_is_still_used(self):
        used = {(path, name)
                for path in {path for path, _name in ALLOWED}
                for path, _line, _rule, name in scan(_read(path), path, {})}

        self.assertEqual(set(), set(ALLOWED) - used)

    def _rules(self, source, path='imageapi/sample.py'):
        return [(line, rule, name)
                for _path, line, rule, name in scan(source, path)]

    def test_private_import_from_another_package_fails(self):
        source = ('from oslo_policy import _checks\n'
                  'import oslo_policy._checks\n'
                  'from oslo_policy._checks import RoleCheck\n'
                  'from oslo_policy import policy, __version__\n')

        self.assertEqual(
            [(1, 'import', 'oslo_policy._checks'),
             (2, 'import', 'oslo_policy._checks'),
             (3, 'import', 'oslo_policy._checks')], self._rules(source))

    def test_private_attribute_of_another_package_fails(self):
        source = ('import os\n'
                  'import sqlalchemy as sa\n'
                  'from oslo_db.sqlalchemy import engines\n'
                  'os._exit(0)\n'
                  'sa.pool._something.public\n'
                  'engines._init_events(None)\n'
                  'os.__name__, sa.pool.QueuePool\n')

        self.assertEqual(
            [(4, 'attribute', 'os._exit'),
             (5, 'attribute', 'sqlalchemy.pool._something'),
             (6, 'attribute', 'oslo_db.sqlalchemy.engines._init_events')],
            self._rules(source))

    def test_assigning_to_another_package_fails_outside_tests(self):
        source = ('import inspect\n'
                  'from oslo_policy import _checks as checks\n'
                  'inspect.getfullargspec = None\n'
                  'checks.inspect, x = None, 1\n'
                  'setattr(inspect, "signature", None)\n'
                  'local = {}\n'
                  'local[inspect.signature] = 1\n')

        self.assertEqual(
            [(2, 'import', 'oslo_policy._checks'),
             (3, 'assign', 'inspect.getfullargspec'),
             (4, 'assign', 'oslo_policy._checks.inspect'),
             (5, 'assign', 'inspect.signature')], self._rules(source))
        self.assertEqual(
            [(2, 'import', 'oslo_policy._checks')],
            self._rules(source, 'imageapi/tests/unit/test_sample.py'))

    def test_event_listener_on_a_class_fails(self):
        source = ('import sqlalchemy as sa\n'
                  'from sqlalchemy import event\n'
                  'from sqlalchemy.engine import Engine\n'
                  '@sa.event.listens_for(sa.engine.Engine, "connect")\n'
                  'def connect(*args):\n'
                  '    pass\n'
                  'event.listen(Engine, "begin", connect)\n'
                  'event.listen(sa.pool.Pool, "checkout", connect)\n'
                  'engine = sa.create_engine("sqlite://")\n'
                  'event.listen(engine, "connect", connect)\n')

        self.assertEqual(
            [(4, 'listener', 'sqlalchemy.engine.Engine'),
             (7, 'listener', 'sqlalchemy.engine.Engine'),
             (8, 'listener', 'sqlalchemy.pool.Pool')], self._rules(source))

    def test_own_modules_and_allowed_names_pass(self):
        source = ('from imageapi.db import sqlite\n'
                  'from . import _sibling\n'
                  'import os\n'
                  'sqlite._lock_path = sqlite._private_helper()\n'
                  'os._exit(0)\n')

        self.assertEqual([], self._rules(source, 'imageapi/cmd/api.py'))
