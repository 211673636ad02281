"""Tests of db/tasks.py and db/imports.py: tasks, the import lock, stage and import ends.

In-memory SQLite, and MySQL and PostgreSQL too.
"""

import datetime

from oslo_utils import timeutils

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import imports as db_imports
from imageapi.db import tasks as db_tasks
from imageapi.db import uploads as db_uploads
from imageapi.tests.unit.db import base

LEASE = datetime.datetime(2099, 1, 1)
STORED = {'size': 10, 'virtual_size': None, 'checksum': 'c' * 32,
          'os_hash_algo': 'sha512', 'os_hash_value': 'h' * 128}


class TaskTest(base.RepositoryTestCase):

    def task(self, ctx=None, **values):
        ctx = ctx or self.ctx
        values.setdefault('type', 'import')
        values.setdefault('owner', ctx.project_id)
        values.setdefault('input', {'a': 1})
        return db_tasks.task_create(ctx, values)

    def test_create_is_pending_with_input(self):
        task = self.task()
        self.assertEqual(('pending', {'a': 1}, None),
                         (task['status'], task['input'], task['result']))

    def test_get_other_projects_task_not_found(self):
        task = self.task(ctx=base.make_context(base.PROJECT_B))
        self.assertRaises(exception.TaskNotFound, db_tasks.task_get,
                          self.ctx, task['id'])
        self.assertEqual(task['id'],
                         db_tasks.task_get(self.admin, task['id'])['id'])

    def test_transition_is_compare_and_swap(self):
        task = self.task()
        db_tasks.task_transition(self.ctx, task['id'], 'pending',
                                 'processing')
        exc = self.assertRaises(exception.InvalidTaskStatusTransition,
                                db_tasks.task_transition, self.ctx,
                                task['id'], 'pending', 'processing')
        self.assertIn('processing', str(exc))

    def test_finish_sets_result_and_expiry(self):
        task = self.task(status='processing')
        done = db_tasks.task_transition(
            self.ctx, task['id'], 'processing', 'success',
            values={'result': {'image_id': 'x'}}, ttl_hours=48)
        self.assertEqual({'image_id': 'x'}, done['result'])
        self.assertIsNotNone(done['expires_at'])

    def test_disallowed_transition_refused(self):
        task = self.task()
        self.assertRaises(exception.InvalidTaskStatusTransition,
                          db_tasks.task_transition, self.ctx, task['id'],
                          'pending', 'success')

    def test_list_filters_pages_and_sorts(self):
        ids = [self.task()['id'] for _ in range(5)]
        db_tasks.task_transition(self.ctx, ids[0], 'pending', 'processing')
        page = db_tasks.task_get_all(self.ctx, limit=2, sort_key='id',
                                     sort_dir='asc')
        rest = db_tasks.task_get_all(self.ctx, marker=page[-1]['id'],
                                     sort_key='id', sort_dir='asc')
        self.assertEqual(sorted(ids), [t['id'] for t in page + rest])
        self.assertEqual([ids[0]], [t['id'] for t in db_tasks.task_get_all(
            self.ctx, filters={'status': 'processing'})])

    def test_list_unknown_marker_or_sort_key_raises(self):
        self.assertRaises(exception.MarkerNotFound, db_tasks.task_get_all,
                          self.ctx, marker='0' * 8 + '-0000-0000-0000-' +
                          '0' * 12)
        self.assertRaises(exception.InvalidSortKey, db_tasks.task_get_all,
                          self.ctx, sort_key='input')

    def test_purge_removes_only_expired_finished_tasks(self):
        old = self.task(status='processing')
        db_tasks.task_transition(self.ctx, old['id'], 'processing',
                                 'failure', ttl_hours=0)
        live = self.task()
        later = timeutils.utcnow() + datetime.timedelta(seconds=5)
        self.assertEqual(1, db_tasks.task_purge_expired(self.admin, later))
        self.assertRaises(exception.TaskNotFound, db_tasks.task_get,
                          self.admin, old['id'])
        db_tasks.task_get(self.admin, live['id'])

    def test_lease_expired_lists_unfinished_past_lease(self):
        past = datetime.datetime(2000, 1, 1)
        expired = self.task(status='processing', lease_expires_at=past)
        self.task(status='processing', lease_expires_at=LEASE)
        found = db_tasks.task_lease_expired(self.admin, timeutils.utcnow())
        self.assertEqual([expired['id']], [t['id'] for t in found])
        self.assertEqual(1, db_tasks.task_renew(self.admin, [expired['id']],
                                                LEASE))
        self.assertEqual([], db_tasks.task_lease_expired(
            self.admin, timeutils.utcnow()))


