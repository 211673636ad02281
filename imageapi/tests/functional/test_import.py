"""Interoperable import over real HTTP: stage, glance-direct, tasks, every failure branch.

A real ``imageapi-api`` per test (functional/server.py). Imports that must still be
running when the test acts (a delete, a crash) read a staged file the test replaced by
a named pipe: the import then waits for the test's bytes, so nothing depends on timing.
"""

import concurrent.futures
import datetime
import os
import subprocess
import tempfile
import time
import uuid

from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client

MiB = 1024 * 1024
_WAIT = 60


class ImportTestCase(base.ServerTestCase):

    @property
    def staging_dir(self):
        return os.path.join(self.state_path, 'staging')

    def staged_path(self, image_id):
        return os.path.join(self.staging_dir, image_id)

    def staging_residue(self, image_id):
        """Staged or half-staged files of ``image_id``."""
        names = []
        for directory in (self.staging_dir,
                          os.path.join(self.staging_dir, '.tmp')):
            if os.path.isdir(directory):
                names += [n for n in os.listdir(directory)
                          if n.startswith(image_id)]
        return names

    def stage(self, image_id, body, size=None, chunked=False):
        headers = {'Content-Type': http_client.OCTET_STREAM}
        if chunked:
            body = iter(body)
        else:
            headers['Content-Length'] = str(len(body) if size is None
                                            else size)
            body = iter(body) if isinstance(
                body, http_client.Payload) else body
        return self.client.put('/v2/images/%s/stage' % image_id, body=body,
                               headers=headers)

    def start_import(self, image_id, method='glance-direct', **extra):
        body = dict(extra, method={'name': method})
        return self.client.post('/v2/images/%s/import' % image_id,
                                json=body)

    def staged_image(self, payload):
        image_id = self.create_image()['id']
        self.assertStatus(204, self.stage(image_id, payload))
        return image_id

    def wait_for(self, image_id, statuses, timeout=_WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = self.image_row(image_id)
            status = row['status'] if row else 'gone'
            if status in statuses:
                return status
            time.sleep(0.05)
        self.fail('image %s never reached %s (is %s)'
                  % (image_id, statuses, status))

    def wait_for_task(self, task_id, statuses, timeout=_WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.task_row(task_id)
            if task['status'] in statuses:
                return task
            time.sleep(0.05)
        self.fail('task %s never reached %s' % (task_id, statuses))

    def task_row(self, task_id):
        return self.db_query('SELECT * FROM tasks WHERE id = ?', task_id)[0]

    def image_tasks(self, image_id):
        response = self.client.get('/v2/images/%s/tasks' % image_id)
        self.assertStatus(200, response)
        return response.json()['tasks']

    def properties(self, image_id):
        return {row['name']: row['value'] for row in self.db_query(
            'SELECT name, value FROM image_properties WHERE image_id = ?',
            image_id)}

    def assertActiveWith(self, image_id, payload):
        image = self.show_image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(payload.size, image['size'])
        self.assertEqual(payload.md5, image['checksum'])
        self.assertEqual(payload.sha512, image['os_hash_value'])
        response, size, md5, _sha = self.client.download_digests(image_id)
        self.assertEqual((payload.size, payload.md5), (size, md5))
        self.assertEqual([], self.staging_residue(image_id))
        self.assertNotIn('os_glance_import_task', self.properties(image_id))

    def assertImportable(self, image_id):
        """Queued, unlocked, nothing staged or stored, nothing charged."""
        row = self.image_row(image_id)
        self.assertEqual('queued', row['status'])
        self.assertIsNone(row['upload_claim'])
        self.assertEqual(0, row['upload_reserved'])
        self.assertNotIn('os_glance_import_task', self.properties(image_id))
        self.assertEqual([], self.staging_residue(image_id))
        self.assertFalse(os.path.exists(self.image_path(image_id)))
        self.assertEqual([], [n for n in self.temp_files()
                              if n.startswith(image_id)])

    def usage(self):
        return sum(row['used'] for row in self.db_query(
            'SELECT used FROM storage_usage'))

    def pipe_staged(self, image_id):
        """Replace the staged file by a named pipe the test writes to."""
        path = self.staged_path(image_id)
        os.unlink(path)
        os.mkfifo(path, 0o600)
        return path


class TestGlanceDirect(ImportTestCase):

    def test_stage_then_import_activates_with_hashes(self):
        payload = http_client.Payload(3 * MiB + 17)
        image_id = self.create_image()['id']
        self.assertStatus(204, self.stage(image_id, payload))
        self.assertEqual('uploading', self.show_image(image_id)['status'])
        self.assertEqual(payload.size, self.usage())
        self.assertEqual(payload.size,
                         os.path.getsize(self.staged_path(image_id)))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertActiveWith(image_id, payload)
        self.assertEqual(payload.size, self.usage())
        [task] = self.image_tasks(image_id)
        self.assertEqual(('success', 'api_image_import', image_id),
                         (task['status'], task['type'], task['image_id']))
        self.assertEqual({'image_id': image_id}, task['result'])
        self.assertIsNotNone(task['expires_at'])

    def test_stage_chunked_then_import(self):
        payload = http_client.Payload(2 * MiB + 5, seed=3)
        image_id = self.create_image()['id']
        self.assertStatus(204, self.stage(image_id, payload, chunked=True))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertActiveWith(image_id, payload)

    def test_stage_active_image_409(self):
        image_id = self.staged_image(http_client.Payload(1000))
        response = self.stage(image_id, http_client.Payload(1000))
        self.assertStatus(409, response)
        self.assertEqual('uploading', self.image_row(image_id)['status'])

    def test_stage_short_body_400_queued(self):
        image_id = self.create_image()['id']
        conn = self.client.begin(
            'PUT', '/v2/images/%s/stage' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'x-openstack-image-size': '5000',
                     'Transfer-Encoding': 'chunked'})
        conn.send(http_client.chunk_frame(b'x' * 4000))
        conn.send(http_client.chunk_frame(b''))
        response = conn.getresponse()
        self.assertEqual(400, response.status)
        conn.close()
        self.assertImportable(image_id)

    def test_stage_wrong_content_type_415(self):
        image_id = self.create_image()['id']
        response = self.client.put(
            '/v2/images/%s/stage' % image_id, body=b'abc',
            headers={'Content-Type': 'application/json'})
        self.assertStatus(415, response)
        self.assertImportable(image_id)

    def test_import_unknown_method_400(self):
        image_id = self.staged_image(http_client.Payload(1000))
        response = self.start_import(image_id, method='carrier-pigeon')
        self.assertStatus(400, response)
        self.assertIn("Unknown import method name 'carrier-pigeon'",
                      response.body.decode())

    def test_import_without_method_400(self):
        image_id = self.staged_image(http_client.Payload(1000))
        response = self.client.post('/v2/images/%s/import' % image_id,
                                    json={'stores': []})
        self.assertStatus(400, response)

    def test_import_not_staged_409(self):
        image_id = self.create_image()['id']
        response = self.start_import(image_id)
        self.assertStatus(409, response)
        self.assertIn('staged', response.body.decode())
        self.assertImportable(image_id)

    def test_import_while_stage_streams_409_then_works(self):
        image_id = self.create_image()['id']
        conn = self.client.begin(
            'PUT', '/v2/images/%s/stage' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'Transfer-Encoding': 'chunked'})
        conn.send(http_client.chunk_frame(b'a' * 65536))
        deadline = time.monotonic() + _WAIT
        while not self.image_row(image_id)['upload_claim']:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        response = self.start_import(image_id)
        self.assertStatus(409, response)
        self.assertIn('staged', response.body.decode())
        conn.send(http_client.chunk_frame(b'b' * 100))
        conn.send(http_client.chunk_frame(b''))
        self.assertEqual(204, conn.getresponse().status)
        conn.close()
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertEqual(65636, self.show_image(image_id)['size'])

    def test_import_active_image_409(self):
        image_id = self.staged_image(http_client.Payload(1000))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        response = self.start_import(image_id)
        self.assertStatus(409, response)
        self.assertIn('active cannot be target', response.body.decode())

    def test_import_missing_image_404(self):
        self.assertStatus(404, self.start_import(str(uuid.uuid4())))

    def test_import_copy_image_without_multistore_404(self):
        image_id = self.staged_image(http_client.Payload(1000))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertStatus(404, self.start_import(image_id,
                                                 method='copy-image'))

    def test_all_stores_must_succeed_false_single_store_400(self):
        image_id = self.staged_image(http_client.Payload(1000))
        response = self.start_import(image_id, all_stores_must_succeed=False)
        self.assertStatus(400, response)
        self.assertEqual('uploading', self.image_row(image_id)['status'])

    def test_info_import_and_create_header(self):
        response = self.client.get('/v2/info/import')
        self.assertStatus(200, response)
        methods = response.json()['import-methods']['value']
        self.assertIn('glance-direct', methods)
        self.assertIn('copy-image', methods)
        created = self.client.create_image()
        self.assertIn('glance-direct', created.headers[
            'OpenStack-image-import-methods'])

    def test_delete_staged_image_removes_staged_data(self):
        image_id = self.staged_image(http_client.Payload(MiB))
        self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                  % image_id))
        self.assertEqual([], self.staging_residue(image_id))
        self.assertEqual(0, self.usage())


