"""The import engine on a real database and real file stores: success, each failure, the reaper.

The engine runs on its own thread as in the API; ``Engine.wait`` joins it. In-memory
SQLite, and MySQL and PostgreSQL too.
"""

import datetime
import hashlib
import io
import os

from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import imports as db_imports
from imageapi.db import tasks as db_tasks
from imageapi.db import uploads as db_uploads
from imageapi.importing import engine
from imageapi.importing import methods
from imageapi import leases
from imageapi import service
from imageapi.store import filesystem
from imageapi.tests.unit.db import base

DATA = b'0123456789' * 1000


class _BytesSource:
    """A Source over bytes, declaring ``size`` (may differ from the data)."""

    properties = {'from_source': 'yes'}

    def __init__(self, data, size):
        self._data = io.BytesIO(data)
        self.size = size
        self.closed = False

    def read(self, n):
        return self._data.read(n)

    def close(self):
        self.closed = True


class _BytesMethod:
    """An import method of this test: its data comes from the request body."""

    name = 'test-bytes'
    from_staging = False

    def validate(self, conf, context, image, body):
        pass

    def __init__(self):
        self.contexts = []

    def open_source(self, conf, context, image, body):
        self.contexts.append(context)
        return _BytesSource(body['data'], body.get('size', len(body['data'])))