class ImportTest(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create()['id']

    def used(self):
        return db_uploads.storage_used(self.ctx, self.ctx.project_id)

    def stage(self, size=10):
        db_uploads.upload_claim(self.ctx, self.image_id, 's-1', LEASE,
                                status=db_api.UPLOADING)
        db_uploads.upload_reserve(self.ctx, self.image_id, 's-1', 64, None,
                                  status=db_api.UPLOADING)
        return db_imports.stage_finish(self.ctx, self.image_id, 's-1', size)

    def start(self, from_status=db_api.UPLOADING, stores=(None,)):
        return db_imports.import_start(
            self.ctx, self.image_id, from_status,
            {'type': 'api_image_import', 'owner': self.ctx.project_id,
             'image_id': self.image_id,
             'input': {'backend': list(stores)}}, list(stores), LEASE)

    def test_stage_finish_keeps_only_staged_bytes_reserved(self):
        image = self.stage(10)
        self.assertEqual(('uploading', None), (image['status'],
                                               image['upload_claim']))
        self.assertEqual(10, self.used())
        self.assertEqual(10, db_imports.staged_bytes(self.ctx,
                                                     self.ctx.project_id))

    def test_start_locks_and_marks_importing(self):
        self.stage()
        task, image = self.start()
        self.assertEqual('importing', image['status'])
        self.assertEqual(task['id'],
                         image['properties'][db_imports.LOCK_KEY])
        self.assertEqual('processing', task['status'])

    def test_second_start_conflicts_and_changes_nothing(self):
        self.stage()
        task, _image = self.start()
        self.assertRaises(exception.ImageAPIException, self.start)
        image = self.row(self.image_id)
        self.assertEqual('importing', image.status)
        self.assertEqual(1, len(db_tasks.task_get_by_image(self.admin,
                                                           self.image_id)))

    def test_finish_activates_unlocks_and_charges_size(self):
        self.stage(10)
        task, _image = self.start()
        image = db_imports.import_finish(
            self.ctx, self.image_id, task['id'], dict(STORED, size=12),
            [{'url': 'file:///a', 'metadata': {}}], [None], [], 48)
        self.assertEqual(('active', 12), (image['status'], image['size']))
        self.assertNotIn(db_imports.LOCK_KEY, image['properties'])
        self.assertEqual(12, self.used())
        self.assertEqual('success', db_tasks.task_get(
            self.ctx, task['id'])['status'])

    def test_finish_of_deleted_image_raises_not_found(self):
        self.stage()
        task, _image = self.start()
        db_images.image_destroy(self.ctx, self.image_id)
        self.assertRaises(exception.ImageNotFound, db_imports.import_finish,
                          self.ctx, self.image_id, task['id'], STORED, [],
                          [None], [], 48)
        self.assertEqual(0, self.used())

    def test_fail_returns_image_to_queued_and_releases(self):
        self.stage(10)
        task, _image = self.start()
        db_imports.import_fail(self.admin, task['id'], 'broken', 48)
        row = self.row(self.image_id)
        self.assertEqual(('queued', None, 0),
                         (row.status, row.upload_claim, row.upload_reserved))
        self.assertEqual(0, self.used())
        failed = db_tasks.task_get(self.ctx, task['id'])
        self.assertEqual(('failure', 'broken'),
                         (failed['status'], failed['message']))

    def test_fail_by_reaper_loses_to_a_renewal(self):
        self.stage()
        task, _image = self.start()
        seen = datetime.datetime(2000, 1, 1)  # not the current lease
        self.assertIsNone(db_imports.import_fail(
            self.admin, task['id'], 'reaped', 48, lease=seen))
        self.assertEqual('importing', self.row(self.image_id).status)

    def test_fail_of_finished_task_changes_nothing(self):
        self.stage()
        task, _image = self.start()
        db_imports.import_finish(self.ctx, self.image_id, task['id'],
                                 STORED, [], [None], [], 48)
        self.assertIsNone(db_imports.import_fail(self.admin, task['id'],
                                                 'late', 48))
        self.assertEqual('active', self.row(self.image_id).status)

    def test_stale_lock_rules(self):
        now = timeutils.utcnow()
        hour = datetime.timedelta(minutes=61)
        self.assertTrue(db_imports.lock_is_stale({'status': None}, now))
        self.assertTrue(db_imports.lock_is_stale(
            {'status': 'processing', 'raw_updated_at': now - hour}, now))
        self.assertFalse(db_imports.lock_is_stale(
            {'status': 'pending', 'raw_updated_at': now - hour}, now))
        self.assertFalse(db_imports.lock_is_stale(
            {'status': 'processing', 'raw_updated_at': now}, now))

    def test_lock_break_only_removes_the_named_task(self):
        self.stage()
        task, _image = self.start()
        self.assertFalse(db_imports.import_lock_break(self.ctx,
                                                      self.image_id, 'x'))
        self.assertTrue(db_imports.import_lock_break(
            self.ctx, self.image_id, task['id']))
        self.assertIsNone(db_imports.import_lock_holder(self.ctx,
                                                        self.image_id))

    def test_multistore_progress_properties(self):
        task, image = self.start(from_status=db_api.QUEUED,
                                 stores=('a', 'b'))
        self.assertEqual('a,b', image['properties'][db_imports.IMPORTING_KEY])
        image = db_imports.import_finish(
            self.ctx, self.image_id, task['id'], STORED,
            [{'url': 'file:///a', 'metadata': {'store': 'a'}}], ['a'], ['b'],
            48)
        self.assertEqual('', image['properties'][db_imports.IMPORTING_KEY])
        self.assertEqual('b', image['properties'][db_imports.FAILED_KEY])


class TaskMySQLTest(base.MySQLMixin, TaskTest):
    pass


class TaskPostgreSQLTest(base.PostgreSQLMixin, TaskTest):
    pass


class ImportMySQLTest(base.MySQLMixin, ImportTest):
    pass


class ImportPostgreSQLTest(base.PostgreSQLMixin, ImportTest):
    pass
