"""Deactivate and reactivate: who may, from which status, and what a deactivated image allows."""

import os

import fixtures as pyfixtures

from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.tests.unit.api.v2 import base

A = base.PROJECT_A
B = base.PROJECT_B


class ImageActionsTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.image = self.create_image(disk_format='raw',
                                       container_format='bare')
        self.path = self.image_path(self.image['id'])

    def action(self, name, **kwargs):
        return self.api_post(self.path + '/actions/' + name, **kwargs)

    def status(self):
        return self.show_image(self.image['id'])['status']

    def test_deactivate_active_image_204_and_status_deactivated(self):
        self.activate_image(self.image['id'])

        resp = self.action('deactivate', admin=True)

        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual(b'', resp.body)
        self.assertEqual('deactivated', self.status())

    def test_reactivate_deactivated_image_204_and_status_active(self):
        self.activate_image(self.image['id'])
        self.action('deactivate', admin=True)

        resp = self.action('reactivate', admin=True)

        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual('active', self.status())

    def test_deactivate_twice_is_a_noop(self):
        self.activate_image(self.image['id'])
        self.action('deactivate', admin=True)

        resp = self.action('deactivate', admin=True)

        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual('deactivated', self.status())

    def test_reactivate_active_image_is_a_noop(self):
        self.activate_image(self.image['id'])

        resp = self.action('reactivate', admin=True)

        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual('active', self.status())

    def test_deactivate_queued_image_403_names_status(self):
        resp = self.action('deactivate', admin=True)

        self.assertFault(resp, 403,
                         "Not allowed to deactivate image in status 'queued'")
        self.assertEqual('queued', self.status())

    def test_reactivate_queued_image_403_names_status(self):
        resp = self.action('reactivate', admin=True)

        self.assertFault(resp, 403,
                         "Not allowed to reactivate image in status 'queued'")
        self.assertEqual('queued', self.status())

    def test_deactivate_saving_image_403(self):
        db_images.image_transition(self.context(admin=True), self.image['id'],
                                   db_api.QUEUED, db_api.SAVING)

        resp = self.action('deactivate', admin=True)

        self.assertFault(resp, 403, "in status 'saving'")
        self.assertEqual('saving', self.status())

    def test_member_of_owner_403_and_image_stays_active(self):
        self.activate_image(self.image['id'])

        resp = self.action('deactivate')

        self.assertFault(resp, 403, 'deactivate')
        self.assertEqual('active', self.status())

    def test_member_reactivate_403(self):
        self.activate_image(self.image['id'])
        self.action('deactivate', admin=True)

        resp = self.action('reactivate')

        self.assertFault(resp, 403, 'reactivate')
        self.assertEqual('deactivated', self.status())

    def test_other_project_gets_404_for_private_image(self):
        self.activate_image(self.image['id'])

        resp = self.action('deactivate', project=B)

        self.assertFault(resp, 404)
        self.assertEqual('active', self.status())

    def test_missing_and_deleted_image_404(self):
        missing = self.api_post(self.image_path(self.new_id()) +
                                '/actions/deactivate', admin=True)
        self.api_delete(self.path, admin=True)
        deleted = self.action('reactivate', admin=True)

        self.assertFault(missing, 404)
        self.assertFault(deleted, 404)

    def test_get_on_action_405_with_allow(self):
        resp = self.api_get(self.path + '/actions/deactivate', admin=True)

        self.assertFault(resp, 405)
        self.assertEqual('POST', resp.headers['Allow'])

    def test_policy_file_can_let_members_deactivate(self):
        self.activate_image(self.image['id'])
        path = os.path.join(self.state_path, 'policy.yaml')
        with open(path, 'w') as policy_file:
            policy_file.write('"deactivate": "role:member"\n')
        self.flags(policy_file=path, group='oslo_policy')
        self.app = self.load_app()

        resp = self.action('deactivate')

        self.assertEqual(204, resp.status_int, resp.text)

    def test_race_lost_to_the_same_change_is_204(self):
        # Deactivated between the read and the compare-and-swap: the
        # swap matches no row, and the status it finds is the target.
        self.activate_image(self.image['id'])
        real = db_images.image_get
        image_id = self.image['id']

        def read_then_deactivate(ctx, wanted):
            row = real(ctx, wanted)
            if row['status'] == 'active':
                db_images.image_transition(self.context(admin=True),
                                           image_id, db_api.ACTIVE,
                                           db_api.DEACTIVATED)
            return row
        self.useFixture(pyfixtures.MockPatchObject(
            db_images, 'image_get', side_effect=read_then_deactivate))

        resp = self.action('deactivate', admin=True)

        self.assertEqual(204, resp.status_int, resp.text)

    def test_race_lost_to_a_delete_is_404(self):
        self.activate_image(self.image['id'])
        real = db_images.image_get
        image_id = self.image['id']
        calls = []

        def read_then_delete(ctx, wanted):
            calls.append(wanted)
            row = real(ctx, wanted)
            if len(calls) == 1:
                db_images.image_destroy(self.context(admin=True), image_id)
            return row
        self.useFixture(pyfixtures.MockPatchObject(
            db_images, 'image_get', side_effect=read_then_delete))

        resp = self.action('deactivate', admin=True)

        self.assertFault(resp, 404)


class DeactivatedImageTest(base.APITestCase):
    """What a deactivated image still allows."""

    def setUp(self):
        super().setUp()
        self.image = self.create_image(disk_format='raw',
                                       container_format='bare',
                                       visibility='public', _admin=True)
        self.path = self.image_path(self.image['id'])
        self.activate_image(self.image['id'], data=b'pulled image')
        resp = self.api_post(self.path + '/actions/deactivate', admin=True)
        self.assertEqual(204, resp.status_int, resp.text)

    def test_download_by_non_admin_403(self):
        for project in (A, B):
            resp = self.api_get(self.path + '/file', project=project)

            self.assertFault(resp, 403, 'The requested image has been '
                             'deactivated. Image data download is forbidden.')

    def test_download_by_admin_200(self):
        resp = self.api_get(self.path + '/file', admin=True)

        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual(b'pulled image', resp.body)

    def test_shown_and_listed_as_deactivated(self):
        listed = self.api_get('/v2/images?status=deactivated', project=B)

        self.assertEqual('deactivated', self.show_image(self.image['id'],
                                                        admin=False)['status'])
        self.assertEqual([self.image['id']],
                         [i['id'] for i in listed.json['images']])

    def test_upload_409(self):
        resp = self.api_put(self.path + '/file', body=b'x', admin=True,
                            content_type='application/octet-stream')

        self.assertFault(resp, 409)

    def test_delete_removes_record_and_data(self):
        files_before = self.image_files()

        resp = self.api_delete(self.path, admin=True)

        self.assertEqual(204, resp.status_int, resp.text)
        self.assertEqual(1, len(files_before))
        self.assertEqual([], self.image_files())

    def test_reactivated_image_downloads_again(self):
        self.api_post(self.path + '/actions/reactivate', admin=True)

        resp = self.api_get(self.path + '/file', project=B)

        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual(b'pulled image', resp.body)

    def image_files(self):
        return [name for _, _, names in os.walk(self.datadir)
                for name in names if self.image['id'] in name]
