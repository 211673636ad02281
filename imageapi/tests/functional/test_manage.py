"""``imageapi-manage`` db sync, db version and the metadefs commands as an operator runs them."""

import os
import subprocess
import sys

from imageapi.db import migration
from imageapi.tests import base
from imageapi.tests.functional import databases
from imageapi.tests.functional import server as server_fixture


def manage_command():
    """argv prefix that runs imageapi-manage of this checkout.

    As a module, not the console script, which imports the imageapi its
    environment installed (possibly another checkout; see
    server.server_command).
    """
    return [sys.executable, '-m', 'imageapi.cmd.manage']


class TestManage(base.TestCase):

    def setUp(self):
        super().setUp()
        # An empty database on PostgreSQL or MariaDB runs (databases.py).
        self.database_env = databases.backend_env(self, synced=False)

    def manage(self, *args, state_path=None):
        env = {k: v for k, v in os.environ.items()
               if not server_fixture._FOREIGN_ENV.match(k)}
        env['OS_DEFAULT__STATE_PATH'] = state_path or self.state_path
        env.update(self.database_env)
        env['PYTHONPATH'] = os.pathsep.join(
            [server_fixture.REPO_ROOT] + [p for p in [env.get('PYTHONPATH')]
                                          if p])
        return subprocess.run(
            manage_command() + list(args), env=env, cwd=self.state_path,
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=120)

    def assertSucceeded(self, result):
        self.assertEqual(0, result.returncode,
                         'stdout: %s\nstderr: %s'
                         % (result.stdout, result.stderr))

    def test_version_of_empty_database_is_none(self):
        result = self.manage('db', 'version')
        self.assertSucceeded(result)
        self.assertEqual('None', result.stdout.strip().splitlines()[-1])

    def test_sync_then_version(self):
        head = migration.head()
        result = self.manage('db', 'sync')
        self.assertSucceeded(result)
        self.assertIn('Database is at revision %s' % head, result.stdout)
        if databases.backend() == 'sqlite':
            self.assertTrue(os.path.isfile(
                os.path.join(self.state_path, 'imageapi.sqlite')))

        result = self.manage('db', 'version')
        self.assertSucceeded(result)
        self.assertEqual(head, result.stdout.strip().splitlines()[-1])

    def test_sync_twice_is_a_no_op(self):
        self.assertSucceeded(self.manage('db', 'sync'))
        result = self.manage('db', 'sync')
        self.assertSucceeded(result)
        self.assertIn('Database is at revision %s' % migration.head(),
                      result.stdout)

    def test_server_starts_on_synced_database(self):
        self.assertSucceeded(self.manage('db', 'sync'))
        server = self.useFixture(server_fixture.Server(
            self.state_path, env=self.database_env))
        response = server.client().get('/v2/images')
        self.assertEqual(200, response.status)
        self.assertEqual([], response.json()['images'])

    def test_unknown_command_fails(self):
        result = self.manage('db', 'frobnicate')
        self.assertNotEqual(0, result.returncode)
        self.assertIn('invalid choice', result.stderr)

    def test_metadefs_round_trip_of_the_shipped_catalog(self):
        self.assertSucceeded(self.manage('db', 'sync'))
        loaded = self.manage('db', 'load_metadefs')
        self.assertSucceeded(loaded)
        shipped = len(os.listdir(os.path.join(server_fixture.REPO_ROOT,
                                              'etc', 'metadefs')))
        self.assertEqual(shipped, loaded.stdout.count(' created'))
        export_dir = os.path.join(self.state_path, 'export')
        self.assertSucceeded(self.manage('db', 'export_metadefs', '--path',
                                         export_dir))
        self.assertEqual(shipped, len(os.listdir(export_dir)))
        unloaded = self.manage('db', 'unload_metadefs')
        self.assertSucceeded(unloaded)
        self.assertIn('%d namespaces unloaded' % shipped, unloaded.stdout)
        again = self.manage('db', 'load_metadefs', '--path', export_dir)
        self.assertSucceeded(again)
        self.assertEqual(shipped, again.stdout.count(' created'))
