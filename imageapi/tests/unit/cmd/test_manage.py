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

    def test_every_command_has_help_saying_what_it_does(self):
        commands = [('db', 'sync'), ('db', 'version'), ('db', 'check'),
                    ('db', 'purge'), ('db', 'purge_images_table'),
                    ('db', 'load_metadefs'), ('db', 'unload_metadefs'),
                    ('db', 'export_metadefs'), ('image', 'reap'),
                    ('cache', 'prune'), ('cache', 'clean'),
                    ('cache', 'prefetch')]
        for command in commands:
            result = _run('imageapi.cmd.manage', *command, '--help',
                          env=self.env())
            self.assertEqual(0, result.returncode, command)
            usage, _blank, description = result.stdout.partition('\n\n')
            self.assertIn('usage: imageapi-manage %s' % ' '.join(command),
                          usage)
            # A description paragraph before the options.
            self.assertFalse(description.startswith('options:'),
                             result.stdout)
            self.assertGreater(len(description.split('options:')[0]), 20)


class TestCacheCommands(base.TestCase):
    """imageapi-manage cache: a node without image_cache_dir exits 2."""

    def test_cache_commands_without_cache_dir_exit_2(self):
        config_file = os.path.join(self.state_path, 'empty.conf')
        open(config_file, 'w').close()
        for action in ('prune', 'clean', 'prefetch'):
            with mock.patch('sys.stderr', new_callable=io.StringIO) as err, \
                    mock.patch('imageapi.common.config.setup_logging'), \
                    mock.patch.dict(os.environ, {
                        'OS_DEFAULT__STATE_PATH': self.state_path}):
                status = manage.main(['--config-file', config_file, 'cache',
                                      action])
            self.assertEqual(manage.CACHE_OFF, status, action)
            self.assertIn('image_cache_dir is not set', err.getvalue())


class TestPurgeCommand(base.TestCase):
    """db purge and db purge_images_table: limits and what they print."""

    def setUp(self):
        super().setUp()
        self.useFixture(imageapi_fixtures.Database(from_migrations=True))
        self.config_file = os.path.join(self.state_path, 'empty.conf')
        open(self.config_file, 'w').close()

    def manage(self, *argv):
        with mock.patch('sys.stdout', new_callable=io.StringIO) as out, \
                mock.patch('sys.stderr', new_callable=io.StringIO) as err, \
                mock.patch('imageapi.common.config.setup_logging'), \
                mock.patch.dict(os.environ,
                                {'OS_DEFAULT__STATE_PATH': self.state_path}):
            status = manage.main(['--config-file', self.config_file, 'db']
                                 + list(argv))
        return status, out.getvalue(), err.getvalue()

    def test_limits_out_of_range_exit_1_with_glance_message(self):
        cases = [
            (('purge', '--age-in-days', '-1'),
             'Must supply a non-negative value for age.'),
            (('purge_images_table', '--age_in_days', '1000000'),
             'Maximal age is count of days since epoch.'),
            (('purge', '--max-rows', '-2'), 'Minimal rows limit is -1.'),
            (('purge', '--max_rows', '0'),
             'max_rows must be at least 1, or -1 for no limit.'),
            (('purge_images_table', '--max-rows', str(2 ** 31)),
             "'max_rows' value out of range, must not exceed 2147483647."),
        ]
        for argv, message in cases:
            status, out, err = self.manage(*argv)
            self.assertEqual((manage.INVALID_VALUE, '',
                              'imageapi-manage: %s\n' % message),
                             (status, out, err), argv)

    def test_not_an_integer_is_a_usage_error(self):
        exc = self.assertRaises(SystemExit, self.manage, 'purge',
                                '--max-rows', 'many')

        self.assertEqual(2, exc.code)

    def test_purge_prints_rows_per_table(self):
        status, out, err = self.manage('purge', '--age-in-days', '0',
                                       '--max-rows', '-1')

        self.assertEqual((0, ''), (status, err))
        self.assertEqual(['Deleted 0 row(s) from table %s' % table
                          for table in ('image_properties', 'image_tags',
                                        'image_members', 'image_locations')],
                         out.splitlines())

    def test_purge_images_table_prints_images_too(self):
        status, out, _err = self.manage('purge_images_table')

        self.assertEqual(0, status)
        self.assertIn('Deleted 0 row(s) from table images', out)
