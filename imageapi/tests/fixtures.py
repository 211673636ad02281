"""Test fixtures: a real database behind db.api, and the filesystem store in a temp dir."""

import fixtures
from oslo_db.sqlalchemy import test_fixtures

from imageapi.db import api as db_api
from imageapi.db import migration
from imageapi.db import models


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
        # db.api.configure() must not reconfigure the patched facade.
        self.useFixture(fixtures.MonkeyPatch(
            'imageapi.db.api._configured', True))
