"""Keystone unified limits through oslo.limit: 413s at create, before and during uploads.

tools/keystone/provision.py gives project beta image_size_total 5 MiB, image_count_total
5 and image_count_uploading 1; alpha has the registered defaults (1000 MiB, 100, 10).
Each test has its own database, so usage starts at zero.
"""

import os
import time

from oslo_utils import units

from imageapi.tests.functional import client as http_client
from imageapi.tests.functional.keystone import base
from imageapi.tests.functional.keystone import fixtures as ks_fixtures


class TestKeystoneLimits(base.KeystoneServerTestCase):

    def setUp(self):
        server = ks_fixtures.require_keystone(self)
        self.extra_config = {
            'DEFAULT': {'use_keystone_limits': 'true'},
            'oslo_limit': server.oslo_limit_options()}
        super().setUp()
        self.beta = self.client('beta-member')
        self.limits = dict(server.registered_limits,
                           **server.project_limits['beta'])

    def new_image(self, client=None):
        response = (client or self.beta).create_image(name='limited')
        self.assertStatus(201, response)
        return response.json()['id']

    def assertNoData(self, image_id):
        image = self.beta.get('/v2/images/%s' % image_id).json()
        self.assertEqual(('queued', None), (image['status'], image['size']))
        images_dir = os.path.join(self.state_path, 'images')
        leftovers = [name for _dir, _subdirs, names in os.walk(images_dir)
                     for name in names if name.startswith(image_id)]
        self.assertEqual([], leftovers)

    def test_create_past_image_count_total_is_413(self):
        for _ in range(self.limits['image_count_total']):
            self.new_image()

        response = self.beta.create_image(name='one-too-many')

        self.assertStatus(413, response)
        self.assertIn(b'image_count_total', response.body)

    def status(self, image_id):
        return self.beta.get('/v2/images/%s' % image_id).json()['status']

    def wait_for_status(self, image_id, status, timeout=10):
        deadline = time.monotonic() + timeout
        while self.status(image_id) != status:
            if time.monotonic() > deadline:
                self.fail('image %s never reached %s' % (image_id, status))
            time.sleep(0.02)

    def test_upload_declaring_more_than_size_total_is_413_before_reading(self):
        image_id = self.new_image()
        size = (self.limits['image_size_total'] + 1) * units.Mi
        # Headers only: the answer comes before any byte of the body.
        conn = self.server.client().begin(
            'PUT', '/v2/images/%s/file' % image_id, headers={
                'X-Auth-Token': self.keystone.token('beta-member'),
                'Content-Length': str(size),
                'Content-Type': http_client.OCTET_STREAM})
        self.addCleanup(conn.close)

        response = conn.getresponse()

        self.assertEqual(413, response.status)
        self.assertIn(b'image_size_total is over limit of 5',
                      response.read())
        self.assertNoData(image_id)

    def test_chunked_upload_is_stopped_at_size_total_mid_stream(self):
        image_id = self.new_image()
        size = (self.limits['image_size_total'] + 1) * units.Mi

        response = self.beta.upload(image_id, http_client.Payload(size),
                                    chunked=True)

        self.assertStatus(413, response)
        self.assertNoData(image_id)

    def test_second_upload_cannot_overshoot_what_the_first_used(self):
        first = self.new_image()
        self.assertStatus(204, self.beta.upload(
            first, http_client.Payload(3 * units.Mi)))
        second = self.new_image()

        # 3 MiB + 3 MiB passes 5 MiB: Glance's pre-check (3 + 3 > 5)
        # would catch a declared size; a chunked body is caught mid-stream.
        response = self.beta.upload(second,
                                    http_client.Payload(3 * units.Mi),
                                    chunked=True)

        self.assertStatus(413, response)
        self.assertNoData(second)

    def test_upload_within_size_total_succeeds(self):
        image_id = self.new_image()
        payload = http_client.Payload(4 * units.Mi)

        self.assertStatus(204, self.beta.upload(image_id, payload))

        image = self.beta.get('/v2/images/%s' % image_id).json()
        self.assertEqual(('active', payload.sha512),
                         (image['status'], image['os_hash_value']))

    def test_second_concurrent_upload_past_count_uploading_is_413(self):
        first, second = self.new_image(), self.new_image()
        token = self.keystone.token('beta-member')
        conn = self.server.client().begin(
            'PUT', '/v2/images/%s/file' % first, headers={
                'X-Auth-Token': token, 'Content-Length': str(units.Mi),
                'Content-Type': http_client.OCTET_STREAM})
        try:
            conn.send(b'x' * 1024)
            self.wait_for_status(first, 'saving')

            response = self.beta.upload(second, b'second')

            self.assertStatus(413, response)
            self.assertIn(b'image_count_uploading', response.body)
            conn.send(b'x' * (units.Mi - 1024))
            self.assertEqual(204, conn.getresponse().status)
        finally:
            conn.close()
        self.assertNoData(second)

    def test_other_project_has_the_registered_limits(self):
        alpha = self.client('alpha-member')
        image_id = self.new_image(alpha)
        size = (self.limits['image_size_total'] + 1) * units.Mi

        self.assertStatus(204, alpha.upload(image_id,
                                            http_client.Payload(size)))

    def test_usage_reports_limits_and_usage(self):
        image_id = self.new_image()
        self.assertStatus(204, self.beta.upload(
            image_id, http_client.Payload(2 * units.Mi)))

        response = self.beta.get('/v2/info/usage')

        self.assertStatus(200, response)
        self.assertEqual({
            'image_size_total': {'limit': 5, 'usage': 2},
            'image_stage_total': {'limit': 5, 'usage': 0},
            'image_count_total': {'limit': 5, 'usage': 1},
            'image_count_uploading': {'limit': 1, 'usage': 0},
        }, response.json()['usage'])
