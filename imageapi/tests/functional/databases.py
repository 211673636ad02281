"""Throwaway PostgreSQL and MariaDB/MySQL databases for functional tests.

The admin URLs come from OS_TEST_DBAPI_ADMIN_CONNECTION (its postgresql and mysql
entries); without a reachable server the test skips, or fails when
IMAGEAPI_TEST_REQUIRE_DB_BACKENDS is set, as on CI. ``IMAGEAPI_TEST_DB_BACKEND``
(``tox -e functional-postgresql``, ``functional-mysql``) puts the whole functional
suite on one of them: ``backend()`` says which, and the bases in base.py create one
database per test. The schema is made with ``imageapi-manage db sync``.
"""

import os
import subprocess
import sys
import uuid

import fixtures
import sqlalchemy as sa

BACKEND_ENV = 'IMAGEAPI_TEST_DB_BACKEND'
_DEFAULT_ADMIN = {
    'postgresql': 'postgresql+psycopg2://root@127.0.0.1:5432/test',
    'mysql': 'mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4',
}


def backend():
    """'sqlite' (the default), 'postgresql' or 'mysql'."""
    name = os.environ.get(BACKEND_ENV) or 'sqlite'
    if name not in ('sqlite',) + tuple(_DEFAULT_ADMIN):
        raise ValueError('%s=%s: expected sqlite, postgresql or mysql'
                         % (BACKEND_ENV, name))
    return name


def admin_url(dialect):
    for url in os.environ.get('OS_TEST_DBAPI_ADMIN_CONNECTION', '').split(';'):
        if url.startswith(dialect):
            return url
    return _DEFAULT_ADMIN[dialect]


class ServerDatabase(fixtures.Fixture):
    """``CREATE DATABASE imageapi_<random>`` on ``dialect``; dropped at cleanup.

    ``url`` is its SQLAlchemy URL, for OS_DATABASE__CONNECTION. With
    ``synced`` (the default) the schema is made by ``imageapi-manage db
    sync``; otherwise the database is left empty.
    """

    def __init__(self, testcase, dialect, synced=True):
        super().__init__()
        self.testcase = testcase
        self.dialect = dialect
        self.synced = synced

    def _setUp(self):
        self.admin = sa.create_engine(admin_url(self.dialect),
                                      isolation_level='AUTOCOMMIT')
        self.addCleanup(self.admin.dispose)
        try:
            self.sql('SELECT 1')
        except sa.exc.OperationalError as exc:
            if os.environ.get('IMAGEAPI_TEST_REQUIRE_DB_BACKENDS'):
                raise
            self.testcase.skipTest('%s unreachable: %s' % (self.dialect, exc))
        self.name = 'imageapi_%s' % uuid.uuid4().hex[:12]
        self.sql('CREATE DATABASE %s' % self.name)
        self.addCleanup(self.drop)
        self.url = sa.engine.make_url(admin_url(self.dialect)).set(
            database=self.name).render_as_string(hide_password=False)
        if self.synced:
            self.sync()

    def sync(self):
        env = dict(os.environ, OS_DATABASE__CONNECTION=self.url)
        sync = subprocess.run(
            [sys.executable, '-m', 'imageapi.cmd.manage', 'db', 'sync'],
            env=env, capture_output=True, text=True)
        if sync.returncode:
            raise RuntimeError('imageapi-manage db sync failed: %s%s'
                               % (sync.stdout, sync.stderr))

    def sql(self, statement):
        with self.admin.connect() as conn:
            result = conn.execute(sa.text(statement))
            return result.fetchall() if result.returns_rows else None

    def drop(self):
        """Drop it, ending the sessions still open on it.

        Servers using it are stopped first; an in-process app may still hold
        pooled connections (the upload lease thread's, say).
        """
        if self.dialect == 'postgresql':
            self.sql('DROP DATABASE IF EXISTS %s WITH (FORCE)' % self.name)
            return
        for (session,) in self.sql(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = '%s'" % self.name):
            try:
                self.sql('KILL %d' % session)
            except sa.exc.DBAPIError:
                pass  # ended meanwhile
        self.sql('DROP DATABASE IF EXISTS %s' % self.name)


class PostgresDatabase(ServerDatabase):
    """A PostgreSQL database that a test can cut off (an outage)."""

    def __init__(self, testcase, synced=True):
        super().__init__(testcase, 'postgresql', synced=synced)

    def cut(self):
        """Refuse new connections and end the open ones (an outage)."""
        self.sql('ALTER DATABASE %s ALLOW_CONNECTIONS false' % self.name)
        self.terminate()

    def restore(self):
        self.sql('ALTER DATABASE %s ALLOW_CONNECTIONS true' % self.name)

    def terminate(self):
        self.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE datname = '%s'" % self.name)

    def drop(self):
        self.restore()
        super().drop()


def backend_env(testcase, synced=True):
    """OS_DATABASE__CONNECTION of a new database of ``backend()`` for ``testcase``.

    Empty on SQLite, where the server keeps its file under state_path.
    """
    if backend() == 'sqlite':
        return {}
    database = testcase.useFixture(ServerDatabase(testcase, backend(),
                                                  synced=synced))
    return {'OS_DATABASE__CONNECTION': database.url}
