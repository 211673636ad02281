"""Tests of db/members.py on a real database.

In-memory SQLite, and MySQL and PostgreSQL too.
"""

import datetime

import fixtures as pyfixtures

from imageapi.common import exception
from imageapi.db import members as db_members
from imageapi.tests.unit.db import base

PROJECT_B = base.PROJECT_B
PROJECT_C = 'c1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6'
T0 = datetime.datetime(2024, 1, 1, 12, 0, 0)
_ctx = base.make_context


class MemberTest(base.RepositoryTestCase):
    """An image of PROJECT_A, shared with PROJECT_B and PROJECT_C."""

    def setUp(self):
        super().setUp()
        self.clock = self.useFixture(pyfixtures.MockPatch(
            'oslo_utils.timeutils.utcnow', return_value=T0)).mock
        self.image_id = self.create()['id']
        for member in (PROJECT_B, PROJECT_C):
            db_members.image_member_create(self.ctx, self.image_id, member)

    def members(self, ctx=None):
        return [m['member_id'] for m in db_members.image_member_find(
            ctx or self.ctx, self.image_id)]

    def assertMemberNotFound(self, fn, ctx, member_id, *args):
        self.assertRaises(exception.MemberNotFound, fn, ctx, self.image_id,
                          member_id, *args)

    # ------------------------------------------------------------ create
    def test_create_returns_pending_member(self):
        member = db_members.image_member_create(self.ctx, self.image_id,
                                                'd' * 32)

        self.assertEqual(
            {'image_id': self.image_id, 'member_id': 'd' * 32,
             'status': 'pending', 'created_at': '2024-01-01T12:00:00Z',
             'updated_at': '2024-01-01T12:00:00Z'}, member)

    def test_create_existing_member_raises_duplicate(self):
        self.assertRaises(exception.DuplicateMember,
                          db_members.image_member_create, self.ctx,
                          self.image_id, PROJECT_B)

    def test_create_past_quota_raises_limit_exceeded(self):
        exc = self.assertRaises(exception.LimitExceeded,
                                db_members.image_member_create, self.ctx,
                                self.image_id, 'd' * 32, quota=2)

        self.assertIn('Attempted: 3, Maximum: 2', exc.msg)
        self.assertEqual([PROJECT_B, PROJECT_C], self.members())

    def test_create_within_quota_succeeds(self):
        db_members.image_member_create(self.ctx, self.image_id, 'd' * 32,
                                       quota=3)

        self.assertEqual(3, len(self.members()))

    # ------------------------------------------------------------ find, get
    def test_find_by_owner_returns_all_oldest_first(self):
        self.assertEqual([PROJECT_B, PROJECT_C], self.members())

    def test_find_by_admin_returns_all(self):
        self.assertEqual([PROJECT_B, PROJECT_C],
                         self.members(_ctx(PROJECT_C, admin=True)))

    def test_find_by_member_returns_only_its_own(self):
        self.assertEqual([PROJECT_B], self.members(_ctx(PROJECT_B)))

    def test_find_by_other_project_returns_none(self):
        self.assertEqual([], self.members(_ctx('e' * 32)))

    def test_find_one_member(self):
        found = db_members.image_member_find(self.ctx, self.image_id,
                                             PROJECT_C)

        self.assertEqual([PROJECT_C], [m['member_id'] for m in found])

    def test_get_returns_member(self):
        member = db_members.image_member_get(self.ctx, self.image_id,
                                             PROJECT_B)

        self.assertEqual((PROJECT_B, 'pending'),
                         (member['member_id'], member['status']))

    def test_get_missing_member_raises_not_found(self):
        self.assertMemberNotFound(db_members.image_member_get, self.ctx,
                                  'd' * 32)

    def test_get_other_member_by_member_raises_not_found(self):
        self.assertMemberNotFound(db_members.image_member_get,
                                  _ctx(PROJECT_B), PROJECT_C)

    # ------------------------------------------------------------ update
    def test_update_sets_status_and_updated_at(self):
        self.clock.return_value = T0 + datetime.timedelta(hours=1)

        member = db_members.image_member_update(
            _ctx(PROJECT_B), self.image_id, PROJECT_B, 'accepted')

        self.assertEqual(('accepted', '2024-01-01T12:00:00Z',
                          '2024-01-01T13:00:00Z'),
                         (member['status'], member['created_at'],
                          member['updated_at']))
        self.assertEqual('accepted', db_members.image_member_get(
            self.ctx, self.image_id, PROJECT_B)['status'])

    def test_update_other_member_by_member_raises_and_keeps_it(self):
        self.assertMemberNotFound(db_members.image_member_update,
                                  _ctx(PROJECT_B), PROJECT_C, 'accepted')

        self.assertEqual('pending', db_members.image_member_get(
            self.ctx, self.image_id, PROJECT_C)['status'])

    def test_update_missing_member_raises_not_found(self):
        self.assertMemberNotFound(db_members.image_member_update, self.ctx,
                                  'd' * 32, 'accepted')

    # ------------------------------------------------------------ delete
    def test_delete_removes_member(self):
        db_members.image_member_delete(self.ctx, self.image_id, PROJECT_B)

        self.assertEqual([PROJECT_C], self.members())

    def test_delete_missing_member_raises_not_found(self):
        self.assertMemberNotFound(db_members.image_member_delete, self.ctx,
                                  'd' * 32)

    def test_delete_other_member_by_member_raises_and_keeps_it(self):
        self.assertMemberNotFound(db_members.image_member_delete,
                                  _ctx(PROJECT_B), PROJECT_C)

        self.assertEqual([PROJECT_B, PROJECT_C], self.members())


class MemberMySQLTest(base.MySQLMixin, MemberTest):
    pass


class MemberPostgreSQLTest(base.PostgreSQLMixin, MemberTest):
    pass
