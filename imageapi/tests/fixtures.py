"""Test fixtures: a real database behind db.api, and the filesystem store in a temp dir."""

import os

from oslo_config import cfg
from oslo_db.sqlalchemy import test_fixtures

from imageapi import conf as imageapi_conf
from imageapi.db import api as db_api
from imageapi.db import migration
from imageapi.db import models

# Set (to anything) where the servers must be there, as on CI: a backend that
# can't be reached then fails its tests instead of skipping them.
REQUIRE_BACKENDS = bool(os.environ.get('IMAGEAPI_TEST_REQUIRE_DB_BACKENDS'))


class Database(test_fixtures.GeneratesSchema, test_fixtures.AdHocDbFixture):
    """A throwaway database that db.api's context manager points at.

    ``from_migrations`` builds the schema with alembic instead of
    ``create_all``, as functional tests do.
    """

    def __init__(self, url=None, from_migrations=False):
        super().__init__(url=url)
        self.from_migrations = from_migrations

    def get_enginefacade(self):
        return db_api.main_context_manager

    def generate_schema_create_all(self, engine):
        if self.from_migrations:
            with engine.begin() as connection:
                migration.upgrade('head', connection=connection)
        else:
            models.BASE.metadata.create_all(engine)

    def _setUp(self):
        super()._setUp()
        # The fixture made this engine itself: give a SQLite file what the
        # service's engines get (pool, WAL, writer locks), with the default
        # [database] options.
        defaults = cfg.ConfigOpts()
        imageapi_conf.register_opts(defaults)
        defaults([], default_config_files=[], default_config_dirs=[])
        db_api.setup_sqlite_engine(db_api.get_engine(), defaults)


class _ModelSchema(test_fixtures.GeneratesSchema):
    """db.api on a throwaway database of an OpportunisticDBTestMixin test.

    oslo.db creates the database through OS_TEST_DBAPI_ADMIN_CONNECTION
    and drops it after the test; the schema comes from the models.
    """

    def get_enginefacade(self):
        return db_api.main_context_manager

    def generate_schema_create_all(self, engine):
        models.BASE.metadata.create_all(engine)


class PostgreSQLDatabase(_ModelSchema,
                         test_fixtures.PostgresqlOpportunisticFixture):
    pass


class MySQLDatabase(_ModelSchema, test_fixtures.MySQLOpportunisticFixture):
    pass
