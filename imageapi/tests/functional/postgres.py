"""A throwaway PostgreSQL database for real-server tests, which a test can cut off.

The admin URL comes from OS_TEST_DBAPI_ADMIN_CONNECTION (its postgresql entry); without a
reachable server the test skips, or fails when IMAGEAPI_TEST_REQUIRE_DB_BACKENDS is set,
as on CI. The schema is made with ``imageapi-manage db sync``.
"""

import os
import subprocess
import sys
import uuid

import fixtures
import sqlalchemy as sa

_DEFAULT_ADMIN = 'postgresql+psycopg2://root@127.0.0.1:5432/test'


def admin_url():
    for url in os.environ.get('OS_TEST_DBAPI_ADMIN_CONNECTION', '').split(';'):
        if url.startswith('postgresql'):
            return url
    return _DEFAULT_ADMIN


class PostgresDatabase(fixtures.Fixture):
    """``CREATE DATABASE imageapi_<random>``, synced; dropped at cleanup.

    ``url`` is its SQLAlchemy URL, for OS_DATABASE__CONNECTION.
    """

    def __init__(self, testcase):
        super().__init__()
        self.testcase = testcase

    def _setUp(self):
        self.admin = sa.create_engine(admin_url(),
                                      isolation_level='AUTOCOMMIT')
        self.addCleanup(self.admin.dispose)
        try:
            self.sql('SELECT 1')
        except sa.exc.OperationalError as exc:
            if os.environ.get('IMAGEAPI_TEST_REQUIRE_DB_BACKENDS'):
                raise
            self.testcase.skipTest('PostgreSQL unreachable: %s' % exc)
        self.name = 'imageapi_%s' % uuid.uuid4().hex[:12]
        self.sql('CREATE DATABASE %s' % self.name)
        self.addCleanup(self.drop)
        self.url = sa.engine.make_url(admin_url()).set(
            database=self.name).render_as_string(hide_password=False)
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
        """Drop it; servers using it must be stopped first."""
        self.restore()
        self.terminate()
        self.sql('DROP DATABASE IF EXISTS %s WITH (FORCE)' % self.name)
