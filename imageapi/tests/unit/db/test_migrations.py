"""The alembic migrations: every revision applies, and head matches the models.

Each test runs on SQLite and, opportunistically, on MySQL/MariaDB and PostgreSQL.
oslo.db reads the admin URLs from OS_TEST_DBAPI_ADMIN_CONNECTION (';'-separated, e.g.
``postgresql+psycopg2://root@127.0.0.1/test;mysql+pymysql://root@127.0.0.1/test``),
creates a throwaway database per test class through them and drops it afterwards, so
that user needs CREATE DATABASE rights. Without the variable it tries the
openstack_citest/openstack_citest convention; a server it can't reach skips its tests.
"""

import fcntl
import os

from alembic import script
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import test_fixtures
from oslo_db.sqlalchemy import test_migrations
from oslotest import base as test_base
import sqlalchemy as sa

from imageapi.db import api as db_api
from imageapi.db import migration
from imageapi.db import models
from imageapi.tests import base
from imageapi.tests import fixtures


class _ImageAPIFixture:
    def get_enginefacade(self):
        return db_api.main_context_manager


class SQLiteFixture(_ImageAPIFixture, test_fixtures.OpportunisticDbFixture):
    pass


class MySQLFixture(_ImageAPIFixture, test_fixtures.MySQLOpportunisticFixture):
    pass


class PostgresqlFixture(_ImageAPIFixture,
                        test_fixtures.PostgresqlOpportunisticFixture):
    pass


def _revisions():
    """Every revision id, oldest first."""
    directory = script.ScriptDirectory.from_config(migration._config())
    return [rev.revision for rev in reversed(list(
        directory.walk_revisions()))]


class TestRevisions(test_base.BaseTestCase):

    def test_single_head(self):
        directory = script.ScriptDirectory.from_config(migration._config())
        self.assertEqual(1, len(directory.get_heads()))
        self.assertEqual(_revisions()[-1], migration.head())

    def test_revisions_are_linear(self):
        directory = script.ScriptDirectory.from_config(migration._config())
        for revision in directory.walk_revisions():
            self.assertFalse(revision.is_merge_point, revision.revision)
            self.assertFalse(revision.is_branch_point, revision.revision)


class TestSQLiteUpgradeLock(base.TestCase):

    def _try_lock(self):
        fd = os.open(self.state_path, os.O_RDONLY)
        self.addCleanup(os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)

    def test_file_database_locks_its_directory(self):
        engine = sa.create_engine(
            'sqlite:///%s/imageapi.sqlite' % self.state_path)
        with migration._sqlite_upgrade_lock(engine):
            self.assertRaises(BlockingIOError, self._try_lock)
        self._try_lock()

    def test_memory_database_takes_no_lock(self):
        with migration._sqlite_upgrade_lock(sa.create_engine('sqlite://')):
            self._try_lock()


