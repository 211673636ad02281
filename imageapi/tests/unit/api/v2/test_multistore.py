"""Several stores at once (Glance's multi-store) through the real paste app.

Two file stores, ``fast`` (the default) and ``slow``, each in its own directory.
"""

import os

import sqlalchemy as sa

from imageapi.conf import store as store_conf
from imageapi.db import api as db_api
from imageapi.db import query as db_query
from imageapi.tests.unit.api.v2 import test_image_data

PROJECT = test_image_data.PROJECT
ADMIN = {'X-Roles': 'admin'}


class MultiStoreTest(test_image_data.ImageDataTestCase):

    def setUp(self):
        super().setUp()
        self.dirs = {}
        for store_id in ('fast', 'slow'):
            store_conf.register_backend_opts(self.conf, store_id, 'file')
            self.dirs[store_id] = os.path.join(self.state_path, store_id)
            self.flags(filesystem_store_datadir=self.dirs[store_id],
                       store_description='%s disks' % store_id,
                       group=store_id)
        self.flags(weight=10, group='slow')
        self.flags(enabled_backends={'fast': 'file', 'slow': 'file'})
        self.flags(default_backend='fast', group='glance_store')
        self.app = self.load_paste_app()

    def files(self, store_id):
        path = self.dirs[store_id]
        return sorted(n for n in os.listdir(path) if n != '.tmp') \
            if os.path.isdir(path) else []

    def show(self, image_id):
        return self.request('GET', '/v2/images/%s' % image_id).json

    def add_location(self, image_id, store_id, data):
        """A second copy, as copy-image would make it."""
        path = os.path.join(self.dirs[store_id], image_id)
        os.makedirs(self.dirs[store_id], exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
        with db_api.get_engine().begin() as conn:
            conn.execute(sa.insert(db_query.LOCATIONS).values(
                image_id=image_id, value='file://' + path,
                meta_data='{"store": "%s"}' % store_id, status='active'))

    # ------------------------------------------------------------ upload
    def test_upload_without_header_goes_to_default_store(self):
        image_id = self.create()

        self.assertEqual(204, self.upload(image_id, b'data').status_int)

        self.assertEqual([image_id], self.files('fast'))
        self.assertEqual([], self.files('slow'))
        self.assertEqual('fast', self.show(image_id)['stores'])

    def test_upload_with_store_header_goes_there(self):
        image_id = self.create()

        resp = self.upload(image_id, b'data',
                           headers={'X-Image-Meta-Store': 'slow'})

        self.assertEqual(204, resp.status_int)
        self.assertEqual([image_id], self.files('slow'))
        self.assertEqual('slow', self.show(image_id)['stores'])

    def test_upload_to_unknown_store_400_and_queued(self):
        image_id = self.create()

        resp = self.upload(image_id, b'data',
                           headers={'X-Image-Meta-Store': 'nowhere'})

        self.assertEqual(400, resp.status_int)
        self.assertIn("Unknown scheme 'nowhere'", resp.json['message'])
        self.assertEqual('queued', self.image(image_id)['status'])

    # ---------------------------------------------------------- download
    def test_download_prefers_heavier_store_and_falls_back(self):
        image_id = self.create()
        self.upload(image_id, b'fast copy')
        self.add_location(image_id, 'slow', b'slow copy')

        first = self.request('GET', '/v2/images/%s/file' % image_id)
        os.unlink(os.path.join(self.dirs['slow'], image_id))
        second = self.request('GET', '/v2/images/%s/file' % image_id)

        self.assertEqual(b'slow copy', first.body)  # weight 10 beats 0
        self.assertEqual(b'fast copy', second.body)
        self.assertEqual('fast,slow', self.show(image_id)['stores'])

    # --------------------------------------------------------- discovery
    def test_info_stores_lists_ids_descriptions_default(self):
        resp = self.request('GET', '/v2/info/stores')

        self.assertEqual(200, resp.status_int)
        self.assertEqual(
            [{'id': 'fast', 'description': 'fast disks', 'default': 'true'},
             {'id': 'slow', 'description': 'slow disks'}],
            resp.json['stores'])

    def test_info_stores_detail_admin_only(self):
        member = self.request('GET', '/v2/info/stores/detail')
        admin = self.request('GET', '/v2/info/stores/detail', headers=ADMIN)

        self.assertEqual(403, member.status_int)
        self.assertEqual(200, admin.status_int)
        slow = admin.json['stores'][1]
        self.assertEqual(('slow', 'file', 10),
                         (slow['id'], slow['type'], slow['weight']))
        self.assertEqual(self.dirs['slow'], slow['properties']['data_dir'])

    def test_create_response_names_store_ids(self):
        resp = self.request('POST', '/v2/images', b'{}',
                            content_type='application/json')

        self.assertEqual(201, resp.status_int)
        self.assertEqual('fast,slow',
                         resp.headers['OpenStack-image-store-ids'])

    # ------------------------------------------------- delete from store
    def test_delete_from_store_removes_that_copy_only(self):
        image_id = self.create()
        self.upload(image_id, b'data')
        self.add_location(image_id, 'slow', b'data')

        member = self.request('DELETE', '/v2/stores/slow/%s' % image_id)
        resp = self.request('DELETE', '/v2/stores/slow/%s' % image_id,
                            headers=ADMIN)

        self.assertEqual(403, member.status_int)  # Glance: admin only
        self.assertEqual(204, resp.status_int)
        self.assertEqual([], self.files('slow'))
        self.assertEqual([image_id], self.files('fast'))
        self.assertEqual('fast', self.show(image_id)['stores'])

    def test_delete_from_store_last_copy_409(self):
        image_id = self.create()
        self.upload(image_id, b'data')

        resp = self.request('DELETE', '/v2/stores/fast/%s' % image_id,
                            headers=ADMIN)

        self.assertEqual(409, resp.status_int)
        self.assertEqual([image_id], self.files('fast'))

    def test_delete_from_store_not_there_or_unknown_404(self):
        image_id = self.create()
        self.upload(image_id, b'data')

        for path in ('/v2/stores/slow/%s', '/v2/stores/nowhere/%s'):
            resp = self.request('DELETE', path % image_id, headers=ADMIN)
            self.assertEqual(404, resp.status_int, path)

    def test_delete_image_removes_every_copy(self):
        image_id = self.create()
        self.upload(image_id, b'data')
        self.add_location(image_id, 'slow', b'data')

        self.assertEqual(204, self.request(
            'DELETE', '/v2/images/%s' % image_id).status_int)

        self.assertEqual([], self.files('fast') + self.files('slow'))


class SingleStoreTest(test_image_data.ImageDataTestCase):

    def test_info_stores_404_without_multi_store(self):
        for path in ('/v2/info/stores', '/v2/info/stores/detail'):
            resp = self.request('GET', path, headers={'X-Roles': 'admin'})
            self.assertEqual(404, resp.status_int, path)
            self.assertIn('Multi backend is not supported',
                          resp.json['message'])

    def test_image_has_no_stores_field(self):
        image_id = self.create()
        self.upload(image_id, b'data')

        image = self.request('GET', '/v2/images/%s' % image_id).json
        self.assertNotIn('stores', image)