class TestStageLimits(ImportTestCase):

    server_env = {'OS_DEFAULT__IMAGE_SIZE_CAP': str(4 * MiB),
                  'OS_DEFAULT__USER_STORAGE_QUOTA': '6MB'}

    def test_stage_chunked_over_cap_413_queued(self):
        image_id = self.create_image()['id']
        response = self.stage(image_id, http_client.Payload(4 * MiB + 1),
                              chunked=True)
        self.assertStatus(413, response)
        self.assertImportable(image_id)
        self.assertEqual(0, self.usage())

    def test_stage_declared_over_cap_413(self):
        image_id = self.create_image()['id']
        conn = self.client.begin(
            'PUT', '/v2/images/%s/stage' % image_id,
            headers={'Content-Type': 'application/octet-stream',
                     'Content-Length': str(4 * MiB + 1)})
        response = conn.getresponse()
        self.assertEqual(413, response.status)
        conn.close()
        self.assertImportable(image_id)

    def test_staged_data_counts_against_quota(self):
        first = self.staged_image(http_client.Payload(4 * MiB))
        self.assertEqual(4 * MiB, self.usage())
        second = self.create_image()['id']
        response = self.stage(second, http_client.Payload(3 * MiB),
                              chunked=True)
        self.assertStatus(413, response)
        self.assertImportable(second)
        self.assertEqual(4 * MiB, self.usage())
        self.assertStatus(202, self.start_import(first))
        self.wait_for(first, ('active',))
        self.assertEqual(4 * MiB, self.usage())


