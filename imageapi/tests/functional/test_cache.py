"""The node-local image cache and /v2/cache over the real imageapi-api (issue 17).

The store is the filesystem store of the test's state path; removing an image's file
there shows a download served from the cache, which lives in ``$state_path/cache``.
"""

import concurrent.futures
import hashlib
import os
import subprocess
import sys
import time

from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client

DATA = os.urandom(3 * 1024 * 1024 + 17)
NON_ADMIN = {'X-Roles': 'member', 'X-Project-Id': 'a' * 32,
             'X-User-Id': 'u' * 32}


class CacheTestCase(base.ServerTestCase):

    server_env = {'OS_DEFAULT__IMAGE_CACHE_DIR': '$state_path/cache',
                  'OS_DEFAULT__IMAGE_CACHE_INTERVAL': '0'}

    @property
    def cache_dir(self):
        return os.path.join(self.state_path, 'cache')

    def cache_file(self, image_id):
        return os.path.join(self.cache_dir, image_id)

    def active_image(self, data=DATA):
        image_id = self.create_image()['id']
        self.assertStatus(204, self.client.upload(image_id, data))
        return image_id

    def cache_state(self, client=None):
        response = (client or self.client).get('/v2/cache')
        self.assertStatus(200, response)
        return response.json()

    def cached_ids(self):
        return [entry['image_id']
                for entry in self.cache_state()['cached_images']]

    def download(self, image_id, data=DATA, headers=None):
        response = self.client.get('/v2/images/%s/file' % image_id,
                                   headers=headers)
        self.assertStatus(200, response)
        self.assertEqual(data, response.body)
        return response

    def cached_image(self, data=DATA):
        """An image read through once: cached, its store file removed."""
        image_id = self.active_image(data)
        self.download(image_id, data)
        self.assertEqual([image_id], self.cached_ids())
        os.unlink(self.image_path(image_id))
        return image_id

    def incomplete(self):
        return os.listdir(os.path.join(self.cache_dir, 'incomplete'))


