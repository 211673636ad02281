"""Glance's multi-store on the real server: a file store and a Swift store at once."""

import os

from imageapi.tests.functional import base as functional_base
from imageapi.tests.functional import client as http_client
from imageapi.tests.functional.swift import base

MiB = 1024 * 1024


class FileAndSwiftTest(functional_base.RealServerTestCase,
                       base.SwiftTestCase):

    def setUp(self):
        super().setUp()
        self.datadir = os.path.join(self.state_path, 'fast')
        env = {'OS_DEFAULT__ENABLED_BACKENDS': 'fast:file,cloud:swift',
               'OS_GLANCE_STORE__DEFAULT_BACKEND': 'fast',
               'OS_FAST__FILESYSTEM_STORE_DATADIR': self.datadir,
               'OS_CLOUD__WEIGHT': '5',
               'OS_CLOUD__SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE': '1',
               'OS_CLOUD__SWIFT_STORE_LARGE_OBJECT_SIZE': '2'}
        for name, value in self.swift_options.items():
            env['OS_CLOUD__%s' % name.upper()] = str(value)
        self.start_server(env=env)
        self.client = self.server.client()

    def upload_to(self, store_id, payload):
        image_id = self.client.create_image().json()['id']
        response = self.client.upload(
            image_id, payload, headers={'X-Image-Meta-Store': store_id})
        self.assertStatus(204, response)
        return image_id

    def test_upload_to_each_store_and_download_back(self):
        payload = http_client.Payload(3 * MiB + 1)
        in_swift = self.upload_to('cloud', payload)
        on_disk = self.upload_to('fast', payload)

        for image_id, store_id in ((in_swift, 'cloud'), (on_disk, 'fast')):
            image = self.client.get('/v2/images/%s' % image_id).json()
            self.assertEqual(store_id, image['stores'])
            response, size, md5, _sha = self.client.download_digests(
                image_id)
            self.assertEqual((payload.size, payload.md5), (size, md5))
        self.assertEqual(4, len(self.manifest_segments(in_swift)))
        self.assertEqual([on_disk], [n for n in os.listdir(self.datadir)
                                     if n != '.tmp'])

    def test_info_stores_names_both(self):
        response = self.client.get('/v2/info/stores')

        self.assertStatus(200, response)
        self.assertEqual(['cloud', 'fast'], sorted(
            store['id'] for store in response.json()['stores']))

    def test_delete_removes_swift_copy(self):
        image_id = self.upload_to('cloud', http_client.Payload(3 * MiB))

        self.assertStatus(204, self.client.delete('/v2/images/%s'
                                                  % image_id))

        self.assertEqual([], self.object_names(image_id))