class TestRacesAndLocks(ImportTestCase):

    workers = 2

    def test_two_imports_raced_exactly_one_runs(self):
        for _round in range(5):
            payload = http_client.Payload(256 * 1024)
            image_id = self.staged_image(payload)
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                results = list(pool.map(
                    lambda _i: self.start_import(image_id), range(2)))
            self.assertEqual([202, 409], sorted(r.status for r in results))
            self.wait_for(image_id, ('active',))
            self.assertActiveWith(image_id, payload)
            self.assertEqual(1, len(self.image_tasks(image_id)))

    def test_two_stages_raced_exactly_one_wins(self):
        image_id = self.create_image()['id']
        payloads = [http_client.Payload(512 * 1024, seed=s) for s in (1, 2)]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda p: self.stage(image_id, p),
                                    payloads))
        self.assertEqual([204, 409], sorted(r.status for r in results))
        winner = payloads[[r.status for r in results].index(204)]
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertActiveWith(image_id, winner)

    def _lock(self, image_id, task_id, task_status=None, age_minutes=0):
        """Put a lock (and optionally its task) in the database directly."""
        now = datetime.datetime.utcnow().replace(microsecond=0)
        then = now - datetime.timedelta(minutes=age_minutes)
        self.db_execute(
            "INSERT INTO image_properties (image_id, name, value, created_at) "
            "VALUES (?, 'os_glance_import_task', ?, ?)", image_id, task_id, now)
        if task_status:
            self.db_execute(
                "INSERT INTO tasks (id, type, status, owner, image_id, input, "
                "created_at, updated_at) VALUES (?, 'api_image_import', ?, "
                "'x', ?, '{}', ?, ?)",
                task_id, task_status, image_id, then, then)

    def test_lock_of_live_task_409(self):
        image_id = self.staged_image(http_client.Payload(1000))
        self._lock(image_id, str(uuid.uuid4()), 'processing', 5)
        response = self.start_import(image_id)
        self.assertStatus(409, response)
        self.assertIn('Image has active task', response.body.decode())
        self.assertEqual('uploading', self.image_row(image_id)['status'])

    def test_stale_lock_older_than_an_hour_is_broken(self):
        payload = http_client.Payload(1000)
        image_id = self.staged_image(payload)
        self._lock(image_id, str(uuid.uuid4()), 'processing', 61)
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertActiveWith(image_id, payload)

    def test_pending_lock_kept_for_two_hours(self):
        image_id = self.staged_image(http_client.Payload(1000))
        self._lock(image_id, str(uuid.uuid4()), 'pending', 90)
        self.assertStatus(409, self.start_import(image_id))

    def test_lock_of_missing_task_is_broken(self):
        payload = http_client.Payload(1000)
        image_id = self.staged_image(payload)
        self._lock(image_id, str(uuid.uuid4()))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertActiveWith(image_id, payload)


