"""The user journey of a Glance client against the real imageapi-api, over HTTP."""

import hashlib
import os
import urllib.parse

from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client

_DATA = b'imageapi functional test data\n' * 100


class TestVersions(base.ServerTestCase):

    def test_root_lists_versions_with_300(self):
        response = self.client.get('/')
        self.assertStatus(300, response)
        self.assertEqual(http_client.JSON,
                         response.headers['Content-Type'].split(';')[0])
        versions = {v['id']: v for v in response.json()['versions']}
        self.assertIn('v2.0', versions)
        current = [v for v in versions.values() if v['status'] == 'CURRENT']
        self.assertEqual(1, len(current))
        self.assertEqual('%s/v2/' % self.server.url,
                         current[0]['links'][0]['href'])

    def test_versions_path_gives_200(self):
        response = self.client.get('/versions')
        self.assertStatus(200, response)
        self.assertEqual(self.client.get('/').json(), response.json())


class TestImageJourney(base.ServerTestCase):

    def _check_active(self, image_id, data):
        image = self.show_image(image_id)
        self.assertEqual('active', image['status'])
        self.assertEqual(len(data), image['size'])
        self.assertEqual(hashlib.md5(data, usedforsecurity=False).hexdigest(),
                         image['checksum'])
        self.assertEqual('sha512', image['os_hash_algo'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         image['os_hash_value'])
        row = self.image_row(image_id)
        self.assertEqual('active', row['status'])
        self.assertEqual(len(data), row['size'])
        self.assertEqual(image['os_hash_value'], row['os_hash_value'])
        with open(self.image_path(image_id), 'rb') as stored:
            self.assertEqual(data, stored.read())
        self.assertEqual([], self.temp_files())

        response = self.client.download(image_id)
        self.assertStatus(200, response)
        self.assertEqual(data, response.body)
        self.assertEqual(str(len(data)), response.headers['Content-Length'])
        self.assertEqual(http_client.OCTET_STREAM,
                         response.headers['Content-Type'])
        return image

    def test_create_show_update_upload_download_delete(self):
        # create
        response = self.client.create_image(name='cirros', tags=['one'],
                                            os_distro='cirros')
        self.assertStatus(201, response)
        image = response.json()
        image_id = image['id']
        self.assertEqual('queued', image['status'])
        self.assertEqual('cirros', image['name'])
        self.assertEqual(['one'], image['tags'])
        self.assertEqual('cirros', image['os_distro'])
        self.assertEqual('/v2/images/%s' % image_id, image['self'])
        self.assertEqual('/v2/images/%s/file' % image_id, image['file'])
        self.assertEqual(self.server.url + image['self'],
                         response.headers['Location'])
        self.assertEqual('queued', self.image_row(image_id)['status'])

        # show and list
        self.assertEqual(image, self.show_image(image_id))
        response = self.client.get('/v2/images')
        self.assertStatus(200, response)
        self.assertEqual([image_id],
                         [i['id'] for i in response.json()['images']])

        # update with both JSON patch media types
        response = self.client.patch('/v2/images/%s' % image_id, [
            {'op': 'replace', 'path': '/name', 'value': 'cirros-0.6'},
            {'op': 'add', 'path': '/hw_disk_bus', 'value': 'scsi'}])
        self.assertStatus(200, response)
        self.assertEqual('cirros-0.6', response.json()['name'])
        self.assertEqual('scsi', response.json()['hw_disk_bus'])
        response = self.client.patch(
            '/v2/images/%s' % image_id,
            [{'replace': '/min_ram', 'value': 64},
             {'remove': '/hw_disk_bus'}],
            media_type=http_client.PATCH_V20)
        self.assertStatus(200, response)
        self.assertEqual(64, response.json()['min_ram'])
        self.assertNotIn('hw_disk_bus', response.json())

        # tags
        self.assertStatus(204, self.client.put(
            '/v2/images/%s/tags/two' % image_id))
        self.assertStatus(204, self.client.delete(
            '/v2/images/%s/tags/one' % image_id))
        self.assertEqual(['two'], self.show_image(image_id)['tags'])

        # upload, then the data and the hashes
        response = self.client.upload(image_id, _DATA)
        self.assertStatus(204, response)
        self.assertEqual(b'', response.body)
        self._check_active(image_id, _DATA)

        # delete
        self.assertStatus(204, self.client.delete('/v2/images/%s' % image_id))
        self.assertStatus(404, self.client.get('/v2/images/%s' % image_id))
        self.assertStatus(404, self.client.download(image_id))
        self.assertFalse(os.path.exists(self.image_path(image_id)))
        self.assertEqual([], self.client.get('/v2/images').json()['images'])

    def test_chunked_upload_without_content_length(self):
        image = self.create_image(name='chunked')
        payload = http_client.Payload(300 * 1024 + 17, chunk_size=8192)
        response = self.client.upload(image['id'], payload, chunked=True)
        self.assertStatus(204, response)
        self._check_active(image['id'], payload.data())

    def test_streamed_upload_with_content_length(self):
        image = self.create_image(name='streamed')
        payload = http_client.Payload(1024 * 1024 + 3)
        response = self.client.upload(image['id'], payload)
        self.assertStatus(204, response)
        shown = self.show_image(image['id'])
        self.assertEqual(payload.size, shown['size'])
        self.assertEqual(payload.md5, shown['checksum'])
        self.assertEqual(payload.sha512, shown['os_hash_value'])
        response, size, md5, sha512 = self.client.download_digests(
            image['id'])
        self.assertEqual(200, response.status)
        self.assertEqual((payload.size, payload.md5, payload.sha512),
                         (size, md5, sha512))

    def test_upload_sent_by_hand_in_chunks(self):
        image = self.create_image(name='by-hand')
        conn = self.client.begin(
            'PUT', '/v2/images/%s/file' % image['id'],
            headers={'Content-Type': http_client.OCTET_STREAM,
                     'Transfer-Encoding': 'chunked'})
        self.addCleanup(conn.close)
        for piece in (_DATA[:10], _DATA[10:1000], _DATA[1000:]):
            conn.send(http_client.chunk_frame(piece))
        conn.send(http_client.chunk_frame(b''))
        response = conn.getresponse()
        self.assertEqual(204, response.status)
        self._check_active(image['id'], _DATA)


class TestImageList(base.ServerTestCase):

    def test_paging_follows_next_links(self):
        created = {self.create_image(name='image-%d' % i)['id']
                   for i in range(5)}
        seen = []
        path = '/v2/images?limit=2'
        pages = 0
        while path:
            response = self.client.get(path)
            self.assertStatus(200, response)
            body = response.json()
            self.assertLessEqual(len(body['images']), 2)
            seen.extend(image['id'] for image in body['images'])
            self.assertEqual('/v2/images?limit=2', body['first'])
            path = body.get('next')
            if path:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(
                    path).query)
                self.assertEqual(['2'], query['limit'])
                self.assertEqual([seen[-1]], query['marker'])
            pages += 1
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(created, set(seen))
        self.assertIn(pages, (3, 4))

    def test_filter_by_name(self):
        self.create_image(name='wanted')
        self.create_image(name='other')
        response = self.client.get('/v2/images?name=wanted')
        self.assertStatus(200, response)
        self.assertEqual(['wanted'],
                         [i['name'] for i in response.json()['images']])


