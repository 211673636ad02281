"""Tests of db/purge.py on a real database: in-memory SQLite, MySQL and PostgreSQL."""

import datetime

import fixtures as pyfixtures
import sqlalchemy as sa

from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import members as db_members
from imageapi.db import purge
from imageapi.db import query as image_query
from imageapi.tests.unit.db import base

T0 = datetime.datetime(2024, 1, 1, 12, 0, 0)
DAY = datetime.timedelta(days=1)
CHILDREN = ('image_properties', 'image_tags', 'image_members',
            'image_locations')


class PurgeTest(base.RepositoryTestCase):
    """Images made at T0; the clock then moves as each test says."""

    def setUp(self):
        super().setUp()
        self.now = T0
        self.useFixture(pyfixtures.MockPatch(
            'oslo_utils.timeutils.utcnow', side_effect=lambda: self.now))

    def image(self, deleted_days_ago=None):
        """An active image with one of each child row; deleted if asked.

        Deleted ``deleted_days_ago`` days before T0 + 100 days, the time
        the tests purge at.
        """
        if deleted_days_ago is not None:
            self.now = T0 + (100 - deleted_days_ago) * DAY
        image_id = self.create(properties={'os_distro': 'x', 'k': 'v'},
                               tags=['t1', 't2'])['id']
        db_members.image_member_create(self.ctx, image_id, base.PROJECT_B)
        db_images.image_transition(
            self.ctx, image_id, db_api.QUEUED, db_api.ACTIVE,
            values={'size': 3, 'location': {'url': 'file:///x/%s' % image_id,
                                            'metadata': {}}})
        if deleted_days_ago is not None:
            db_images.image_destroy(self.ctx, image_id)
        self.now = T0 + 100 * DAY
        return image_id

    def rows(self, image_id):
        """{table: rows of image_id} over the images table and its children."""
        counts = {}
        with db_api.get_engine().connect() as conn:
            for table in purge.IMAGE_CHILDREN + (image_query.IMAGES,):
                column = (table.c.id if table is image_query.IMAGES
                          else table.c.image_id)
                counts[table.name] = conn.execute(
                    sa.select(sa.func.count()).select_from(table)
                    .where(column == image_id)).scalar()
        return counts

    def full(self):
        return {'images': 1, 'image_properties': 2, 'image_tags': 2,
                'image_members': 1, 'image_locations': 1}

    # ------------------------------------------------------------ purge
    def test_purge_deletes_children_of_old_deleted_image_keeps_its_row(self):
        old = self.image(deleted_days_ago=40)

        counts = purge.purge_deleted_rows(self.admin, 30, -1)

        self.assertEqual({'image_properties': 2, 'image_tags': 2,
                          'image_members': 1, 'image_locations': 1}, counts)
        self.assertEqual(dict(dict.fromkeys(CHILDREN, 0), images=1),
                         self.rows(old))

    def test_purge_leaves_live_and_recently_deleted_images_whole(self):
        live = self.image()
        recent = self.image(deleted_days_ago=10)

        counts = purge.purge_deleted_rows(self.admin, 30, -1)

        self.assertEqual(dict.fromkeys(CHILDREN, 0), counts)
        self.assertEqual(self.full(), self.rows(live))
        self.assertEqual(self.full(), self.rows(recent))
        self.assertEqual('active', db_images.image_get(self.ctx, live)
                         ['status'])

    def test_purge_age_zero_takes_image_deleted_now(self):
        gone = self.image(deleted_days_ago=0)
        self.now += datetime.timedelta(seconds=1)

        purge.purge_deleted_rows(self.admin, 0, -1)

        self.assertEqual(0, self.rows(gone)['image_tags'])

    def test_purge_location_removed_from_live_image(self):
        live = self.image()
        self.now = T0 + 50 * DAY
        table = image_query.LOCATIONS
        with db_api.get_engine().begin() as conn:
            conn.execute(table.insert(), {
                'image_id': live, 'value': 'file:///old', 'meta_data': '{}',
                'status': 'deleted', 'created_at': T0, 'updated_at': T0})
        self.now = T0 + 100 * DAY

        counts = purge.purge_deleted_rows(self.admin, 30, -1)

        self.assertEqual(1, counts['image_locations'])
        self.assertEqual(self.full(), self.rows(live))
        self.assertEqual(['file:///x/%s' % live], [
            loc['url'] for loc in
            db_images.image_get(self.ctx, live)['locations']])

    def test_purge_max_rows_per_table_across_batches(self):
        self.useFixture(pyfixtures.MockPatchObject(purge, 'BATCH_ROWS', 2))
        old = [self.image(deleted_days_ago=40) for _ in range(3)]

        counts = purge.purge_deleted_rows(self.admin, 30, 5)

        self.assertEqual({'image_properties': 5, 'image_tags': 5,
                          'image_members': 3, 'image_locations': 3}, counts)
        left = purge.purge_deleted_rows(self.admin, 30, -1)
        self.assertEqual({'image_properties': 1, 'image_tags': 1,
                          'image_members': 0, 'image_locations': 0}, left)
        for image_id in old:
            self.assertEqual(1, self.rows(image_id)['images'])

    # ------------------------------------------------------------ images
    def test_purge_images_deletes_old_deleted_rows_and_children(self):
        old = self.image(deleted_days_ago=200)
        recent = self.image(deleted_days_ago=100)
        live = self.image()

        counts = purge.purge_deleted_images(self.admin, 180, -1)

        self.assertEqual({'images': 1, 'image_properties': 2, 'image_tags': 2,
                          'image_members': 1, 'image_locations': 1}, counts)
        self.assertEqual(dict.fromkeys(self.full(), 0), self.rows(old))
        self.assertEqual(self.full(), self.rows(recent))
        self.assertEqual(self.full(), self.rows(live))

    def test_purge_images_max_rows_counts_images_across_batches(self):
        self.useFixture(pyfixtures.MockPatchObject(purge, 'BATCH_ROWS', 2))
        old = [self.image(deleted_days_ago=200 + n) for n in range(5)]

        counts = purge.purge_deleted_images(self.admin, 180, 3)

        self.assertEqual(3, counts['images'])
        # Oldest first.
        self.assertEqual([0, 0, 0, 1, 1],
                         [self.rows(i)['images'] for i in reversed(old)])

    def test_purge_images_then_id_free_again(self):
        old = self.image(deleted_days_ago=200)

        purge.purge_deleted_images(self.admin, 180, -1)

        self.assertEqual(old, self.create(id=old)['id'])


class PurgeMySQLTest(base.MySQLMixin, PurgeTest):
    pass


class PurgePostgreSQLTest(base.PostgreSQLMixin, PurgeTest):
    pass
