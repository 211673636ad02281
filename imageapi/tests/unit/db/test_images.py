"""Tests of db/images.py on a real database.

In-memory SQLite; the classes that change rows run on MySQL and PostgreSQL too.
"""

import datetime

import fixtures as pyfixtures
from oslo_utils import uuidutils
import sqlalchemy as sa

from imageapi.api.v2 import schemas
from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import members as db_members
from imageapi.db import models
from imageapi.db import query as db_query
from imageapi.db import uploads as db_uploads
from imageapi.tests.unit.db import base

PROJECT_B = base.PROJECT_B
T0 = datetime.datetime(2024, 1, 1, 12, 0, 0)
_ctx = base.make_context
_LEASE = datetime.datetime(2099, 1, 1)


class ImageCreateTest(base.RepositoryTestCase):

    def test_create_returns_queued_image_with_defaults(self):
        image = self.create()

        self.assertEqual(
            {'status': 'queued', 'visibility': 'shared', 'protected': False,
             'os_hidden': False, 'min_disk': 0, 'min_ram': 0, 'tags': [],
             'properties': {}, 'locations': [], 'size': None,
             'checksum': None, 'deleted': False},
            {k: image[k] for k in ('status', 'visibility', 'protected',
                                   'os_hidden', 'min_disk', 'min_ram',
                                   'tags', 'properties', 'locations', 'size',
                                   'checksum', 'deleted')})

    def test_create_generates_uuid(self):
        self.assertTrue(uuidutils.is_uuid_like(self.create()['id']))

    def test_create_keeps_given_id(self):
        image_id = uuidutils.generate_uuid()

        self.assertEqual(image_id, self.create(id=image_id)['id'])

    def test_create_stores_properties_and_tags(self):
        image = self.create(properties={'a': '1'}, tags=['y', 'x'])

        fetched = db_images.image_get(self.ctx, image['id'])
        self.assertEqual({'a': '1'}, fetched['properties'])
        self.assertEqual(['x', 'y'], fetched['tags'])

    def test_create_ignores_status_in_values(self):
        image = self.create(status='active')

        self.assertEqual('queued', image['status'])

    def test_create_existing_id_raises_duplicate(self):
        image_id = self.create()['id']

        self.assertRaises(exception.Duplicate, self.create, id=image_id)

    def test_create_id_of_deleted_image_raises_duplicate(self):
        image_id = self.create()['id']
        db_images.image_destroy(self.ctx, image_id)

        self.assertRaises(exception.Duplicate, self.create, id=image_id)

    def test_create_sets_timestamps_from_clock(self):
        self.useFixture(pyfixtures.MockPatch('oslo_utils.timeutils.utcnow',
                                             return_value=T0))

        image = self.create()

        self.assertEqual('2024-01-01T12:00:00Z', image['created_at'])
        self.assertEqual('2024-01-01T12:00:00Z', image['updated_at'])


class ImageGetTest(base.RepositoryTestCase):

    def test_get_returns_image(self):
        image = self.create(name='x')

        self.assertEqual(image, db_images.image_get(self.ctx, image['id']))

    def test_get_not_uuid_raises_not_found(self):
        self.assertRaises(exception.ImageNotFound, db_images.image_get,
                          self.ctx, 'nope')

    def test_get_unknown_raises_not_found(self):
        self.assertRaises(exception.ImageNotFound, db_images.image_get,
                          self.ctx, uuidutils.generate_uuid())

    def test_get_deleted_raises_not_found_even_for_admin(self):
        image_id = self.create()['id']
        db_images.image_destroy(self.ctx, image_id)

        self.assertRaises(exception.ImageNotFound, db_images.image_get,
                          self.admin, image_id)

    def test_get_other_projects_private_image_raises_not_found(self):
        image_id = self.create(visibility='private')['id']

        self.assertRaises(exception.ImageNotFound, db_images.image_get,
                          _ctx(PROJECT_B), image_id)

    def test_get_other_projects_shared_image_raises_not_found(self):
        image_id = self.create()['id']

        self.assertRaises(exception.ImageNotFound, db_images.image_get,
                          _ctx(PROJECT_B), image_id)

    def test_get_other_projects_public_image_returns_it(self):
        image_id = self.create(visibility='public')['id']

        self.assertEqual(image_id,
                         db_images.image_get(_ctx(PROJECT_B), image_id)['id'])

    def test_get_other_projects_community_image_returns_it(self):
        image_id = self.create(visibility='community')['id']

        self.assertEqual(image_id,
                         db_images.image_get(_ctx(PROJECT_B), image_id)['id'])

    def test_get_image_without_owner_is_visible_to_all(self):
        # Glance's is_image_visible: no owner, visible.
        image_id = self.create(ctx=self.admin, owner=None,
                               visibility='private')['id']

        self.assertEqual(image_id,
                         db_images.image_get(_ctx(PROJECT_B), image_id)['id'])

    def test_get_admin_sees_other_projects_private_image(self):
        image_id = self.create(visibility='private')['id']

        self.assertEqual(image_id,
                         db_images.image_get(_ctx(PROJECT_B, admin=True),
                                             image_id)['id'])