class TestDeleteDuringImport(ImportTestCase):

    def test_delete_while_importing_fails_task_leaves_nothing(self):
        payload = http_client.Payload(2 * MiB)
        image_id = self.staged_image(payload)
        pipe = self.pipe_staged(image_id)
        self.assertStatus(202, self.start_import(image_id))
        [task] = self.image_tasks(image_id)
        self.assertEqual('importing', self.image_row(image_id)['status'])
        with open(pipe, 'wb') as writer:
            chunks = iter(payload)
            writer.write(next(chunks))
            writer.flush()
            self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                      % image_id))
            for chunk in chunks:
                writer.write(chunk)
        done = self.wait_for_task(task['id'], ('failure', 'success'))
        self.assertEqual('failure', done['status'])
        self.assertIn('deleted', done['message'])
        self.assertFalse(os.path.exists(self.image_path(image_id)))
        self.assertEqual([], [n for n in self.temp_files()
                              if n.startswith(image_id)])
        self.assertEqual([], self.staging_residue(image_id))
        self.assertEqual(0, self.usage())
        self.assertEqual(0, len(self.db_query(
            "SELECT * FROM image_locations WHERE image_id = ? AND "
            "status != 'deleted'", image_id)))


class TestCrashMidImport(ImportTestCase):

    server_env = {'OS_UPLOAD__LEASE_SECONDS': '5',
                  'OS_UPLOAD__REAP_INTERVAL': '1'}

    def test_server_killed_mid_import_task_fails_image_importable(self):
        payload = http_client.Payload(2 * MiB)
        image_id = self.staged_image(payload)
        pipe = self.pipe_staged(image_id)
        self.assertStatus(202, self.start_import(image_id))
        [task] = self.image_tasks(image_id)
        writer = open(pipe, 'wb')
        try:
            chunks = iter(payload)
            writer.write(next(chunks))
            writer.flush()
            deadline = time.monotonic() + _WAIT
            while not self.temp_files() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertNotEqual([], self.temp_files())
            self.server.kill()
        finally:
            try:
                writer.close()
            except BrokenPipeError:
                pass
        self.assertEqual('importing', self.image_row(image_id)['status'])
        self.server.restart()
        self.client = self.server.client()
        done = self.wait_for_task(task['id'], ('failure',))
        self.assertIn('interrupted', done['message'])
        self.wait_for(image_id, ('queued',))
        self.assertImportable(image_id)
        self.assertEqual(0, self.usage())
        # Importable again, all the way.
        self.assertStatus(204, self.stage(image_id, payload))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertActiveWith(image_id, payload)


