"""Tag, property and member quotas under concurrent requests, on a file SQLite.

issue 19: the quotas were checked against a read made before the write, so 20 parallel
adds all passed a quota of 5. PostgreSQL and MySQL are covered in
tests/unit/db/test_images.py (ConcurrentChanges).
"""

import concurrent.futures

from imageapi.tests.unit.api.v2 import test_image_data

QUOTA = 5
ADDS = 20


class QuotaRaceTest(test_image_data.ImageDataTestCase):

    def setUp(self):
        super().setUp()
        self.flags(image_tag_quota=QUOTA, image_property_quota=QUOTA,
                   image_member_quota=QUOTA)
        self.app = self.load_paste_app()
        self.image_id = self.create()

    def in_parallel(self, send):
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            return [resp.status_int for resp in pool.map(send, range(ADDS))]

    def test_parallel_tag_adds_never_pass_quota(self):
        statuses = self.in_parallel(lambda i: self.request(
            'PUT', '/v2/images/%s/tags/t%d' % (self.image_id, i)))

        self.assertEqual(QUOTA, statuses.count(204), statuses)
        self.assertEqual(ADDS - QUOTA, statuses.count(413), statuses)
        self.assertEqual(QUOTA, len(self.image(self.image_id)['tags']))

    def test_parallel_property_adds_never_pass_quota(self):
        statuses = self.in_parallel(lambda i: self.request(
            'PATCH', '/v2/images/%s' % self.image_id,
            b'[{"op": "add", "path": "/p%d", "value": "v"}]' % i,
            content_type='application/openstack-images-v2.1-json-patch'))

        self.assertEqual(QUOTA, statuses.count(200), statuses)
        self.assertEqual(QUOTA,
                         len(self.image(self.image_id)['properties']))

    def test_parallel_member_adds_never_pass_quota(self):
        self.request('PATCH', '/v2/images/%s' % self.image_id,
                     b'[{"op": "replace", "path": "/visibility", '
                     b'"value": "shared"}]',
                     content_type='application/openstack-images-v2.1-'
                                  'json-patch')
        statuses = self.in_parallel(lambda i: self.request(
            'POST', '/v2/images/%s/members' % self.image_id,
            b'{"member": "member-%d"}' % i,
            content_type='application/json'))

        self.assertEqual(QUOTA, statuses.count(200), statuses)
        self.assertEqual(ADDS - QUOTA, statuses.count(413), statuses)