class EngineTest(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.flags(reap_interval=0, group='upload')
        self.svc = service.Service(self.conf)
        self.addCleanup(self.svc.stop)
        self.staging = self.svc.staging
        self.image_id = self.create(disk_format='raw',
                                    container_format='bare')['id']

    def stage(self, data=DATA):
        db_uploads.upload_claim(self.ctx, self.image_id, 's', None,
                                status=db_api.UPLOADING)
        db_uploads.upload_reserve(self.ctx, self.image_id, 's', len(data),
                                  None, status=db_api.UPLOADING)
        self.staging.add(self.image_id, iter([data]), len(data))
        db_imports.stage_finish(self.ctx, self.image_id, 's', len(data))

    def run_import(self, method=methods.GLANCE_DIRECT, targets=None,
                   body=None, quota=None, from_status=db_api.UPLOADING,
                   context=None):
        task, image = db_imports.import_start(
            self.ctx, self.image_id, from_status,
            {'type': 'api_image_import', 'owner': self.ctx.project_id,
             'image_id': self.image_id, 'input': {'backend': [None]}},
            [None], leases.lease_end(self.conf))
        self.svc.engine.start(task, image, methods.METHODS[method],
                              body or {},
                              targets or [self.svc.stores.default], True,
                              quota, context=context)
        self.svc.engine.wait(30)
        return db_tasks.task_get(self.admin, task['id'])

    def stored_path(self):
        return os.path.join(self.svc.stores.default.driver.datadir,
                            self.image_id)

    def assertImportable(self):
        row = self.row(self.image_id)
        self.assertEqual(('queued', None, 0),
                         (row.status, row.upload_claim, row.upload_reserved))
        self.assertFalse(os.path.exists(engine.staged_path(self.staging,
                                                           self.image_id)))
        self.assertFalse(os.path.exists(self.stored_path()))
        self.assertEqual(0, db_uploads.storage_used(self.ctx,
                                                    self.ctx.project_id))

    def test_glance_direct_activates_with_hashes_of_stored_data(self):
        self.stage()
        task = self.run_import()
        self.assertEqual('success', task['status'])
        row = self.row(self.image_id)
        self.assertEqual(('active', len(DATA), hashlib.md5(DATA).hexdigest(),
                          hashlib.sha512(DATA).hexdigest()),
                         (row.status, row.size, row.checksum,
                          row.os_hash_value))
        with open(self.stored_path(), 'rb') as f:
            self.assertEqual(DATA, f.read())
        self.assertFalse(os.path.exists(engine.staged_path(self.staging,
                                                           self.image_id)))
        self.assertEqual(len(DATA), db_uploads.storage_used(
            self.ctx, self.ctx.project_id))

    def use_bytes_method(self):
        method = methods.register(_BytesMethod())
        self.addCleanup(methods.METHODS.pop, _BytesMethod.name)
        return method

    def test_source_opened_with_the_callers_context(self):
        method = self.use_bytes_method()
        self.run_import('test-bytes', body={'data': DATA},
                        from_status=db_api.QUEUED, context=self.ctx)
        self.assertEqual([self.ctx], method.contexts)

    def test_downloaded_source_activates_with_its_properties(self):
        self.use_bytes_method()
        task = self.run_import('test-bytes', body={'data': DATA},
                               quota=10 * len(DATA),
                               from_status=db_api.QUEUED)
        self.assertEqual('success', task['status'])
        image = db_images.image_get(self.ctx, self.image_id)
        self.assertEqual(('active', len(DATA), 'yes'),
                         (image['status'], image['size'],
                          image['properties']['from_source']))
        self.assertEqual(len(DATA), db_uploads.storage_used(
            self.ctx, self.ctx.project_id))

    def test_source_over_quota_fails_cleanly(self):
        self.use_bytes_method()
        task = self.run_import('test-bytes', body={'data': DATA},
                               quota=len(DATA) - 1,
                               from_status=db_api.QUEUED)
        self.assertEqual('failure', task['status'])
        self.assertImportable()

    def test_source_declared_over_cap_fails_before_reading(self):
        self.flags(image_size_cap=len(DATA) - 1)
        self.use_bytes_method()
        task = self.run_import('test-bytes', body={'data': DATA},
                               from_status=db_api.QUEUED)
        self.assertEqual('failure', task['status'])
        self.assertIn('too large', task['message'])
        self.assertImportable()

    def test_source_longer_than_declared_fails_cleanly(self):
        self.use_bytes_method()
        task = self.run_import('test-bytes',
                               body={'data': DATA, 'size': 10},
                               from_status=db_api.QUEUED)
        self.assertEqual('failure', task['status'])
        self.assertImportable()

    def test_missing_staged_data_fails_task_image_importable(self):
        self.stage()
        os.unlink(engine.staged_path(self.staging, self.image_id))
        task = self.run_import()
        self.assertEqual('failure', task['status'])
        self.assertIn('staged data', task['message'])
        self.assertImportable()

    def test_configured_plugin_missing_fails_cleanly(self):
        self.flags(image_import_plugins=['no_such_plugin'],
                   group='image_import_opts')
        self.stage()
        task = self.run_import()
        self.assertEqual('failure', task['status'])
        self.assertIn('no_such_plugin', task['message'])
        self.assertImportable()

    def test_store_failure_fails_cleanly(self):
        self.stage()
        # A store whose directory cannot be created: a file is in the way.
        blocked = os.path.join(self.state_path, 'blocked')
        with open(blocked, 'w'):
            pass
        self.flags(datadir=os.path.join(blocked, 'images'),
                   group='filesystem_store')
        broken = filesystem.FilesystemDriver(self.conf)
        store = self.svc.stores.default.__class__(None, 'file', broken)
        task = self.run_import(targets=[store])
        self.assertEqual('failure', task['status'])
        self.assertIn('store', task['message'])
        self.assertImportable()

    def test_reaper_fails_import_whose_lease_ran_out(self):
        self.stage()
        task, _image = db_imports.import_start(
            self.ctx, self.image_id, db_api.UPLOADING,
            {'type': 'api_image_import', 'owner': self.ctx.project_id,
             'image_id': self.image_id, 'input': {'backend': [None]}},
            [None], datetime.datetime(2000, 1, 1))
        reaped = engine.reap_expired(self.conf, self.svc.stores,
                                     self.staging)
        self.assertEqual([task['id']], reaped)
        failed = db_tasks.task_get(self.admin, task['id'])
        self.assertEqual('failure', failed['status'])
        self.assertImportable()
        self.assertNotIn(db_imports.LOCK_KEY, db_imports.import_lock_holder(
            self.admin, self.image_id) or {})

    def test_sweep_removes_residue_keeps_live_stages(self):
        self.stage()
        gone = self.create()['id']
        self.staging.add(gone, iter([b'residue']), 7)
        with open(os.path.join(self.staging.tmpdir, gone + '.' + 'a' * 32),
                  'wb'):
            pass
        self.assertEqual([gone], engine.sweep_staging(self.staging))
        self.assertEqual([self.image_id], [
            n for n in os.listdir(self.staging.datadir) if n != '.tmp'])
        self.assertEqual([], os.listdir(self.staging.tmpdir))

    def test_reaper_leaves_live_imports_alone(self):
        self.stage()
        db_imports.import_start(
            self.ctx, self.image_id, db_api.UPLOADING,
            {'type': 'api_image_import', 'owner': self.ctx.project_id,
             'image_id': self.image_id, 'input': {'backend': [None]}},
            [None], leases.lease_end(self.conf))
        self.assertEqual([], engine.reap_expired(self.conf, self.svc.stores,
                                                 self.staging))
        self.assertEqual('importing', self.row(self.image_id).status)


class EngineMySQLTest(base.MySQLMixin, EngineTest):
    pass


class EnginePostgreSQLTest(base.PostgreSQLMixin, EngineTest):
    pass