class TestMultiStore(ImportTestCase):

    def setUp(self):
        self.stores = {name: None for name in ('fast', 'cheap')}
        self.server_env = {
            'OS_DEFAULT__ENABLED_BACKENDS': 'fast:file,cheap:file',
            'OS_GLANCE_STORE__DEFAULT_BACKEND': 'fast'}
        super().setUp()

    def store_dir(self, store_id):
        return os.path.join(self.state_path, store_id)

    def start_server(self, **kwargs):
        for store_id in self.stores:
            kwargs['env']['OS_%s__FILESYSTEM_STORE_DATADIR'
                          % store_id.upper()] = self.store_dir(store_id)
        return super().start_server(**kwargs)

    def in_store(self, store_id, image_id):
        return os.path.exists(os.path.join(self.store_dir(store_id),
                                           image_id))

    def wait_unlocked(self, image_id):
        deadline = time.monotonic() + _WAIT
        while 'os_glance_import_task' in self.properties(image_id):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_import_to_named_stores_then_copy_to_the_rest(self):
        payload = http_client.Payload(MiB + 3)
        created = self.client.create_image()
        self.assertEqual('cheap,fast', ','.join(sorted(
            created.headers['OpenStack-image-store-ids'].split(','))))
        image_id = created.json()['id']
        self.assertStatus(204, self.stage(image_id, payload))
        self.assertStatus(202, self.start_import(image_id,
                                                 stores=['fast']))
        self.wait_for(image_id, ('active',))
        self.assertEqual('fast', self.show_image(image_id)['stores'])
        self.assertFalse(self.in_store('cheap', image_id))

        self.assertStatus(202, self.start_import(image_id,
                                                 method='copy-image',
                                                 all_stores=True))
        self.wait_unlocked(image_id)
        image = self.show_image(image_id)
        self.assertEqual(['cheap', 'fast'], sorted(image['stores'].split(',')))
        self.assertEqual('', image['os_glance_importing_to_stores'])
        self.assertTrue(self.in_store('cheap', image_id))
        self.assertEqual(payload.size, self.usage())
        self.assertActiveWith(image_id, payload)
        tasks = self.image_tasks(image_id)
        self.assertEqual(['success', 'success'],
                         [t['status'] for t in tasks])

    def test_copy_to_a_store_holding_it_400(self):
        image_id = self.staged_image(http_client.Payload(1000))
        self.assertStatus(202, self.start_import(image_id, stores=['fast']))
        self.wait_for(image_id, ('active',))
        response = self.start_import(image_id, method='copy-image',
                                     stores=['fast'])
        self.assertStatus(400, response)
        self.assertIn("already present at store 'fast'",
                      response.body.decode())

    def test_import_to_unknown_store_409(self):
        image_id = self.staged_image(http_client.Payload(1000))
        response = self.start_import(image_id, stores=['nowhere'])
        self.assertStatus(409, response)
        self.assertEqual('uploading', self.image_row(image_id)['status'])

    def test_import_to_all_stores(self):
        payload = http_client.Payload(2000)
        image_id = self.staged_image(payload)
        self.assertStatus(202, self.start_import(image_id, all_stores=True))
        self.wait_for(image_id, ('active',))
        self.assertTrue(self.in_store('fast', image_id))
        self.assertTrue(self.in_store('cheap', image_id))
        self.assertActiveWith(image_id, payload)

    def test_copy_by_member_forbidden(self):
        member = self.server.client(headers={'X-Roles': 'member',
                                             'X-Project-Id': 'p1'})
        image_id = member.create_image().json()['id']
        self.client = member
        self.assertStatus(204, self.stage(image_id,
                                          http_client.Payload(1000)))
        self.assertStatus(202, self.start_import(image_id, stores=['fast']))
        self.wait_for(image_id, ('active',))
        response = self.start_import(image_id, method='copy-image',
                                     stores=['cheap'])
        self.assertStatus(403, response)
        self.assertFalse(self.in_store('cheap', image_id))


class TestTasksAPI(ImportTestCase):

    def imported(self):
        image_id = self.staged_image(http_client.Payload(1000))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        return image_id, self.image_tasks(image_id)[0]

    def test_admin_lists_and_shows_tasks(self):
        _image_id, task = self.imported()
        response = self.client.get('/v2/tasks')
        self.assertStatus(200, response)
        body = response.json()
        self.assertEqual([task['id']], [t['id'] for t in body['tasks']])
        self.assertNotIn('input', body['tasks'][0])
        self.assertEqual('/v2/schemas/tasks', body['schema'])
        shown = self.client.get('/v2/tasks/%s' % task['id'])
        self.assertStatus(200, shown)
        self.assertEqual(('success', '/v2/tasks/%s' % task['id']),
                         (shown.json()['status'], shown.json()['self']))

    def test_list_filters_and_pages(self):
        ids = [self.imported()[1]['id'] for _ in range(3)]
        first = self.client.get('/v2/tasks?limit=2&status=success')
        self.assertStatus(200, first)
        body = first.json()
        self.assertEqual(2, len(body['tasks']))
        rest = self.client.get(body['next']).json()['tasks']
        self.assertEqual(sorted(ids), sorted(
            [t['id'] for t in body['tasks'] + rest]))
        self.assertStatus(400, self.client.get('/v2/tasks?status=done'))
        self.assertStatus(400, self.client.get('/v2/tasks?sort_dir=up'))
        self.assertEqual([], self.client.get(
            '/v2/tasks?status=failure').json()['tasks'])

    def test_member_refused_by_tasks_api_access(self):
        _image_id, task = self.imported()
        member = self.server.client(headers={'X-Roles': 'member',
                                             'X-Project-Id': 'p1'})
        for path in ('/v2/tasks', '/v2/tasks/%s' % task['id']):
            self.assertStatus(403, member.get(path))
        self.assertStatus(403, member.post('/v2/tasks', json={
            'type': 'import', 'input': {}}))

    def test_unknown_task_404(self):
        self.assertStatus(404, self.client.get('/v2/tasks/%s'
                                               % uuid.uuid4()))

    def test_task_schemas(self):
        task = self.client.get('/v2/schemas/task').json()
        self.assertEqual('task', task['name'])
        self.assertIn('message', task['properties'])
        tasks = self.client.get('/v2/schemas/tasks').json()
        self.assertNotIn('message',
                         tasks['properties']['tasks']['items']['properties'])

    def test_create_task_bad_bodies_400(self):
        for body in ({}, {'type': 'import'}, {'type': 'nope', 'input': {}},
                     {'type': 'import', 'input': {'import_from': 'x'}}):
            self.assertStatus(400, self.client.post('/v2/tasks', json=body))