class TestErrors(base.ServerTestCase):

    def assertFault(self, status, response):
        self.assertStatus(status, response)
        self.assertEqual(http_client.JSON,
                         response.headers['Content-Type'].split(';')[0])
        body = response.json()
        self.assertTrue(body['code'].startswith('%d ' % status), body)
        self.assertIsInstance(body['message'], str)
        self.assertNotIn('Traceback', response.body.decode('utf-8'))
        return body

    def test_glanceclient_gets_faults_it_can_read(self):
        # python-glanceclient sends Accept: */* and reads a JSON fault only
        # in Glance's nested form; for HTML it strips the tags.
        response = self.client.get(
            '/v2/images/8c4e5a0e-54e5-4e1f-8d3b-2a59fd6c5a01',
            headers={'Accept': '*/*'})

        self.assertStatus(404, response)
        self.assertEqual('text/html',
                         response.headers['Content-Type'].split(';')[0])
        self.assertIn('<h1>404 Not Found</h1>', response.body.decode())
        self.assertIn('No image found with ID 8c4e5a0e', response.body.decode())

    def test_unknown_image_is_404(self):
        self.assertFault(404, self.client.get(
            '/v2/images/8c4e5a0e-54e5-4e1f-8d3b-2a59fd6c5a01'))

    def test_unknown_path_is_404(self):
        self.assertFault(404, self.client.get('/v2/nothing-here'))

    def test_wrong_method_is_405_with_allow(self):
        response = self.client.request('PUT', '/v2/images')
        self.assertFault(405, response)
        self.assertEqual('GET, POST', response.headers['Allow'])

    def test_malformed_json_is_400(self):
        response = self.client.post(
            '/v2/images', body=b'{"name": ',
            headers={'Content-Type': http_client.JSON})
        self.assertFault(400, response)

    def test_upload_wrong_content_type_is_415(self):
        image = self.create_image(name='x')
        self.assertFault(415, self.client.upload(
            image['id'], _DATA, content_type='text/plain'))
        self.assertEqual('queued', self.show_image(image['id'])['status'])

    def test_upload_to_active_image_is_409(self):
        image = self.create_image(name='x')
        self.assertStatus(204, self.client.upload(image['id'], _DATA))
        self.assertFault(409, self.client.upload(image['id'], b'other'))
        self.assertEqual(len(_DATA), self.show_image(image['id'])['size'])

    def test_unsupported_patch_media_type_is_415(self):
        image = self.create_image(name='x')
        response = self.client.patch(
            '/v2/images/%s' % image['id'],
            [{'op': 'replace', 'path': '/name', 'value': 'y'}],
            media_type=http_client.JSON)
        self.assertFault(415, response)


