"""imageapi-manage: db sync, db version and image reap against a test database."""

import io
import os
import subprocess
import sys
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
        # oslo.log's setup replaces the test process's logging handlers.
        with mock.patch('sys.stdout', new_callable=io.StringIO) as out, \
                mock.patch('imageapi.common.config.setup_logging'), \
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

    def test_check_empty_database_is_outdated(self):
        with mock.patch('sys.stderr', new_callable=io.StringIO) as err, \
                mock.patch('imageapi.common.config.setup_logging'), \
                mock.patch.dict(os.environ,
                                {'OS_DEFAULT__STATE_PATH': self.state_path}):
            status = manage.main(['--config-file', self.config_file, 'db',
                                  'check'])
        self.assertEqual(manage.SCHEMA_OUTDATED, status)
        self.assertIn('imageapi-manage db sync', err.getvalue())

    def test_check_after_sync_is_up_to_date(self):
        self.manage('db', 'sync')

        self.assertEqual('Database is up to date at revision %s\n'
                         % migration.head(), self.manage('db', 'check'))

    def test_reap_with_nothing_expired(self):
        self.manage('db', 'sync')
        self.assertEqual('0 expired uploads reaped\n'
                         '0 expired imports failed\n',
                         self.manage('image', 'reap'))

    def test_purge_tasks_with_nothing_expired(self):
        self.manage('db', 'sync')
        self.assertEqual('0 expired tasks purged\n',
                         self.manage('db', 'purge_tasks'))

    def test_missing_action_exits(self):
        with mock.patch('sys.stderr', new_callable=io.StringIO):
            exc = self.assertRaises(SystemExit, manage.main,
                                    ['--config-file', self.config_file, 'db'])
        self.assertEqual(2, exc.code)


def _run(*argv, env=None):
    """Run ``python -m`` this checkout's command as an operator would."""
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    environ = dict(os.environ, PYTHONPATH=checkout, **(env or {}))
    return subprocess.run([sys.executable, '-m'] + list(argv), env=environ,
                          capture_output=True, text=True, timeout=120)


class TestOperatorErrors(base.TestCase):
    """What an operator sees: one-line errors, exit codes, quiet starts."""

    def env(self, **extra):
        return dict({'OS_DEFAULT__STATE_PATH': self.state_path}, **extra)

    def test_manage_help_names_the_program(self):
        result = _run('imageapi.cmd.manage', '--help', env=self.env())

        self.assertEqual(0, result.returncode)
        self.assertIn('usage: imageapi-manage', result.stdout)
        self.assertIn('Database and image housekeeping', result.stdout)

    def test_missing_config_file_is_one_line_exit_1(self):
        for command in (('imageapi.cmd.manage', 'db', 'version'),
                        ('imageapi.cmd.api',)):
            result = _run(command[0], '--config-file', '/nonexistent.conf',
                          *command[1:], env=self.env())
            self.assertEqual(1, result.returncode, command)
            self.assertNotIn('Traceback', result.stderr)
            self.assertEqual(1, len(result.stderr.strip().splitlines()),
                             result.stderr)
            self.assertIn('/nonexistent.conf', result.stderr)

    def test_database_unreachable_is_one_line_exit_3(self):
        result = _run('imageapi.cmd.manage', 'db', 'version', env=self.env(
            OS_DATABASE__CONNECTION='postgresql+psycopg2://x@127.0.0.1:1/x',
            OS_DATABASE__MAX_RETRIES='0'))

        self.assertEqual(manage.DATABASE_ERROR, result.returncode)
        self.assertNotIn('Traceback', result.stderr)
        self.assertTrue(result.stderr.startswith(
            'imageapi-manage: database error:'), result.stderr)

    def test_sync_does_not_print_alembic_plugin_lines(self):
        result = _run('imageapi.cmd.manage', 'db', 'sync', env=self.env())

        self.assertEqual(0, result.returncode, result.stderr)
        self.assertNotIn('setup plugin', result.stdout + result.stderr)

    def test_debug_turns_on_debug_logging(self):
        log_file = os.path.join(self.state_path, 'manage.log')
        result = _run('imageapi.cmd.manage', '--debug', '--log-file',
                      log_file, 'db', 'sync', env=self.env())

        self.assertEqual(0, result.returncode, result.stderr)
        with open(log_file) as f:
            self.assertIn('DEBUG', f.read())