class TestOpenStackSDK(ImportTestCase):
    """openstacksdk's import (create_image(..., use_import=True)) as a library."""

    def test_sdk_create_image_use_import_activates(self):
        import openstack  # noqa: only this test needs it; 0.4 s to import
        payload = http_client.Payload(MiB + 9, seed=5)
        path = os.path.join(self.state_path, 'upload.img')
        with open(path, 'wb') as f:
            for chunk in payload:
                f.write(chunk)
        conn = openstack.connect(
            auth_type='none', auth={'endpoint': self.server.url},
            image_endpoint_override=self.server.url, region_name='r')
        self.addCleanup(conn.close)
        image = conn.image.create_image(
            name='sdk', filename=path, disk_format='raw',
            container_format='bare', use_import=True)
        self.wait_for(image.id, ('active',))
        self.assertActiveWith(image.id, payload)
        found = conn.image.get_image(image.id)
        self.assertEqual(('active', payload.md5),
                         (found.status, found.checksum))
        [task] = self.image_tasks(image.id)
        self.assertEqual('glance-direct',
                         task['input']['import_req']['method']['name'])


class TestStoreFull(ImportTestCase):
    """The store's filesystem fills up mid-import: a 2 MiB tmpfs as the store.

    Mounting needs root, as CI runs; elsewhere the test skips.
    """

    def start_server(self, **kwargs):
        if os.geteuid() != 0:
            self.skipTest('mounting a tmpfs as the store needs root')
        self.store_dir = tempfile.mkdtemp(prefix='imageapi-full-')
        self.addCleanup(os.rmdir, self.store_dir)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs',
                        self.store_dir], check=True)
        # Cleanups run last first: the server stops before the unmount.
        self.addCleanup(subprocess.run, ['umount', self.store_dir],
                        check=True)
        kwargs['env'] = dict(kwargs.get('env') or {},
                             OS_FILESYSTEM_STORE__DATADIR=self.store_dir)
        return super().start_server(**kwargs)

    def store_files(self):
        return [name for _, _, names in os.walk(self.store_dir)
                for name in names]

    def test_import_past_free_space_fails_cleanly_and_next_one_works(self):
        too_big = http_client.Payload(3 * MiB + 5)
        image_id = self.staged_image(too_big)
        self.assertStatus(202, self.start_import(image_id))
        [task] = self.image_tasks(image_id)

        done = self.wait_for_task(task['id'], ('failure',))

        self.assertIn('storage media is full', done['message'])
        self.wait_for(image_id, ('queued',))
        row = self.image_row(image_id)
        self.assertIsNone(row['upload_claim'])
        self.assertEqual(0, row['upload_reserved'])
        self.assertNotIn('os_glance_import_task', self.properties(image_id))
        self.assertEqual([], self.staging_residue(image_id))
        self.assertEqual([], self.store_files())
        self.assertEqual(0, self.usage())
        # The space the partial data took is back: an image that fits.
        fits = http_client.Payload(MiB + 7)
        self.assertStatus(204, self.stage(image_id, fits))
        self.assertStatus(202, self.start_import(image_id))
        self.wait_for(image_id, ('active',))
        self.assertActiveWith(image_id, fits)
        self.assertEqual([image_id], self.store_files())