class ImageGetAllTest(base.RepositoryTestCase):

    def test_repeated_first_page_reuses_its_statement_per_caller(self):
        self.useFixture(pyfixtures.MockPatch(
            'imageapi.db.images._LIST_STATEMENTS', db_query.StatementCache(8)))
        ctx_b = _ctx(project=PROJECT_B)
        mine = self.create(visibility='private')['id']
        theirs = self.create(ctx_b, visibility='private')['id']
        filters = {'status': ('eq', 'queued')}

        for _ in range(2):
            self.assertEqual([mine], [i['id'] for i in db_images.image_get_all(
                self.ctx, filters=dict(filters), limit=5)])
            self.assertEqual([theirs], [
                i['id'] for i in db_images.image_get_all(
                    ctx_b, filters=dict(filters), limit=5)])
        self.assertEqual([], db_images.image_get_all(
            self.ctx, filters={'status': ('eq', 'active')}, limit=5))
        # Three shapes: two callers, one other filter value.
        self.assertEqual(3, len(db_images._LIST_STATEMENTS._items))

    def test_page_after_a_marker_is_a_range_scan_after_analyze(self):
        # SQLite plans "created_at < :v OR (created_at = :v AND id < :id)"
        # alone as a MULTI-INDEX OR plus a sort of every older image.
        stmts = []
        engine = db_api.get_engine()

        def record(conn, cursor, sql, params, context, executemany):
            stmts.append((sql, params))
        sa.event.listen(engine, 'before_cursor_execute', record)
        self.addCleanup(sa.event.remove, engine, 'before_cursor_execute',
                        record)
        ids = [self.create(visibility='public')['id'] for _ in range(60)]
        with engine.begin() as conn:
            conn.exec_driver_sql('ANALYZE')
        stmts.clear()

        page = db_images.image_get_all(self.admin, marker=ids[30], limit=5)

        self.assertEqual(5, len(page))
        sql, params = [s for s in stmts if 'LIMIT' in s[0]][-1]
        with engine.connect() as conn:
            plan = ' '.join(row[-1] for row in conn.exec_driver_sql(
                'EXPLAIN QUERY PLAN ' + sql, params))
        self.assertNotIn('MULTI-INDEX OR', plan)
        self.assertIn('created_at<', plan.replace(' ', ''))

    def test_statement_cache_keeps_the_most_recently_used(self):
        cache = db_query.StatementCache(2)
        cache.put('a', 1)
        cache.put('b', 2)
        cache.get('a')
        cache.put('c', 3)

        self.assertEqual((1, None, 3),
                         (cache.get('a'), cache.get('b'), cache.get('c')))

    def test_get_all_leaves_out_deleted_images(self):
        kept = self.create()['id']
        db_images.image_destroy(self.ctx, self.create()['id'])

        self.assertEqual([kept], [i['id'] for i in
                                  db_images.image_get_all(self.admin)])

    def test_get_all_unknown_marker_raises_marker_not_found(self):
        self.assertRaises(exception.MarkerNotFound, db_images.image_get_all,
                          self.ctx, marker=uuidutils.generate_uuid())

    def test_get_all_deleted_marker_raises_marker_not_found(self):
        image_id = self.create()['id']
        db_images.image_destroy(self.ctx, image_id)

        self.assertRaises(exception.MarkerNotFound, db_images.image_get_all,
                          self.ctx, marker=image_id)

    def test_get_all_single_sort_dir_applies_to_every_key(self):
        ids = []
        for seconds, name in enumerate(('b', 'a', 'b')):
            self.useFixture(pyfixtures.MockPatch(
                'oslo_utils.timeutils.utcnow',
                return_value=T0 + datetime.timedelta(seconds=seconds)))
            ids.append(self.create(name=name)['id'])

        images = db_images.image_get_all(self.ctx, sort_keys=['name'],
                                         sort_dirs=['asc'])

        self.assertEqual([ids[1], ids[0], ids[2]], [i['id'] for i in images])

    def test_get_all_without_project_leaves_out_community_images(self):
        # Glance: no visibility filter and no owner, no community images,
        # not even ownerless ones.
        no_project = _ctx(project=None, admin=True)
        kept = self.create(ctx=no_project, owner=None)['id']
        self.create(ctx=no_project, owner=None, visibility='community')

        self.assertEqual([kept], [i['id'] for i in
                                  db_images.image_get_all(no_project)])

    def test_get_all_with_visibility_filter_keeps_ownerless_community(self):
        no_project = _ctx(project=None, admin=True)
        image_id = self.create(ctx=no_project, owner=None,
                               visibility='community')['id']

        images = db_images.image_get_all(
            no_project, filters={'visibility': ('eq', 'community')})

        self.assertEqual([image_id], [i['id'] for i in images])

    def test_get_all_leaves_out_others_ownerless_private_image(self):
        # Readable by anyone (image_get), but Glance lists ownerless
        # images only when public or community.
        self.create(ctx=self.admin, owner=None, visibility='private')
        public_id = self.create(ctx=self.admin, owner=None,
                                visibility='public')['id']

        for filters in ({}, {'visibility': ('eq', 'all')}):
            images = db_images.image_get_all(_ctx(PROJECT_B), filters=filters)
            self.assertEqual([public_id], [i['id'] for i in images], filters)

    def test_get_all_non_admin_without_project_lists_only_public(self):
        own_id = self.create(ctx=self.admin, owner=None)['id']
        public_id = self.create(ctx=self.admin, owner=None,
                                visibility='public')['id']

        images = db_images.image_get_all(_ctx(project=None))

        self.assertEqual([public_id], [i['id'] for i in images])
        self.assertNotIn(own_id, [i['id'] for i in images])

    def test_get_all_unknown_sort_key_raises_invalid_sort_key(self):
        self.assertRaises(exception.InvalidSortKey, db_images.image_get_all,
                          self.ctx, sort_keys=['no_such_column'])

    def test_get_all_limit_returns_at_most_limit(self):
        for _ in range(3):
            self.create()

        self.assertEqual(2, len(db_images.image_get_all(self.ctx, limit=2)))


