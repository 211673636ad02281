"""RepositoryTestCase: the db/ repository modules on a real database.

Tests run on in-memory SQLite; mixing in MySQLMixin or PostgreSQLMixin runs a test class
again on a throwaway database of that server (see test_migrations.py for how oslo.db
finds the servers). Such a backend is skipped when it cannot be reached, unless
IMAGEAPI_TEST_REQUIRE_DB_BACKENDS is set.
"""

import os
import threading
import time

from oslo_db.sqlalchemy import test_fixtures
import sqlalchemy as sa

from imageapi import context
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import models
from imageapi.tests import base
from imageapi.tests import fixtures

PROJECT_A = 'a1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6'
PROJECT_B = 'b1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6'

_REQUIRE_BACKENDS = bool(os.environ.get('IMAGEAPI_TEST_REQUIRE_DB_BACKENDS'))


def make_context(project=PROJECT_A, admin=False):
    return context.RequestContext(project_id=project, is_admin=admin,
                                  roles=['admin'] if admin else ['member'],
                                  overwrite=False)


class RepositoryTestCase(base.TestCase):
    """A fresh schema from the models; ``ctx`` is a member of PROJECT_A."""

    def setUp(self):
        super().setUp()
        if not isinstance(self, test_fixtures.OpportunisticDBTestMixin):
            self.useFixture(fixtures.Database())
        self.ctx = make_context()
        self.admin = make_context(admin=True)

    def create(self, ctx=None, **values):
        values.setdefault('owner', (ctx or self.ctx).project_id)
        return db_images.image_create(ctx or self.ctx, values)

    def row(self, image_id):
        """The raw images row, deleted or not, bypassing visibility."""
        table = models.Image.__table__
        with db_api.get_engine().connect() as conn:
            return conn.execute(sa.select(table).where(
                table.c.id == image_id)).one()

    def set_status(self, image_id, status):
        """Put the row in ``status`` directly, as no repository call would."""
        table = models.Image.__table__
        with db_api.get_engine().begin() as conn:
            conn.execute(table.update().where(table.c.id == image_id)
                         .values(status=status))

    def start_thread(self, fn, *args):
        """Run ``fn(*args)`` in a thread, e.g. while the test is in a writer block.

        :returns: the thread, started, and a dict that gets ``result`` or
            ``error``.
        """
        outcome = {}

        def run():
            try:
                outcome['result'] = fn(*args)
            except Exception as exc:
                outcome['error'] = exc
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread, outcome

    def wait_for_lock_wait(self, deadline=30.0):
        """Return once another connection to the test database waits on a lock.

        On MySQL, once it runs a write or a locking read (FOR UPDATE):
        MariaDB lists no lock wait of a transaction that has not written yet
        (a foreign key check, say), and the writes of these tests cannot
        finish while the test's writer block holds its locks.
        """
        engine = db_api.get_engine()
        if engine.dialect.name == 'postgresql':
            query = ("SELECT count(*) FROM pg_stat_activity "
                     "WHERE wait_event_type = 'Lock' "
                     "AND datname = current_database()")
        else:
            query = ("SELECT count(*) FROM information_schema.processlist "
                     "WHERE db = DATABASE() AND id <> CONNECTION_ID() "
                     "AND (info REGEXP '^(INSERT|UPDATE|DELETE)' "
                     "OR info LIKE '%%FOR UPDATE%%')")
        end = time.monotonic() + deadline
        with engine.connect() as conn:
            while conn.exec_driver_sql(query).scalar() == 0:
                self.assertLess(time.monotonic(), end, 'no lock wait seen')
                conn.rollback()
                threading.Event().wait(0.01)


class _Schema(test_fixtures.GeneratesSchema, test_fixtures.DeletesFromSchema):
    """The models' schema, built once per database; rows deleted per test."""

    def get_enginefacade(self):
        return db_api.main_context_manager

    def generate_schema_create_all(self, engine):
        models.BASE.metadata.create_all(engine)

    def delete_from_schema(self, engine):
        with engine.begin() as conn:
            for table in reversed(models.BASE.metadata.sorted_tables):
                conn.execute(table.delete())


class _MySQLDatabase(_Schema, test_fixtures.MySQLOpportunisticFixture):
    pass


class _PostgreSQLDatabase(_Schema, test_fixtures.PostgresqlOpportunisticFixture):
    pass


class MySQLMixin(test_fixtures.OpportunisticDBTestMixin):
    FIXTURE = _MySQLDatabase
    SKIP_ON_UNAVAILABLE_DB = not _REQUIRE_BACKENDS


class PostgreSQLMixin(test_fixtures.OpportunisticDBTestMixin):
    FIXTURE = _PostgreSQLDatabase
    SKIP_ON_UNAVAILABLE_DB = not _REQUIRE_BACKENDS
