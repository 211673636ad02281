"""imageapi-manage: db sync, db version and image reap against a test database."""

import io
import os
from unittest import mock

from imageapi.cmd import manage
from imageapi.db import migration
from imageapi.tests import base
from imageapi.tests import fixtures as imageapi_fixtures


class _EmptyDatabase(imageapi_fixtures.Database):
    """A database with no schema at all, for db sync to build."""

    def generate_schema_create_all(self, engine):
        pass


class TestManage(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(_EmptyDatabase())
        self.config_file = os.path.join(self.state_path, 'empty.conf')
        open(self.config_file, 'w').close()

    def manage(self, *argv):
        with mock.patch('sys.stdout', new_callable=io.StringIO) as out, \
                mock.patch.dict(os.environ,
                                {'OS_DEFAULT__STATE_PATH': self.state_path}):
            self.assertEqual(0, manage.main(
                ['--config-file', self.config_file] + list(argv)))
        return out.getvalue()

    def test_version_of_empty_database(self):
        self.assertEqual('None\n', self.manage('db', 'version'))

    def test_sync_upgrades_to_head(self):
        self.assertEqual('Database is at revision %s\n' % migration.head(),
                         self.manage('db', 'sync'))
        self.assertEqual('%s\n' % migration.head(),
                         self.manage('db', 'version'))

    def test_reap_with_nothing_expired(self):
        self.manage('db', 'sync')
        self.assertEqual('0 expired uploads reaped\n',
                         self.manage('image', 'reap'))

    def test_missing_action_exits(self):
        with mock.patch('sys.stderr', new_callable=io.StringIO):
            exc = self.assertRaises(SystemExit, manage.main,
                                    ['--config-file', self.config_file, 'db'])
        self.assertEqual(2, exc.code)
