"""The real ``imageapi-api`` with ``[store] driver = swift``: an image's life through the API.

The server gets its Swift options from OS_<GROUP>__<OPTION> variables; 1 MiB
segments make a 3 MiB upload a Static Large Object of four.
"""

import os
import sqlite3

from imageapi.tests.functional import base as functional_base
from imageapi.tests.functional import client as http_client
from imageapi.tests.functional.swift import base

MiB = 1024 * 1024


class SwiftServerTest(functional_base.RealServerTestCase,
                      base.SwiftTestCase):

    def setUp(self):
        super().setUp()
        env = {'OS_STORE__DRIVER': 'swift',
               'OS_SWIFT_STORE__SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE': '1',
               'OS_SWIFT_STORE__SWIFT_STORE_LARGE_OBJECT_SIZE': '2'}
        for name, value in self.swift_options.items():
            env['OS_SWIFT_STORE__%s' % name.upper()] = str(value)
        self.start_server(env=env)
        self.client = self.server.client()

    def create_image(self):
        response = self.client.create_image()
        self.assertStatus(201, response)
        return response.json()['id']

    def locations(self, image_id):
        """The location URLs of ``image_id`` in the server's database."""
        connection = sqlite3.connect(
            os.path.join(self.state_path, 'imageapi.sqlite'), timeout=30)
        try:
            return [row[0] for row in connection.execute(
                'SELECT value FROM image_locations WHERE image_id = ?',
                (image_id,))]
        finally:
            connection.close()

    def test_image_chunked_upload_download_range_delete(self):
        image_id = self.create_image()
        payload = http_client.Payload(3 * MiB + 5)

        response = self.client.upload(image_id, iter(payload), chunked=True)

        self.assertStatus(204, response)
        image = self.client.get('/v2/images/%s' % image_id).json()
        self.assertEqual(('active', payload.size, payload.md5),
                         (image['status'], image['size'], image['checksum']))
        self.assertEqual(['swift+config://ref1/%s/%s'
                          % (self.container, image_id)],
                         self.locations(image_id))
        self.assertEqual(4, len(self.manifest_segments(image_id)))
        self.assertEqual([], self.leftovers(image_id))

        response, size, md5, sha512 = self.client.download_digests(image_id)
        self.assertEqual(200, response.status)
        self.assertEqual((payload.size, payload.md5, payload.sha512),
                         (size, md5, sha512))

        # Across the boundary of the first two segments.
        response = self.client.get('/v2/images/%s/file' % image_id,
                                   headers={'Range': 'bytes=%d-%d'
                                            % (MiB - 10, MiB + 9)})
        self.assertStatus(206, response)
        self.assertEqual(payload.data()[MiB - 10:MiB + 10], response.body)

        self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                  % image_id))
        self.assertEqual([], self.object_names(image_id))

    def test_image_small_upload_is_one_object(self):
        image_id = self.create_image()
        payload = http_client.Payload(MiB + 3)

        self.assertStatus(204, self.client.upload(image_id, payload))

        response = self.swift.request('HEAD', self.container, image_id)
        self.assertEqual(payload.md5, response.header('ETag'))
        self.assertIsNone(response.header('X-Static-Large-Object'))
        self.assertEqual([], self.object_names(image_id + '.'))