class ImageUpdateTest(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create(name='x', properties={'a': '1', 'b': '2'},
                                    tags=['t'])['id']

    def test_update_sets_core_fields(self):
        image = db_images.image_update(self.ctx, self.image_id,
                                       {'name': 'y', 'min_ram': 5})

        self.assertEqual(('y', 5), (image['name'], image['min_ram']))

    def test_update_ignores_non_core_fields(self):
        image = db_images.image_update(self.ctx, self.image_id,
                                       {'status': 'active', 'size': 5})

        self.assertEqual(('queued', None), (image['status'], image['size']))

    def test_update_changes_only_named_properties(self):
        image = db_images.image_update(self.ctx, self.image_id, {},
                                       properties={'a': '9', 'c': '3'})

        self.assertEqual({'a': '9', 'b': '2', 'c': '3'}, image['properties'])

    def test_update_removes_named_properties(self):
        image = db_images.image_update(self.ctx, self.image_id, {},
                                       removed={'a'})

        self.assertEqual({'b': '2'}, image['properties'])

    def test_update_replaces_tags(self):
        image = db_images.image_update(self.ctx, self.image_id, {},
                                       tags=['u', 'v'])

        self.assertEqual(['u', 'v'], image['tags'])

    def test_update_without_tags_keeps_them(self):
        image = db_images.image_update(self.ctx, self.image_id, {'name': 'y'})

        self.assertEqual(['t'], image['tags'])

    def test_update_sets_updated_at(self):
        self.useFixture(pyfixtures.MockPatch(
            'oslo_utils.timeutils.utcnow',
            return_value=datetime.datetime(2030, 1, 1)))

        image = db_images.image_update(self.ctx, self.image_id, {'name': 'y'})

        self.assertEqual('2030-01-01T00:00:00Z', image['updated_at'])

    def test_update_unknown_image_raises_not_found(self):
        self.assertRaises(exception.ImageNotFound, db_images.image_update,
                          self.ctx, uuidutils.generate_uuid(), {'name': 'y'})

    def test_update_invisible_image_raises_not_found(self):
        self.assertRaises(exception.ImageNotFound, db_images.image_update,
                          _ctx(PROJECT_B), self.image_id, {'name': 'y'})

    def test_update_invisible_image_changes_nothing(self):
        self.assertRaises(exception.ImageNotFound, db_images.image_update,
                          _ctx(PROJECT_B), self.image_id, {'name': 'y'},
                          properties={'a': '9'}, removed={'b'}, tags=[])

        image = db_images.image_get(self.ctx, self.image_id)
        self.assertEqual(('x', {'a': '1', 'b': '2'}, ['t']),
                         (image['name'], image['properties'], image['tags']))

    def test_update_deleted_image_raises_not_found(self):
        db_images.image_destroy(self.ctx, self.image_id)

        self.assertRaises(exception.ImageNotFound, db_images.image_update,
                          self.admin, self.image_id, {'name': 'y'})

    def test_update_of_other_properties_from_one_read_both_land(self):
        # Two PATCHes built from the same read of the image, one after
        # the other: the second names only its own keys.
        db_images.image_update(self.ctx, self.image_id, {},
                               properties={'a': '9'})
        image = db_images.image_update(self.ctx, self.image_id, {},
                                       properties={'c': '3'}, removed={'b'})

        self.assertEqual({'a': '9', 'c': '3'}, image['properties'])

    def test_update_property_set_and_removed_ends_removed(self):
        image = db_images.image_update(self.ctx, self.image_id, {},
                                       properties={'a': '9', 'c': '3'},
                                       removed={'a', 'c'})

        self.assertEqual({'b': '2'}, image['properties'])

    def test_update_replaces_tags_keeping_the_common_ones(self):
        image = db_images.image_update(self.ctx, self.image_id, {},
                                       tags=['v', 't', 'v'])

        self.assertEqual(['t', 'v'], image['tags'])

    def test_update_empty_tag_list_removes_all_tags(self):
        image = db_images.image_update(self.ctx, self.image_id, {}, tags=[])

        self.assertEqual([], image['tags'])


class ImageTagTest(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create(tags=['t'])['id']

    def test_tag_add_adds_tag(self):
        db_images.image_tag_add(self.ctx, self.image_id, 'u')

        self.assertEqual(['t', 'u'],
                         db_images.image_get(self.ctx, self.image_id)['tags'])

    def test_tag_add_existing_is_idempotent(self):
        self.assertEqual(1, db_images.image_tag_add(self.ctx, self.image_id,
                                                    't'))

    def test_tag_add_returns_tag_count(self):
        self.assertEqual(2, db_images.image_tag_add(self.ctx, self.image_id,
                                                    'u'))

    def test_tag_add_sets_updated_at(self):
        self.useFixture(pyfixtures.MockPatch(
            'oslo_utils.timeutils.utcnow',
            return_value=datetime.datetime(2030, 1, 1)))

        db_images.image_tag_add(self.ctx, self.image_id, 'u')

        self.assertEqual(datetime.datetime(2030, 1, 1),
                         self.row(self.image_id).updated_at)

    def test_tag_add_existing_keeps_one_tag_and_updated_at(self):
        before = self.row(self.image_id).updated_at
        self.useFixture(pyfixtures.MockPatch(
            'oslo_utils.timeutils.utcnow',
            return_value=datetime.datetime(2030, 1, 1)))

        db_images.image_tag_add(self.ctx, self.image_id, 't')

        self.assertEqual(['t'],
                         db_images.image_get(self.ctx, self.image_id)['tags'])
        self.assertEqual(before, self.row(self.image_id).updated_at)

    def test_tag_add_invisible_image_raises_not_found(self):
        self.assertRaises(exception.ImageNotFound, db_images.image_tag_add,
                          _ctx(PROJECT_B), self.image_id, 'u')

    def test_tag_delete_removes_tag(self):
        db_images.image_tag_delete(self.ctx, self.image_id, 't')

        self.assertEqual([], db_images.image_get(self.ctx, self.image_id)['tags'])

    def test_tag_delete_missing_raises_tag_not_found(self):
        self.assertRaises(exception.TagNotFound, db_images.image_tag_delete,
                          self.ctx, self.image_id, 'absent')

    def test_tag_delete_invisible_image_raises_not_found(self):
        self.assertRaises(exception.ImageNotFound, db_images.image_tag_delete,
                          _ctx(PROJECT_B), self.image_id, 't')
        self.assertEqual(['t'],
                         db_images.image_get(self.ctx, self.image_id)['tags'])


class ImageTransitionTest(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create()['id']

    def transition(self, from_status, to_status, **kwargs):
        return db_images.image_transition(self.ctx, self.image_id, from_status,
                                          to_status, **kwargs)

    def test_transition_changes_status(self):
        image = self.transition(db_api.QUEUED, db_api.SAVING)

        self.assertEqual('saving', image['status'])
        self.assertEqual('saving', self.row(self.image_id).status)

    def test_transition_sets_values_in_same_update(self):
        image = self.transition(db_api.QUEUED, db_api.ACTIVE,
                                values={'size': 3, 'checksum': 'c' * 32})

        self.assertEqual((3, 'c' * 32), (image['size'], image['checksum']))

    def test_transition_adds_location(self):
        image = self.transition(db_api.QUEUED, db_api.ACTIVE, values={
            'location': {'url': 'file:///x', 'metadata': {'k': 'v'}}})

        self.assertEqual([{'url': 'file:///x', 'metadata': {'k': 'v'},
                           'status': 'active'}], image['locations'])

    def test_transition_sets_updated_at(self):
        self.useFixture(pyfixtures.MockPatch(
            'oslo_utils.timeutils.utcnow',
            return_value=datetime.datetime(2030, 1, 1)))

        image = self.transition(db_api.QUEUED, db_api.SAVING)

        self.assertEqual('2030-01-01T00:00:00Z', image['updated_at'])

    def test_transition_from_wrong_status_raises_naming_current(self):
        self.transition(db_api.QUEUED, db_api.SAVING)

        exc = self.assertRaises(exception.InvalidStatusTransition,
                                self.transition, db_api.QUEUED,
                                db_api.SAVING)

        self.assertEqual('Image status transition from saving to saving is '
                         'not allowed', exc.msg)

    def test_transition_from_wrong_status_changes_nothing(self):
        self.transition(db_api.QUEUED, db_api.ACTIVE)

        self.assertRaises(exception.InvalidStatusTransition, self.transition,
                          db_api.QUEUED, db_api.SAVING, values={'size': 9})

        row = self.row(self.image_id)
        self.assertEqual(('active', None), (row.status, row.size))

    def test_transition_second_claim_of_same_image_loses(self):
        # Two uploads that both read "queued": only one CAS wins.
        self.transition(db_api.QUEUED, db_api.SAVING,
                        values={'upload_claim': 'first'})

        self.assertRaises(exception.InvalidStatusTransition, self.transition,
                          db_api.QUEUED, db_api.SAVING,
                          values={'upload_claim': 'second'})
        self.assertEqual('first', self.row(self.image_id).upload_claim)

    def test_transition_with_matching_claim_succeeds(self):
        self.transition(db_api.QUEUED, db_api.SAVING,
                        values={'upload_claim': 'mine'})

        image = self.transition(db_api.SAVING, db_api.ACTIVE, claim='mine')

        self.assertEqual('active', image['status'])

    def test_transition_with_other_claim_raises_and_keeps_status(self):
        self.transition(db_api.QUEUED, db_api.SAVING,
                        values={'upload_claim': 'theirs'})

        exc = self.assertRaises(exception.InvalidStatusTransition,
                                self.transition, db_api.SAVING,
                                db_api.ACTIVE, claim='mine')

        self.assertIn('from saving', exc.msg)
        self.assertEqual('saving', self.row(self.image_id).status)

    def test_transition_not_in_allowed_table_raises_before_update(self):
        # An UPDATE would match: the image is queued.
        exc = self.assertRaises(exception.InvalidStatusTransition,
                                self.transition, db_api.QUEUED,
                                db_api.KILLED)

        self.assertEqual('Image status transition from queued to killed '
                         'is not allowed', exc.msg)
        self.assertEqual('queued', self.row(self.image_id).status)

    def test_transition_table_refuses_every_pair_not_listed(self):
        # Every status the API knows of, Glance's import and deactivation
        # statuses too.
        statuses = schemas.STATUSES
        refused = [(a, b) for a in statuses for b in statuses
                   if (a, b) not in db_api.ALLOWED_TRANSITIONS]
        for from_status, to_status in refused:
            self.assertRaises(exception.InvalidStatusTransition,
                              db_images.image_transition, self.admin,
                              self.image_id, from_status, to_status)
        self.assertEqual('queued', self.row(self.image_id).status)

    def test_transition_every_allowed_pair_but_deleted_succeeds(self):
        pairs = [p for p in db_api.ALLOWED_TRANSITIONS if p[1] != 'deleted']
        for from_status, to_status in sorted(pairs):
            image_id = self.create()['id']
            self.set_status(image_id, from_status)

            db_images.image_transition(self.admin, image_id, from_status,
                                       to_status)

            self.assertEqual(to_status, self.row(image_id).status)

    def test_transition_unknown_image_raises_not_found(self):
        self.assertRaises(exception.ImageNotFound, db_images.image_transition,
                          self.ctx, uuidutils.generate_uuid(), db_api.QUEUED,
                          db_api.SAVING)

    def test_transition_deleted_image_raises_not_found(self):
        db_images.image_destroy(self.ctx, self.image_id)

        self.assertRaises(exception.ImageNotFound, self.transition,
                          db_api.QUEUED, db_api.SAVING)
        self.assertEqual('deleted', self.row(self.image_id).status)

    def test_transition_to_deleted_hides_image(self):
        self.transition(db_api.QUEUED, db_api.DELETED)

        self.assertRaises(exception.ImageNotFound, db_images.image_get,
                          self.admin, self.image_id)
        self.assertTrue(self.row(self.image_id).deleted)

    def test_transition_invisible_image_raises_not_found(self):
        image_id = self.create(ctx=_ctx(PROJECT_B), visibility='private')['id']

        self.assertRaises(exception.ImageNotFound, db_images.image_transition,
                          self.ctx, image_id, db_api.QUEUED, db_api.SAVING)
        self.assertEqual('queued', self.row(image_id).status)


class ImageDestroyTest(base.RepositoryTestCase):

    def test_destroy_returns_image_as_it_was(self):
        image_id = self.create(name='x')['id']
        db_images.image_transition(self.ctx, image_id, db_api.QUEUED,
                                   db_api.ACTIVE, values={
                                       'location': {'url': 'file:///x'}})

        before = db_images.image_destroy(self.ctx, image_id)

        self.assertEqual(('active', ['file:///x']),
                         (before['status'],
                          [loc['url'] for loc in before['locations']]))

    def test_destroy_soft_deletes_row(self):
        image_id = self.create()['id']

        db_images.image_destroy(self.ctx, image_id)

        row = self.row(image_id)
        self.assertEqual(('deleted', True), (row.status, row.deleted))
        self.assertIsNotNone(row.deleted_at)

    def test_destroy_makes_image_invisible(self):
        image_id = self.create()['id']

        db_images.image_destroy(self.ctx, image_id)

        self.assertRaises(exception.ImageNotFound, db_images.image_get,
                          self.admin, image_id)

    def test_destroy_marks_locations_deleted(self):
        image_id = self.create()['id']
        db_images.image_transition(self.ctx, image_id, db_api.QUEUED,
                                   db_api.ACTIVE, values={
                                       'location': {'url': 'file:///x'}})

        db_images.image_destroy(self.ctx, image_id)

        table = models.ImageLocation.__table__
        with db_api.get_engine().connect() as conn:
            statuses = conn.execute(sa.select(table.c.status).where(
                table.c.image_id == image_id)).scalars().all()
        self.assertEqual(['deleted'], statuses)

    def test_destroy_protected_image_raises_and_keeps_it(self):
        image_id = self.create(protected=True)['id']

        self.assertRaises(exception.ProtectedImageDelete,
                          db_images.image_destroy, self.ctx, image_id)
        self.assertFalse(self.row(image_id).deleted)

    def test_destroy_twice_raises_not_found(self):
        image_id = self.create()['id']
        db_images.image_destroy(self.ctx, image_id)

        self.assertRaises(exception.ImageNotFound, db_images.image_destroy,
                          self.ctx, image_id)

    def test_destroy_saving_image_clears_claim(self):
        image_id = self.create()['id']
        db_images.image_transition(self.ctx, image_id, db_api.QUEUED,
                                   db_api.SAVING, values={'upload_claim': 'c'})

        db_images.image_destroy(self.ctx, image_id)

        self.assertIsNone(self.row(image_id).upload_claim)

    def test_destroy_killed_image_deletes_it(self):
        image_id = self.create()['id']
        self.set_status(image_id, db_api.KILLED)

        self.assertEqual('killed',
                         db_images.image_destroy(self.ctx, image_id)['status'])
        self.assertTrue(self.row(image_id).deleted)

    def test_destroy_invisible_image_raises_not_found_and_keeps_it(self):
        image_id = self.create(visibility='private')['id']

        self.assertRaises(exception.ImageNotFound, db_images.image_destroy,
                          _ctx(PROJECT_B), image_id)
        self.assertFalse(self.row(image_id).deleted)


class ConcurrentChanges:
    """Two writers on one image, the second while the first is in its block.

    The second waits for the first's row locks, so MySQL and PostgreSQL only.
    """

    def setUp(self):
        super().setUp()
        self.image_id = self.create(properties={'a': '1'}, tags=['t'])['id']

    def race(self, first, second):
        """Run ``first`` in a writer block, and ``second`` meanwhile.

        Each is ``(fn, *args)``, called as ``fn(context, image_id, *args)``.

        :returns: what ``second`` returns, or raises what it raises.
        """
        with db_api.main_context_manager.writer.using(self.ctx):
            first[0](self.ctx, self.image_id, *first[1:])
            thread, outcome = self.start_thread(
                second[0], _ctx(), self.image_id, *second[1:])
            self.wait_for_lock_wait()
        thread.join(30)
        self.assertFalse(thread.is_alive())
        if 'error' in outcome:
            raise outcome['error']
        return outcome['result']

    def image(self):
        return db_images.image_get(self.ctx, self.image_id)

    def test_update_of_other_property_meanwhile_both_land(self):
        self.race((db_images.image_update, {}, {'a': '2'}),
                  (db_images.image_update, {}, {'b': '3'}))

        self.assertEqual({'a': '2', 'b': '3'}, self.image()['properties'])

    def test_update_of_same_new_property_meanwhile_last_wins(self):
        # The second writer reads the properties only once it has the
        # images row, so it updates the new row instead of inserting a
        # duplicate.
        self.race((db_images.image_update, {}, {'b': '2'}),
                  (db_images.image_update, {}, {'b': '3'}))

        self.assertEqual({'a': '1', 'b': '3'}, self.image()['properties'])

    def test_tag_add_of_same_tag_meanwhile_both_succeed(self):
        count = self.race((db_images.image_tag_add, 'u'),
                          (db_images.image_tag_add, 'u'))

        self.assertEqual((2, ['t', 'u']), (count, self.image()['tags']))

    def test_claim_meanwhile_loses_naming_current_status(self):
        claim = (db_images.image_transition, db_api.QUEUED, db_api.SAVING)

        exc = self.assertRaises(exception.InvalidStatusTransition,
                                self.race, claim, claim)

        self.assertIn('from saving', exc.msg)

    def test_destroy_while_status_changes_deletes_the_new_status(self):
        # The delete waits for the claim's row lock, then reads `saving`
        # and deletes that: a delete during an upload wins (issue 19: it
        # answered 409 "changed while being deleted").
        before = self.race((db_images.image_transition, db_api.QUEUED,
                            db_api.SAVING),
                           (db_images.image_destroy,))

        self.assertEqual('saving', before['status'])
        row = self.row(self.image_id)
        self.assertEqual(('deleted', True), (row.status, row.deleted))

    # ---------------------------------------------- usage and quotas
    def used(self):
        return db_uploads.storage_used(self.ctx, self.ctx.project_id)

    def test_destroy_while_upload_reserves_leaves_usage_exact(self):
        # issue 19: the delete subtracted the reservation it had read before
        # the upload's reserve committed; the counter kept the difference.
        db_uploads.upload_claim(self.ctx, self.image_id, 'c-1', _LEASE)

        self.race((db_uploads.upload_reserve, 'c-1', 10240, None),
                  (db_images.image_destroy,))

        self.assertEqual(0, self.used())

    def test_owner_change_while_upload_reserves_moves_it_all(self):
        db_uploads.upload_claim(self.ctx, self.image_id, 'c-1', _LEASE)
        admin = _ctx(admin=True)

        self.race((db_uploads.upload_reserve, 'c-1', 700, None),
                  (lambda ctx, image_id: db_images.image_update(
                      admin, image_id, {'owner': PROJECT_B}),))

        self.assertEqual(0, self.used())
        self.assertEqual(700, db_uploads.storage_used(admin, PROJECT_B))

    def test_tag_adds_meanwhile_never_pass_quota(self):
        # issue 19: the count was read before the other add committed.
        exc = self.assertRaises(
            exception.LimitExceeded, self.race,
            (db_images.image_tag_add, 'u', 2),
            (db_images.image_tag_add, 'v', 2))

        self.assertIn('Attempted: 3, Maximum: 2', exc.msg)
        self.assertEqual(['t', 'u'], self.image()['tags'])

    def test_property_adds_meanwhile_never_pass_quota(self):
        self.assertRaises(
            exception.LimitExceeded, self.race,
            (db_images.image_update, {}, {'b': '2'}, (), None, 2),
            (db_images.image_update, {}, {'c': '3'}, (), None, 2))

        self.assertEqual({'a': '1', 'b': '2'}, self.image()['properties'])

    def test_member_adds_meanwhile_never_pass_quota(self):
        self.assertRaises(
            exception.LimitExceeded, self.race,
            (db_members.image_member_create, 'm1', 1),
            (db_members.image_member_create, 'm2', 1))

        self.assertEqual(['m1'], [m['member_id'] for m in
                                  db_members.image_member_find(
                                      self.ctx, self.image_id)])


class ConcurrentChangesMySQLTest(base.MySQLMixin, ConcurrentChanges,
                                 base.RepositoryTestCase):
    pass


class ConcurrentChangesPostgreSQLTest(base.PostgreSQLMixin, ConcurrentChanges,
                                      base.RepositoryTestCase):
    pass


class ImageUpdateMySQLTest(base.MySQLMixin, ImageUpdateTest):
    pass


class ImageUpdatePostgreSQLTest(base.PostgreSQLMixin, ImageUpdateTest):
    pass


class ImageTagMySQLTest(base.MySQLMixin, ImageTagTest):
    pass


class ImageTagPostgreSQLTest(base.PostgreSQLMixin, ImageTagTest):
    pass


class ImageTransitionMySQLTest(base.MySQLMixin, ImageTransitionTest):
    pass


class ImageTransitionPostgreSQLTest(base.PostgreSQLMixin,
                                    ImageTransitionTest):
    pass


class ImageDestroyMySQLTest(base.MySQLMixin, ImageDestroyTest):
    pass


class ImageDestroyPostgreSQLTest(base.PostgreSQLMixin, ImageDestroyTest):
    pass
