"""Glance's policies of stage, import and the tasks API over real tokens.

Stage and import take modify_image (members of the owner's project), copy-image takes
copy_image (admins), the tasks API tasks_api_access (admins), an image's tasks
get_image; an image the caller cannot see is a 404 throughout.
"""

import time

from imageapi.tests.functional.keystone import base

DATA = b'imageapi import policy test data'


class TestImportPolicies(base.KeystoneServerTestCase):

    def setUp(self):
        super().setUp()
        self.owner = self.client('alpha-member')
        self.image_id = self.owner.create_image(name='imp').json()['id']
        self.path = '/v2/images/%s' % self.image_id

    def stage(self, client):
        return client.put(self.path + '/stage', body=DATA, headers={
            'Content-Type': 'application/octet-stream',
            'Content-Length': str(len(DATA))})

    def start_import(self, client, method='glance-direct'):
        return client.post(self.path + '/import',
                           json={'method': {'name': method}})

    def wait_active(self):
        deadline = time.monotonic() + 60
        while self.owner.get(self.path).json()['status'] != 'active':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_stage_reader_403_other_project_404_member_204(self):
        self.assertStatus(403, self.stage(self.client('alpha-reader')))
        self.assertStatus(404, self.stage(self.client('beta-member')))
        self.assertStatus(204, self.stage(self.owner))

    def test_import_reader_403_other_project_404_member_202(self):
        self.assertStatus(204, self.stage(self.owner))
        self.assertStatus(403, self.start_import(self.client('alpha-reader')))
        self.assertStatus(404, self.start_import(self.client('beta-member')))
        self.assertStatus(202, self.start_import(self.owner))
        self.wait_active()

    def test_copy_image_member_403(self):
        self.assertStatus(204, self.stage(self.owner))
        self.assertStatus(202, self.start_import(self.owner))
        self.wait_active()
        self.assertStatus(403, self.start_import(self.owner, 'copy-image'))
        # Past the policy, an admin meets the single store: Glance's 404.
        self.assertStatus(404, self.start_import(self.client('admin'),
                                                 'copy-image'))

    def test_image_tasks_reader_200_other_project_404(self):
        self.assertStatus(204, self.stage(self.owner))
        self.assertStatus(202, self.start_import(self.owner))
        self.wait_active()
        response = self.client('alpha-reader').get(self.path + '/tasks')
        self.assertStatus(200, response)
        self.assertEqual(1, len(response.json()['tasks']))
        self.assertStatus(404, self.client('beta-member').get(
            self.path + '/tasks'))

    def test_tasks_api_admin_only(self):
        self.assertStatus(204, self.stage(self.owner))
        self.assertStatus(202, self.start_import(self.owner))
        self.wait_active()
        task_id = self.owner.get(self.path + '/tasks').json()['tasks'][0][
            'id']
        for user in ('alpha-member', 'alpha-reader', 'beta-member'):
            client = self.client(user)
            self.assertStatus(403, client.get('/v2/tasks'))
            self.assertStatus(403, client.get('/v2/tasks/%s' % task_id))
        admin = self.client('admin')
        self.assertStatus(200, admin.get('/v2/tasks/%s' % task_id))
        self.assertIn(task_id, [t['id'] for t in admin.get(
            '/v2/tasks').json()['tasks']])
