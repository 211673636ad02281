"""Tests of db/uploads.py and the storage usage counter on a real database.

In-memory SQLite, and MySQL and PostgreSQL too.
"""

import datetime

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import uploads as db_uploads
from imageapi.tests.unit.db import base

T0 = datetime.datetime(2024, 1, 1, 12, 0, 0)
LEASE = T0 + datetime.timedelta(minutes=5)
STORED = {'size': 3, 'virtual_size': None, 'checksum': 'c' * 32,
          'os_hash_algo': 'sha512', 'os_hash_value': 'h' * 128,
          'location': {'url': 'file:///x', 'metadata': {}}}


class UploadTest(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create()['id']

    def used(self):
        return db_uploads.storage_used(self.ctx, self.ctx.project_id)

    def claim(self, claim='c-1', expires_at=LEASE):
        return db_uploads.upload_claim(self.ctx, self.image_id, claim,
                                       expires_at)

    def reserve(self, delta, claim='c-1', quota=100):
        db_uploads.upload_reserve(self.ctx, self.image_id, claim, delta,
                                  quota)

    # ------------------------------------------------------------ usage
    def test_storage_used_of_unknown_owner_is_zero(self):
        self.assertEqual(0, self.used())

    def test_storage_used_of_no_owner_counts_under_empty_key(self):
        image_id = self.create(ctx=self.admin, owner=None)['id']
        db_uploads.upload_claim(self.admin, image_id, 'c-9', LEASE)
        db_uploads.upload_reserve(self.admin, image_id, 'c-9', 4, None)

        self.assertEqual(4, db_uploads.storage_used(self.admin, None))

    # ------------------------------------------------------------ claim
    def test_claim_moves_queued_to_saving_with_lease(self):
        image = self.claim()

        self.assertEqual(('saving', 'c-1', LEASE),
                         (image['status'], image['upload_claim'],
                          image['upload_expires_at']))

    def test_claim_of_claimed_image_raises_naming_saving(self):
        self.claim()

        exc = self.assertRaises(exception.InvalidStatusTransition,
                                self.claim, 'c-2')

        self.assertIn('from saving', exc.msg)
        self.assertEqual('c-1', self.row(self.image_id).upload_claim)

    # ------------------------------------------------------------ reserve
    def test_reserve_adds_to_image_and_usage(self):
        self.claim()

        self.reserve(5)
        self.reserve(2)

        self.assertEqual((7, 7), (self.row(self.image_id).upload_reserved,
                                  self.used()))

    def test_reserve_past_quota_raises_and_changes_nothing(self):
        self.claim()
        self.reserve(60)

        exc = self.assertRaises(exception.StorageQuotaFull, self.reserve, 50)

        self.assertIn('60 are in use', exc.msg)
        self.assertEqual((60, 60), (self.row(self.image_id).upload_reserved,
                                    self.used()))

    def test_reserve_without_quota_limit_passes_any_size(self):
        self.claim()

        self.reserve(1 << 40, quota=None)

        self.assertEqual(1 << 40, self.used())

    def test_reserve_of_released_claim_raises_naming_current_status(self):
        self.claim()
        db_uploads.upload_release(self.ctx, self.image_id, 'c-1')

        exc = self.assertRaises(exception.InvalidStatusTransition,
                                self.reserve, 5)

        self.assertIn('from queued', exc.msg)
        self.assertEqual(0, self.used())

    def test_reserve_of_deleted_image_raises_not_found(self):
        self.claim()
        db_images.image_destroy(self.ctx, self.image_id)

        self.assertRaises(exception.ImageNotFound, self.reserve, 5)

    # ------------------------------------------------------------ renew
    def test_renew_extends_held_leases_only(self):
        self.claim()
        later = LEASE + datetime.timedelta(minutes=5)

        self.assertEqual(1, db_uploads.upload_renew(
            self.ctx, ['c-1', 'not-held'], later))
        self.assertEqual(later, self.row(self.image_id).upload_expires_at)

    def test_renew_nothing_returns_zero(self):
        self.assertEqual(0, db_uploads.upload_renew(self.ctx, [], LEASE))

    # ------------------------------------------------------------ finish
    def test_finish_activates_and_counts_the_real_size(self):
        self.claim()
        self.reserve(10)

        image = db_uploads.upload_finish(self.ctx, self.image_id, 'c-1',
                                         STORED)

        self.assertEqual(('active', 3, None, ['file:///x']),
                         (image['status'], image['size'],
                          image['upload_claim'],
                          [loc['url'] for loc in image['locations']]))
        self.assertEqual((0, 3), (self.row(self.image_id).upload_reserved,
                                  self.used()))

    def test_finish_under_other_claim_raises_and_keeps_saving(self):
        self.claim('theirs')

        self.assertRaises(exception.InvalidStatusTransition,
                          db_uploads.upload_finish, self.ctx, self.image_id,
                          'mine', STORED)
        self.assertEqual('saving', self.row(self.image_id).status)

    # ------------------------------------------------------------ release
    def test_release_returns_to_queued_and_frees_reservation(self):
        self.claim()
        self.reserve(10)

        image = db_uploads.upload_release(self.ctx, self.image_id, 'c-1')

        self.assertEqual(('queued', None, None),
                         (image['status'], image['upload_claim'],
                          image['size']))
        self.assertEqual(0, self.used())

    def test_release_twice_raises_naming_queued(self):
        self.claim()
        db_uploads.upload_release(self.ctx, self.image_id, 'c-1')

        exc = self.assertRaises(exception.InvalidStatusTransition,
                                db_uploads.upload_release, self.ctx,
                                self.image_id, 'c-1')

        self.assertIn('from queued', exc.msg)

    # ------------------------------------------------------------ expired
    def test_expired_lists_only_leases_ended_before_now(self):
        self.claim(expires_at=T0)
        live_id = self.create()['id']
        db_uploads.upload_claim(self.ctx, live_id, 'c-2', LEASE)

        self.assertEqual([(self.image_id, 'c-1')], db_uploads.upload_expired(
            self.ctx, T0 + datetime.timedelta(seconds=1)))

    def test_expired_leaves_out_deleted_images(self):
        self.claim(expires_at=T0)
        db_images.image_destroy(self.ctx, self.image_id)

        self.assertEqual([], db_uploads.upload_expired(
            self.ctx, LEASE))

    # ------------------------------------------------------------ destroy
    def test_destroy_of_claimed_image_frees_its_reservation(self):
        self.claim()
        self.reserve(10)

        db_images.image_destroy(self.ctx, self.image_id)

        self.assertEqual(0, self.used())

    def test_destroy_of_active_image_frees_its_size(self):
        self.claim()
        db_uploads.upload_finish(self.ctx, self.image_id, 'c-1', STORED)
        other = self.create()['id']
        db_images.image_transition(self.ctx, other, db_api.QUEUED,
                                   db_api.SAVING, values={'upload_claim': 'x'})
        db_uploads.upload_finish(self.ctx, other, 'x', dict(STORED, size=4))

        db_images.image_destroy(self.ctx, self.image_id)

        self.assertEqual(4, self.used())


class UsageFollowsOwnerTest(base.RepositoryTestCase):
    """issue 20: usage stays equal to the bytes of each owner's live images."""

    def setUp(self):
        super().setUp()
        self.image_id = self.create()['id']

    def used(self, project):
        return db_uploads.storage_used(self.admin, project)

    def upload(self, image_id, size, claim='c-1'):
        db_uploads.upload_claim(self.admin, image_id, claim, LEASE)
        db_uploads.upload_reserve(self.admin, image_id, claim, size, None)
        db_uploads.upload_finish(self.admin, image_id, claim,
                                 dict(STORED, size=size))

    def change_owner(self, image_id, owner):
        db_images.image_update(self.admin, image_id, {'owner': owner})

    def test_owner_change_moves_usage_and_delete_frees_it(self):
        self.upload(self.image_id, 700)

        self.change_owner(self.image_id, base.PROJECT_B)

        self.assertEqual(0, self.used(base.PROJECT_A))
        self.assertEqual(700, self.used(base.PROJECT_B))
        db_images.image_destroy(self.admin, self.image_id)
        self.assertEqual(0, self.used(base.PROJECT_B))

    def test_owner_change_during_upload_charges_new_owner(self):
        db_uploads.upload_claim(self.admin, self.image_id, 'c-1', LEASE)
        db_uploads.upload_reserve(self.admin, self.image_id, 'c-1', 1000,
                                  None)

        self.change_owner(self.image_id, base.PROJECT_B)
        db_uploads.upload_finish(self.admin, self.image_id, 'c-1',
                                 dict(STORED, size=900))

        self.assertEqual(0, self.used(base.PROJECT_A))
        self.assertEqual(900, self.used(base.PROJECT_B))

    def test_owner_change_of_queued_image_moves_nothing(self):
        self.change_owner(self.image_id, base.PROJECT_B)

        self.assertEqual(0, self.used(base.PROJECT_A))
        self.assertEqual(0, self.used(base.PROJECT_B))

    def test_usage_equals_live_images_after_changes(self):
        other = self.create()['id']
        self.upload(self.image_id, 300)
        self.upload(other, 500, claim='c-2')
        self.change_owner(other, base.PROJECT_B)
        self.change_owner(self.image_id, base.PROJECT_B)
        self.change_owner(other, base.PROJECT_A)
        db_images.image_destroy(self.admin, self.image_id)

        for project in (base.PROJECT_A, base.PROJECT_B):
            live = sum(image['size'] or 0 for image in
                       db_images.image_get_all(self.admin)
                       if image['owner'] == project)
            self.assertEqual(live, self.used(project), project)


class UsageFollowsOwnerMySQLTest(base.MySQLMixin, UsageFollowsOwnerTest):
    pass


class UsageFollowsOwnerPostgreSQLTest(base.PostgreSQLMixin,
                                      UsageFollowsOwnerTest):
    pass


class UploadMySQLTest(base.MySQLMixin, UploadTest):
    pass


class UploadPostgreSQLTest(base.PostgreSQLMixin, UploadTest):
    pass