class ReadThroughTest(CacheTestCase):

    def test_download_fills_cache_with_verified_copy(self):
        image_id = self.active_image()
        self.assertEqual([], self.cached_ids())

        self.download(image_id)

        [entry] = self.cache_state()['cached_images']
        self.assertEqual((image_id, len(DATA), 0),
                         (entry['image_id'], entry['size'], entry['hits']))
        with open(self.cache_file(image_id), 'rb') as cached:
            self.assertEqual(hashlib.sha512(DATA).hexdigest(),
                             hashlib.sha512(cached.read()).hexdigest())
        self.assertEqual([], self.incomplete())

    def test_hit_served_from_cache_same_bytes_and_headers(self):
        image_id = self.active_image()
        first = self.download(image_id)
        os.unlink(self.image_path(image_id))

        second = self.download(image_id)

        for name in ('Content-Length', 'Content-Type', 'Content-MD5'):
            self.assertEqual(first.headers[name], second.headers[name], name)
        self.assertEqual(hashlib.md5(DATA, usedforsecurity=False).hexdigest(),
                         second.headers['Content-MD5'])
        self.assertEqual(1, self.cache_state()['cached_images'][0]['hits'])

    def test_range_served_from_cache(self):
        image_id = self.cached_image()

        response = self.client.get('/v2/images/%s/file' % image_id,
                                   headers={'Range': 'bytes=100-65635'})
        self.assertStatus(206, response)
        self.assertEqual(DATA[100:65636], response.body)
        self.assertEqual('bytes 100-65635/%d' % len(DATA),
                         response.headers['Content-Range'])
        self.assertEqual(hashlib.md5(DATA, usedforsecurity=False).hexdigest(),
                         response.headers['Content-MD5'])

        suffix = self.client.get('/v2/images/%s/file' % image_id,
                                 headers={'Range': 'bytes=-10'})
        self.assertStatus(206, suffix)
        self.assertEqual(DATA[-10:], suffix.body)

        beyond = self.client.get('/v2/images/%s/file' % image_id,
                                 headers={'Range': 'bytes=%d-' % len(DATA)})
        self.assertStatus(416, beyond)

    def test_ranged_download_of_uncached_image_does_not_fill(self):
        image_id = self.active_image()

        response = self.client.get('/v2/images/%s/file' % image_id,
                                   headers={'Range': 'bytes=0-99'})

        self.assertStatus(206, response)
        self.assertEqual(DATA[:100], response.body)
        self.assertEqual([], self.cached_ids())
        self.assertEqual([], self.incomplete())

    def test_concurrent_download_follows_the_fill_store_read_once(self):
        payload = http_client.Payload(64 * 1024 * 1024)
        image_id = self.active_image(payload)
        first = self.client.download(image_id, stream=True)
        self.assertStatus(200, first)
        pieces = first.iter_content()
        head = next(pieces)
        # From here only the first download's open store file has the
        # data: the second can only get it by following the fill.
        os.unlink(self.image_path(image_id))

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            rest = pool.submit(lambda: b''.join(pieces))
            second, size, md5, sha512 = self.client.download_digests(
                image_id)
            first_data = head + rest.result()
        first.close()

        self.assertStatus(200, second)
        self.assertEqual((payload.size, payload.md5, payload.sha512),
                         (size, md5, sha512))
        self.assertEqual(payload.sha512,
                         hashlib.sha512(first_data).hexdigest())
        self.assertEqual([image_id], self.cached_ids())

    def test_store_data_not_matching_hash_never_cached(self):
        image_id = self.active_image()
        with open(self.image_path(image_id), 'r+b') as stored:
            stored.write(b'corrupt')
        corrupt = b'corrupt' + DATA[7:]

        self.download(image_id, corrupt)

        self.assertEqual([], self.cached_ids())
        self.assertFalse(os.path.exists(self.cache_file(image_id)))
        self.assertEqual([], self.incomplete())

    def test_corrupted_cache_file_never_served(self):
        image_id = self.active_image()
        self.download(image_id)
        with open(self.cache_file(image_id), 'r+b') as cached:
            cached.seek(1000)
            cached.write(b'XXXX')

        self.download(image_id)  # the store's bytes, not the cache's

        # The entry went; this download filled it again, correctly.
        with open(self.cache_file(image_id), 'rb') as cached:
            self.assertEqual(DATA, cached.read())
        self.assertEqual(0, self.cache_state()['cached_images'][0]['hits'])

    def test_deleted_image_entry_removed(self):
        image_id = self.cached_image()

        self.assertStatus(204, self.client.delete('/v2/images/%s' % image_id))

        self.assertEqual([], self.cached_ids())
        self.assertFalse(os.path.exists(self.cache_file(image_id)))

    def test_image_deleted_elsewhere_not_served_and_removed(self):
        image_id = self.cached_image()
        # As another node deletes it: only the database knows.
        self.db_execute("UPDATE images SET status = 'deleted', deleted = ? "
                        "WHERE id = ?", True, image_id)

        response = self.client.download(image_id)

        self.assertStatus(404, response)
        self.assertEqual([], self.cached_ids())
        self.assertFalse(os.path.exists(self.cache_file(image_id)))

    def test_deactivated_image_not_served_from_cache_and_removed(self):
        image_id = self.cached_image()
        self.assertStatus(204, self.client.post(
            '/v2/images/%s/actions/deactivate' % image_id))

        # An admin may download it, but only from the store (gone here).
        response = self.client.download(image_id)

        self.assertStatus(204, response)
        self.assertEqual(b'', response.body)
        self.assertEqual([], self.cached_ids())
        self.assertFalse(os.path.exists(self.cache_file(image_id)))

    def test_deactivated_elsewhere_entry_removed_on_refused_download(self):
        image_id = self.cached_image()
        self.client.patch('/v2/images/%s' % image_id,
                          [{'op': 'replace', 'path': '/visibility',
                            'value': 'public'}])
        # As another node deactivates it: only the database knows.
        self.db_execute("UPDATE images SET status = 'deactivated' "
                        "WHERE id = ?", image_id)

        response = self.server.client(headers=NON_ADMIN).download(image_id)

        self.assertStatus(403, response)
        self.assertEqual([], self.cached_ids())
        self.assertFalse(os.path.exists(self.cache_file(image_id)))

    def test_entries_survive_restart(self):
        image_id = self.cached_image()

        self.server.restart()
        self.client = self.server.client()

        self.download(image_id)
        self.assertEqual(1, self.cache_state()['cached_images'][0]['hits'])


