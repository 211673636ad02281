"""Two API nodes on one PostgreSQL database and one Swift, as a cloud runs them.

Each node is its own ``imageapi-api`` (gunicorn) with its own port and state directory;
they share nothing but the database and the Swift container. Node B is killed with
SIGKILL in the middle of an upload and left dead: node A's reaper, with the default
lease and reap interval, returns the image to ``queued`` and removes B's segments. Each
node has its own image cache in its state directory: a download on A warms only A.
"""

import concurrent.futures
import os
import time

from imageapi.tests.functional import base as functional_base
from imageapi.tests.functional import client as http_client
from imageapi.tests.functional import databases
from imageapi.tests.functional import server as server_fixture
from imageapi.tests.functional.swift import base

MiB = 1024 * 1024


class TwoNodesTest(functional_base.RealServerTestCase, base.SwiftTestCase):

    def setUp(self):
        super().setUp()
        database = self.useFixture(databases.PostgresDatabase(self))
        env = {'OS_DATABASE__CONNECTION': database.url,
               'OS_STORE__DRIVER': 'swift',
               'OS_SWIFT_STORE__SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE': '1',
               'OS_SWIFT_STORE__SWIFT_STORE_LARGE_OBJECT_SIZE': '2',
               # $state_path is each node's own directory.
               'OS_DEFAULT__IMAGE_CACHE_DIR': '$state_path/cache',
               'OS_DEFAULT__IMAGE_CACHE_INTERVAL': '0'}
        for name, value in self.swift_options.items():
            env['OS_SWIFT_STORE__%s' % name.upper()] = str(value)
        self.nodes = []
        for name in ('a', 'b'):
            state = os.path.join(self.state_path, name)
            os.makedirs(state)
            node = self.useFixture(server_fixture.Server(state, env=env))
            self.nodes.append(node)
        self.a, self.b = (node.client() for node in self.nodes)

    def create(self, client):
        response = client.create_image()
        self.assertStatus(201, response)
        return response.json()['id']

    def status(self, client, image_id):
        return client.get('/v2/images/%s' % image_id).json()['status']

    def test_create_on_a_upload_on_b_download_from_a(self):
        image_id = self.create(self.a)
        payload = http_client.Payload(3 * MiB + 11)

        self.assertStatus(204, self.b.upload(image_id, payload))

        response, size, md5, sha512 = self.a.download_digests(image_id)
        self.assertStatus(200, response)
        self.assertEqual((payload.size, payload.md5, payload.sha512),
                         (size, md5, sha512))
        self.assertEqual('active', self.status(self.a, image_id))

    def cached(self, client):
        response = client.get('/v2/cache')
        self.assertStatus(200, response)
        return {entry['image_id']: entry['hits']
                for entry in response.json()['cached_images']}

    def test_download_on_a_warms_only_a(self):
        image_id = self.create(self.a)
        payload = http_client.Payload(3 * MiB + 5)
        self.assertStatus(204, self.b.upload(image_id, payload))

        for hits in (0, 1):
            response, size, md5, sha512 = self.a.download_digests(image_id)
            self.assertStatus(200, response)
            self.assertEqual((payload.size, payload.md5, payload.sha512),
                             (size, md5, sha512))
            self.assertEqual({image_id: hits}, self.cached(self.a))
            self.assertEqual({}, self.cached(self.b))
        self.assertEqual(payload.md5, response.headers['Content-MD5'])

        # Deleted on B: A's copy is never served again, and goes.
        self.assertStatus(204, self.b.delete('/v2/images/%s' % image_id))
        self.assertStatus(404, self.a.download(image_id))
        self.assertEqual({}, self.cached(self.a))

    def test_concurrent_uploads_on_both_nodes_exactly_one_wins(self):
        image_id = self.create(self.a)
        payload = http_client.Payload(3 * MiB)

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(
                lambda client: client.upload(image_id, payload).status,
                (self.a, self.b)))

        self.assertEqual([204, 409], statuses)
        self.assertEqual([], self.leftovers(image_id))
        self.assertEqual('active', self.status(self.b, image_id))

    def test_lists_and_paging_agree_on_both_nodes(self):
        for _ in range(5):
            self.create(self.a if _ % 2 else self.b)

        pages = []
        for client in (self.a, self.b):
            ids, path = [], '/v2/images?limit=2'
            while path:
                body = client.get(path).json()
                ids += [image['id'] for image in body['images']]
                path = body.get('next')
            pages.append(ids)

        self.assertEqual(5, len(pages[0]))
        self.assertEqual(pages[0], pages[1])

    def test_node_killed_mid_upload_other_node_reaps_it(self):
        image_id = self.create(self.a)
        conn = self.b.begin('PUT', '/v2/images/%s/file' % image_id, {
            'Content-Type': 'application/octet-stream',
            'Content-Length': str(8 * MiB)})
        conn.send(os.urandom(3 * MiB))  # three 1 MiB segments in Swift
        deadline = time.monotonic() + 30
        while not self.leftovers(image_id):
            self.assertLess(time.monotonic(), deadline, 'no segment written')
            time.sleep(0.2)

        self.nodes[1].kill()
        conn.close()

        # Default lease (30 s) and reap interval (10 s): within 2 minutes.
        deadline = time.monotonic() + 120
        while self.status(self.a, image_id) != 'queued':
            self.assertLess(time.monotonic(), deadline, 'never reaped')
            time.sleep(1)
        # The reaper queues the image first, then removes the segments.
        while self.leftovers(image_id):
            self.assertLess(time.monotonic(), deadline, 'segments left')
            time.sleep(1)
        payload = http_client.Payload(MiB + 1)
        self.assertStatus(204, self.a.upload(image_id, payload))
