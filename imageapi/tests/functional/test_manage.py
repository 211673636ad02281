"""``imageapi-manage`` db sync, db version and the metadefs commands as an operator runs them."""

import os
import subprocess
import sys

from imageapi.db import migration
from imageapi.tests import base
from imageapi.tests.functional import base as functional_base
from imageapi.tests.functional import databases
from imageapi.tests.functional import server as server_fixture


def manage_command():
    """argv prefix that runs imageapi-manage of this checkout.

    As a module, not the console script, which imports the imageapi its
    environment installed (possibly another checkout; see
    server.server_command).
    """
    return [sys.executable, '-m', 'imageapi.cmd.manage']


def run_manage(state_path, *args, env=None):
    """Run imageapi-manage on the embedded default of ``state_path``.

    :param env: further environment variables (a database's, databases.py).
    """
    extra = env or {}
    env = {k: v for k, v in os.environ.items()
           if not server_fixture._FOREIGN_ENV.match(k)}
    env['OS_DEFAULT__STATE_PATH'] = state_path
    env.update(extra)
    env['PYTHONPATH'] = os.pathsep.join(
        [server_fixture.REPO_ROOT] + [p for p in [env.get('PYTHONPATH')]
                                      if p])
    return subprocess.run(
        manage_command() + list(args), env=env, cwd=state_path,
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=120)


class TestManage(base.TestCase):

    def setUp(self):
        super().setUp()
        # An empty database on PostgreSQL or MariaDB runs (databases.py).
        self.database_env = databases.backend_env(self, synced=False)

    def manage(self, *args, state_path=None):
        return run_manage(state_path or self.state_path, *args,
                          env=self.database_env)

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


class TestPurge(functional_base.ServerTestCase):
    """db purge and purge_images_table on the database of a running server."""

    def manage(self, *args):
        return run_manage(self.state_path, *args, env=self.database_env())

    def deleted_image(self):
        image = self.create_image(name='doomed', tags=['t'],
                                  os_distro='debian')
        self.assertStatus(204, self.client.upload(image['id'], b'x' * 1000))
        self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                  % image['id']))
        return image['id']

    def counts(self, image_id):
        return [self.db_query('SELECT count(*) AS n FROM %s WHERE %s = ?'
                              % (table, column), image_id)[0]['n']
                for table, column in (('images', 'id'),
                                      ('image_properties', 'image_id'),
                                      ('image_tags', 'image_id'),
                                      ('image_locations', 'image_id'))]

    def test_purge_then_purge_images_table_leave_live_image(self):
        gone = self.deleted_image()
        live = self.create_image(name='live', tags=['t'], os_distro='x')
        self.assertEqual([1, 1, 1, 1], self.counts(gone))

        result = self.manage('db', 'purge', '--age-in-days', '0')

        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('Deleted 1 row(s) from table image_tags',
                      result.stdout)
        self.assertEqual([1, 0, 0, 0], self.counts(gone))
        result = self.manage('db', 'purge_images_table', '--age-in-days', '0')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('Deleted 1 row(s) from table images', result.stdout)
        self.assertEqual([0, 0, 0, 0], self.counts(gone))
        self.assertEqual([1, 1, 1, 0], self.counts(live['id']))
        self.assertEqual(['t'], self.show_image(live['id'])['tags'])
        self.assertStatus(404, self.client.get('/v2/images/%s' % gone))