class CacheAPITest(CacheTestCase):

    def test_list_shape(self):
        image_id = self.active_image()
        self.download(image_id)

        state = self.cache_state()

        self.assertEqual({'cached_images', 'queued_images'}, set(state))
        self.assertEqual([], state['queued_images'])
        self.assertEqual({'image_id', 'hits', 'last_accessed',
                          'last_modified', 'size'},
                         set(state['cached_images'][0]))

    def test_queue_lists_then_delete_dequeues(self):
        image_id = self.active_image()

        self.assertStatus(202, self.client.put('/v2/cache/%s' % image_id))
        self.assertEqual([image_id], self.cache_state()['queued_images'])
        self.assertStatus(204,
                          self.client.delete('/v2/cache/%s' % image_id))
        self.assertEqual([], self.cache_state()['queued_images'])

    def test_queue_not_active_image_400(self):
        image_id = self.create_image()['id']

        response = self.client.put('/v2/cache/%s' % image_id)

        self.assertStatus(400, response)
        self.assertIn('active', response.json()['message'])

    def test_queue_missing_image_404(self):
        response = self.client.put('/v2/cache/%s' % ('0' * 8 + '-0000-4000-'
                                                     '8000-' + '0' * 12))
        self.assertStatus(404, response)

    def test_delete_entry_removes_file(self):
        image_id = self.active_image()
        self.download(image_id)

        self.assertStatus(204,
                          self.client.delete('/v2/cache/%s' % image_id))

        self.assertEqual([], self.cached_ids())
        self.assertFalse(os.path.exists(self.cache_file(image_id)))

    def test_clear_targets(self):
        cached = self.active_image()
        self.download(cached)
        queued = self.active_image()
        self.client.put('/v2/cache/%s' % queued)

        self.assertStatus(204, self.client.delete(
            '/v2/cache', headers={'x-image-cache-clear-target': 'queue'}))
        state = self.cache_state()
        self.assertEqual(([cached], []), (
            [e['image_id'] for e in state['cached_images']],
            state['queued_images']))

        self.client.put('/v2/cache/%s' % queued)
        self.assertStatus(204, self.client.delete(
            '/v2/cache', headers={'x-image-cache-clear-target': 'cache'}))
        state = self.cache_state()
        self.assertEqual(([], [queued]), (state['cached_images'],
                                          state['queued_images']))

        self.download(cached)
        self.assertStatus(204, self.client.delete('/v2/cache'))
        self.assertEqual({'cached_images': [], 'queued_images': []},
                         self.cache_state())

    def test_clear_bad_target_400(self):
        response = self.client.delete(
            '/v2/cache', headers={'x-image-cache-clear-target': 'all'})

        self.assertStatus(400, response)
        self.assertIn('x-image-cache-clear-target',
                      response.json()['message'])

    def test_non_admin_refused_by_each_policy(self):
        image_id = self.active_image()
        # Visible to the non-admin: shared images of another project are
        # not, and would answer 404 before the policy.
        self.client.patch('/v2/images/%s' % image_id,
                          [{'op': 'replace', 'path': '/visibility',
                            'value': 'public'}])
        member = self.server.client(headers=NON_ADMIN)
        for method, path in (('GET', '/v2/cache'),
                             ('DELETE', '/v2/cache'),
                             ('PUT', '/v2/cache/%s' % image_id),
                             ('DELETE', '/v2/cache/%s' % image_id),
                             ('POST', '/v2/cache/clean'),
                             ('POST', '/v2/cache/prune')):
            response = member.request(method, path)
            self.assertStatus(403, response)

    def test_prune_removes_least_recently_used(self):
        old = self.active_image(DATA)
        self.download(old)
        new = self.active_image(DATA[::-1])
        self.download(new, DATA[::-1])
        self.server.env['OS_DEFAULT__IMAGE_CACHE_MAX_SIZE'] = str(len(DATA))
        self.server.restart()
        self.client = self.server.client()

        response = self.client.post('/v2/cache/prune')

        self.assertStatus(200, response)
        self.assertEqual({'total_files_pruned': 1,
                          'total_bytes_pruned': len(DATA)}, response.json())
        self.assertEqual([new], self.cached_ids())
        self.assertFalse(os.path.exists(self.cache_file(old)))

    def test_manage_prune_and_clean(self):
        old = self.active_image(DATA)
        self.download(old)
        new = self.active_image(DATA[::-1])
        self.download(new, DATA[::-1])
        with open(self.cache_file(new), 'r+b') as cached:
            cached.write(b'X')
        env = dict(os.environ, OS_DEFAULT__STATE_PATH=self.state_path,
                   OS_DEFAULT__IMAGE_CACHE_DIR=self.cache_dir,
                   OS_DEFAULT__IMAGE_CACHE_MAX_SIZE='0')

        clean = self.manage(env, 'cache', 'clean')
        self.assertIn('1 stalled or invalid cache files removed', clean)
        self.assertEqual([old], self.cached_ids())
        prune = self.manage(env, 'cache', 'prune')
        self.assertIn('1 cached images pruned', prune)
        self.assertEqual([], self.cached_ids())

    def test_manage_clean_verify_removes_changed_content(self):
        image_id = self.active_image()
        self.download(image_id)
        path = self.cache_file(image_id)
        stat = os.stat(path)
        with open(path, 'r+b') as cached:
            cached.write(b'X')  # as bit rot would: same size and mtime
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        env = dict(os.environ, OS_DEFAULT__STATE_PATH=self.state_path,
                   OS_DEFAULT__IMAGE_CACHE_DIR=self.cache_dir)

        self.manage(env, 'cache', 'clean')
        self.assertEqual([image_id], self.cached_ids())
        out = self.manage(env, 'cache', 'clean', '--verify')

        self.assertIn('1 stalled or invalid cache files removed', out)
        self.assertEqual([], self.cached_ids())

    def manage(self, env, *args):
        result = subprocess.run(
            [sys.executable, '-m', 'imageapi.cmd.manage'] + list(args),
            env=dict(env, **self.database_env()), capture_output=True,
            text=True, check=False)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout


class PrefetchTest(CacheTestCase):

    server_env = {'OS_DEFAULT__IMAGE_CACHE_DIR': '$state_path/cache'}

    def test_queued_image_fetched_by_keeper(self):
        image_id = self.active_image()

        self.assertStatus(202, self.client.put('/v2/cache/%s' % image_id))

        deadline = time.monotonic() + 60
        while image_id not in self.cached_ids():
            self.assertLess(time.monotonic(), deadline, 'never cached')
            time.sleep(0.1)
        self.assertEqual([], self.cache_state()['queued_images'])
        os.unlink(self.image_path(image_id))
        self.download(image_id)


class CacheOffTest(base.ServerTestCase):

    def test_cache_routes_404_when_off(self):
        image_id = self.create_image()['id']
        for method, path in (('GET', '/v2/cache'),
                             ('DELETE', '/v2/cache'),
                             ('PUT', '/v2/cache/%s' % image_id),
                             ('DELETE', '/v2/cache/%s' % image_id),
                             ('POST', '/v2/cache/clean'),
                             ('POST', '/v2/cache/prune')):
            response = self.client.request(method, path)
            self.assertStatus(404, response)

    def test_download_not_cached_when_off(self):
        image_id = self.create_image()['id']
        self.assertStatus(204, self.client.upload(image_id, DATA[:1000]))

        response = self.client.download(image_id)

        self.assertStatus(200, response)
        self.assertFalse(os.path.exists(os.path.join(self.state_path,
                                                     'cache')))