class _WalkVersions:
    """Upgrade an empty database one revision at a time.

    A test can insert data before revision X with ``_pre_upgrade_X(engine)``
    and check it after with ``_check_X(engine, data)``.
    """

    def setUp(self):
        super().setUp()
        self.engine = db_api.get_engine()

    def _upgrade(self, revision):
        with self.engine.begin() as connection:
            migration.upgrade(revision, connection=connection)

    def test_walk_versions(self):
        self.assertIsNone(migration.version(self.engine))
        for revision in _revisions():
            pre_upgrade = getattr(self, '_pre_upgrade_%s' % revision, None)
            data = pre_upgrade(self.engine) if pre_upgrade else None
            self._upgrade(revision)
            self.assertEqual(revision, migration.version(self.engine))
            check = getattr(self, '_check_%s' % revision, None)
            if check:
                check(self.engine, data)

    def test_upgrade_head_twice(self):
        self._upgrade('head')
        self._upgrade('head')
        self.assertEqual(migration.head(), migration.version(self.engine))

    def test_upgrade_without_connection_uses_configured_engine(self):
        migration.upgrade('head')
        self.assertEqual(migration.head(), migration.version(self.engine))

    def test_ensure_schema(self):
        """Servers upgrade SQLite themselves, and only check other DBs."""
        if self.engine.dialect.name == 'sqlite':
            migration.ensure_schema(None)
        else:
            self.assertRaises(RuntimeError, migration.ensure_schema, None)
            self._upgrade('head')
            migration.ensure_schema(None)
        self.assertEqual(migration.head(), migration.version(self.engine))

    # ------------------------------------------------ per-revision checks
    def _pre_upgrade_0002(self, engine):
        images = sa.table('images', *[sa.column(c) for c in (
            'id', 'owner', 'size', 'status', 'visibility', 'min_disk',
            'min_ram', 'protected', 'os_hidden', 'deleted')])
        common = {'status': 'active', 'visibility': 'private', 'min_disk': 0,
                  'min_ram': 0, 'protected': False, 'os_hidden': False}
        rows = [dict(common, id='a1', owner='p1', size=10, deleted=False),
                dict(common, id='a2', owner='p1', size=5, deleted=False),
                dict(common, id='a3', owner='p1', size=100, deleted=True),
                dict(common, id='b1', owner='p2', size=7, deleted=False),
                dict(common, id='q1', owner='p2', size=None, deleted=False)]
        with engine.begin() as connection:
            connection.execute(images.insert(), rows)
        return {'p1': 15, 'p2': 7}

    def _check_0002(self, engine, data):
        with engine.connect() as connection:
            used = dict(connection.execute(sa.text(
                'SELECT owner, used FROM storage_usage')).fetchall())
            reserved = connection.execute(sa.text(
                'SELECT DISTINCT upload_reserved FROM images')).fetchall()
        self.assertEqual(data, used)
        self.assertEqual([(0,)], reserved)

    def _check_0003(self, engine, data):
        members = sa.table('image_members', *[sa.column(c) for c in (
            'image_id', 'member', 'status', 'can_share')])
        row = {'image_id': 'a1', 'member': 'p2', 'status': 'pending',
               'can_share': False}
        with engine.begin() as connection:
            connection.execute(members.insert(), [row])
        with engine.begin() as connection:
            self.assertRaises(db_exc.DBDuplicateEntry, connection.execute,
                              members.insert(), [row])

    def _check_0004(self, engine, data):
        namespaces = sa.table('metadef_namespaces', *[sa.column(c) for c in (
            'id', 'namespace', 'visibility', 'protected', 'owner')])
        tags = sa.table('metadef_tags', *[sa.column(c) for c in (
            'namespace_id', 'name')])
        row = {'id': 1, 'namespace': 'OS::Test', 'visibility': 'public',
               'protected': False, 'owner': 'p1'}
        with engine.begin() as connection:
            connection.execute(namespaces.insert(), [row])
            connection.execute(tags.insert(), [{'namespace_id': 1,
                                                'name': 't' * 80}])
        for table, values in ((namespaces, dict(row, id=2)),
                              (tags, {'namespace_id': 1, 'name': 't' * 80})):
            with engine.begin() as connection:
                self.assertRaises(db_exc.DBDuplicateEntry,
                                  connection.execute, table.insert(),
                                  [values])


class TestMigrationsSQLite(_WalkVersions,
                           test_fixtures.OpportunisticDBTestMixin,
                           test_base.BaseTestCase):
    FIXTURE = SQLiteFixture


class TestMigrationsMySQL(_WalkVersions,
                          test_fixtures.OpportunisticDBTestMixin,
                          test_base.BaseTestCase):
    FIXTURE = MySQLFixture
    SKIP_ON_UNAVAILABLE_DB = not fixtures.REQUIRE_BACKENDS


class TestMigrationsPostgreSQL(_WalkVersions,
                               test_fixtures.OpportunisticDBTestMixin,
                               test_base.BaseTestCase):
    FIXTURE = PostgresqlFixture
    SKIP_ON_UNAVAILABLE_DB = not fixtures.REQUIRE_BACKENDS


class _ModelsMigrationsSync(test_migrations.ModelsMigrationsSync):
    """Schema built by the migrations == schema the models describe."""

    def get_metadata(self):
        return models.BASE.metadata

    def get_engine(self):
        return db_api.get_engine()

    def db_sync(self, engine):
        with engine.begin() as connection:
            migration.upgrade('head', connection=connection)


class ModelsMigrationsSyncSQLite(_ModelsMigrationsSync,
                                 test_fixtures.OpportunisticDBTestMixin,
                                 test_base.BaseTestCase):
    FIXTURE = SQLiteFixture


class ModelsMigrationsSyncMySQL(_ModelsMigrationsSync,
                                test_fixtures.OpportunisticDBTestMixin,
                                test_base.BaseTestCase):
    FIXTURE = MySQLFixture
    SKIP_ON_UNAVAILABLE_DB = not fixtures.REQUIRE_BACKENDS


class ModelsMigrationsSyncPostgreSQL(_ModelsMigrationsSync,
                                     test_fixtures.OpportunisticDBTestMixin,
                                     test_base.BaseTestCase):
    FIXTURE = PostgresqlFixture
    SKIP_ON_UNAVAILABLE_DB = not fixtures.REQUIRE_BACKENDS
