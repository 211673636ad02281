"""RepositoryTestCase: the db/ repository modules on a real (in-memory SQLite) database."""

import sqlalchemy as sa

from imageapi import context
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import models
from imageapi.tests import base
from imageapi.tests import fixtures

PROJECT_A = 'a1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6'
PROJECT_B = 'b1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6'


def make_context(project=PROJECT_A, admin=False):
    return context.RequestContext(project_id=project, is_admin=admin,
                                  roles=['admin'] if admin else ['member'],
                                  overwrite=False)


class RepositoryTestCase(base.TestCase):
    """A fresh schema from the models; ``ctx`` is a member of PROJECT_A."""

    def setUp(self):
        super().setUp()
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