class TestStatePath(base.ServerTestCase):

    def test_database_and_images_live_under_state_path(self):
        self.assertTrue(os.path.isfile(self.db_path))
        image = self.create_image(name='isolated')
        self.assertStatus(204, self.client.upload(image['id'], _DATA))
        self.assertEqual([image['id']],
                         [n for n in os.listdir(self.datadir) if n != '.tmp'])
        self.assertEqual([], self.temp_files())
        self.assertEqual(['imageapi.sqlite', 'images'],
                         sorted(name for name in os.listdir(self.state_path)
                                if not name.startswith('imageapi.sqlite-')))


class TestDeactivation(base.ServerTestCase):
    """An operator pulls an image with deactivate and puts it back."""

    def test_deactivate_blocks_member_download_until_reactivate(self):
        image = self.create_image(disk_format='raw', container_format='bare',
                                  visibility='public')
        image_id = image['id']
        path = '/v2/images/%s' % image_id
        self.assertStatus(204, self.client.upload(image_id, _DATA))
        member = self.server.client(headers={'X-Roles': 'member',
                                             'X-Project-Id': 'other'})

        self.assertStatus(403, member.post(path + '/actions/deactivate'))
        self.assertStatus(204, self.client.post(path + '/actions/deactivate'))
        self.assertEqual('deactivated', self.show_image(image_id)['status'])
        self.assertEqual('deactivated', self.image_row(image_id)['status'])
        refused = member.download(image_id)
        self.assertStatus(403, refused)
        self.assertIn(b'deactivated', refused.body)
        as_admin = self.client.download(image_id)
        self.assertStatus(200, as_admin)
        self.assertEqual(_DATA, as_admin.body)
        # The data stays in the store while the image is deactivated.
        with open(self.image_path(image_id), 'rb') as stored:
            self.assertEqual(_DATA, stored.read())

        self.assertStatus(204, self.client.post(path + '/actions/reactivate'))
        self.assertEqual('active', self.show_image(image_id)['status'])
        again = member.download(image_id)
        self.assertStatus(200, again)
        self.assertEqual(_DATA, again.body)

    def test_deactivate_queued_image_is_403(self):
        image_id = self.create_image(disk_format='raw',
                                     container_format='bare')['id']

        response = self.client.post('/v2/images/%s/actions/deactivate'
                                    % image_id)

        self.assertStatus(403, response)
        self.assertEqual('queued', self.image_row(image_id)['status'])
