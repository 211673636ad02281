"""Uploads with real tokens: the README's curl walkthrough, and a token that dies mid-upload."""

import hashlib
import json
import os
import subprocess
import time

from oslo_utils import units

from imageapi.tests.functional import client as http_client
from imageapi.tests.functional.keystone import base


class TestCurl(base.KeystoneServerTestCase):

    def curl(self, *args):
        """Run curl with alpha-member's token; returns (status, body)."""
        result = subprocess.run(
            ['curl', '-sS', '-o', '-', '-w', '\n%{http_code}',
             '-H', 'X-Auth-Token: %s' % self.keystone.token('alpha-member'),
             *args], stdin=subprocess.DEVNULL, capture_output=True,
            timeout=60, check=True)
        body, _sep, status = result.stdout.rpartition(b'\n')
        return int(status), body

    def test_curl_walkthrough_with_a_real_token(self):
        if not os.path.exists('/usr/bin/curl'):
            self.skipTest('no curl')
        url = self.server.url
        data = http_client.Payload(3 * units.Mi).data()
        path = os.path.join(self.state_path, 'disk.raw')
        with open(path, 'wb') as out:
            out.write(data)

        status, body = self.curl(
            '-X', 'POST', url + '/v2/images',
            '-H', 'Content-Type: application/json',
            '-d', json.dumps({'name': 'curl', 'disk_format': 'raw',
                              'container_format': 'bare'}))
        self.assertEqual(201, status, body)
        image_id = json.loads(body)['id']
        status, body = self.curl(
            '-X', 'PUT', '%s/v2/images/%s/file' % (url, image_id),
            '-H', 'Content-Type: application/octet-stream',
            '--data-binary', '@' + path)
        self.assertEqual(204, status, body)
        status, body = self.curl('%s/v2/images/%s/file' % (url, image_id))

        self.assertEqual(200, status)
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         hashlib.sha512(body).hexdigest())


class TestTokenDuringUpload(base.KeystoneServerTestCase):

    def wait_for_saving(self, client, image_id, timeout=10):
        """Until the upload claimed the image: its token was validated."""
        deadline = time.monotonic() + timeout
        while client.get('/v2/images/%s' % image_id).json()['status'] != (
                'saving'):
            if time.monotonic() > deadline:
                self.fail('the upload never started')
            time.sleep(0.02)

    def test_token_revoked_mid_upload_does_not_lose_the_upload(self):
        # auth_token validated the token when the request began; nothing
        # checks it again while the bytes move or when the image is
        # recorded (Glance's final save can fail with 401 there).
        owner = self.client('alpha-member')
        image_id = owner.create_image(name='long-upload').json()['id']
        token = self.keystone.server.authenticate('alpha-member')[0]
        payload = http_client.Payload(2 * units.Mi)
        chunks = list(payload)
        conn = self.server.client().begin(
            'PUT', '/v2/images/%s/file' % image_id, headers={
                'X-Auth-Token': token, 'Content-Length': str(payload.size),
                'Content-Type': http_client.OCTET_STREAM})
        self.addCleanup(conn.close)
        half = len(chunks) // 2
        for chunk in chunks[:half]:
            conn.send(chunk)
        self.wait_for_saving(owner, image_id)

        self.keystone.server.revoke(token)
        for chunk in chunks[half:]:
            conn.send(chunk)

        self.assertEqual(204, conn.getresponse().status)
        image = owner.get('/v2/images/%s' % image_id).json()
        self.assertEqual(('active', payload.sha512),
                         (image['status'], image['os_hash_value']))
