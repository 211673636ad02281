"""Who may call what, and who sees which image, as Glance's default policy decides.

Reader, member and admin on each images and data call, and each of the four visibilities.
"""

import fixtures as pyfixtures
import webob

from imageapi.tests.unit.api.v2 import base

A = base.PROJECT_A
B = base.PROJECT_B


class RoleTest(base.APITestCase):
    """Calls on an image of PROJECT_A by PROJECT_A's reader, member, and admin."""

    def setUp(self):
        super().setUp()
        self.image = self.create_image(disk_format='raw',
                                       container_format='bare')
        self.path = self.image_path(self.image['id'])

    def call(self, method, path, roles, **kwargs):
        headers = dict(kwargs.pop('headers', {}), **{'X-Roles': roles})
        return self.api_request(method, path, headers=headers, **kwargs)

    def test_reader_may_list_and_show(self):
        self.assertEqual(200, self.call('GET', '/v2/images',
                                        'reader').status_int)
        self.assertEqual(200, self.call('GET', self.path, 'reader').status_int)

    def test_reader_create_returns_403(self):
        resp = self.call('POST', '/v2/images', 'reader', json_body={})

        self.assertFault(resp, 403, 'add_image')

    def test_reader_update_returns_403(self):
        resp = self.call('PATCH', self.path, 'reader', json_body=[
            {'op': 'replace', 'path': '/name', 'value': 'x'}],
            content_type=base.PATCH_V21)

        self.assertFault(resp, 403, 'modify_image')

    def test_reader_delete_returns_403_and_keeps_image(self):
        self.assertFault(self.call('DELETE', self.path, 'reader'), 403)
        self.show_image(self.image['id'])

    def test_reader_tag_returns_403(self):
        self.assertFault(self.call('PUT', self.path + '/tags/t', 'reader'),
                         403)

    def test_reader_upload_returns_403_and_image_queued(self):
        resp = self.call('PUT', self.path + '/file', 'reader', body=b'data',
                         content_type='application/octet-stream')

        self.assertFault(resp, 403, 'upload_image')
        self.assertEqual('queued', self.show_image(self.image['id'])['status'])

    def test_reader_may_download(self):
        self.activate_image(self.image['id'])

        resp = self.call('GET', self.path + '/file', 'reader')

        self.assertEqual(200, resp.status_int, resp.text)

    def test_member_may_upload_and_download(self):
        put = self.call('PUT', self.path + '/file', 'member', body=b'data',
                        content_type='application/octet-stream')
        get = self.call('GET', self.path + '/file', 'member')

        self.assertEqual(204, put.status_int, put.text)
        self.assertEqual(b'data', get.body)

    def test_member_may_update_and_delete(self):
        patch = self.call('PATCH', self.path, 'member', json_body=[
            {'op': 'replace', 'path': '/name', 'value': 'x'}],
            content_type=base.PATCH_V21)

        self.assertEqual(200, patch.status_int, patch.text)
        self.assertEqual(204, self.call('DELETE', self.path,
                                        'member').status_int)

    def test_member_publicize_returns_403(self):
        resp = self.call('PATCH', self.path, 'member', json_body=[
            {'op': 'replace', 'path': '/visibility', 'value': 'public'}],
            content_type=base.PATCH_V21)

        self.assertFault(resp, 403, 'publicize_image')

    def test_member_communitize_returns_200(self):
        resp = self.call('PATCH', self.path, 'member', json_body=[
            {'op': 'replace', 'path': '/visibility', 'value': 'community'}],
            content_type=base.PATCH_V21)

        self.assertEqual(200, resp.status_int, resp.text)

    def test_admin_of_other_project_may_update(self):
        resp = self.call('PATCH', self.path, 'admin', project=B, json_body=[
            {'op': 'replace', 'path': '/visibility', 'value': 'public'}],
            content_type=base.PATCH_V21)

        self.assertEqual(200, resp.status_int, resp.text)

    def test_custom_role_without_reader_cannot_list(self):
        self.assertFault(self.call('GET', '/v2/images', 'auditor'), 403,
                         'get_images')

    def test_policy_file_restores_glance_member_only_download(self):
        policy_file = self.useFixture(pyfixtures.TempDir()).join('p.yaml')
        with open(policy_file, 'w') as out:
            out.write('"download_image": "role:admin or (role:member and '
                      'project_id:%(project_id)s)"\n')
        self.flags(policy_file=policy_file, group='oslo_policy')
        self.app = self.load_app()
        self.activate_image(self.image['id'])

        self.assertFault(self.call('GET', self.path + '/file', 'reader'), 403)
        resp = self.call('GET', self.path + '/file', 'member')
        self.assertEqual(200, resp.status_int, resp.text)


class VisibilityTest(base.APITestCase):
    """PROJECT_B (a member-role user) against PROJECT_A's images."""

    def image_of_a(self, visibility):
        return self.create_image(visibility=visibility)['id']

    def listed(self, project=B, **params):
        query = '&'.join('%s=%s' % item for item in params.items())
        resp = self.api_get('/v2/images' + ('?' + query if query else ''),
                            project=project)
        self.assertEqual(200, resp.status_int, resp.text)
        return {image['id'] for image in resp.json['images']}

    def test_public_shown_and_listed_to_others(self):
        image_id = self.create_image(visibility='public', _admin=True)['id']

        self.assertEqual(200, self.api_get(self.image_path(image_id),
                                           project=B).status_int)
        self.assertIn(image_id, self.listed())

    def test_private_hidden_from_others_with_404(self):
        image_id = self.image_of_a('private')

        self.assertFault(self.api_get(self.image_path(image_id), project=B),
                         404)
        self.assertNotIn(image_id, self.listed())

    def test_private_write_by_others_returns_404_not_403(self):
        image_id = self.image_of_a('private')

        self.assertFault(self.api_delete(self.image_path(image_id),
                                         project=B), 404)

    def test_shared_without_membership_hidden_from_others(self):
        image_id = self.image_of_a('shared')

        self.assertFault(self.api_get(self.image_path(image_id), project=B),
                         404)
        self.assertNotIn(image_id, self.listed(member_status='all'))

    def test_community_shown_to_others_but_not_listed_by_default(self):
        image_id = self.image_of_a('community')

        self.assertEqual(200, self.api_get(self.image_path(image_id),
                                           project=B).status_int)
        self.assertNotIn(image_id, self.listed())
        self.assertIn(image_id, self.listed(visibility='community'))

    def test_community_listed_to_owner_by_default(self):
        image_id = self.image_of_a('community')

        self.assertIn(image_id, self.listed(project=A))

    def test_public_image_write_by_others_returns_403(self):
        image_id = self.create_image(visibility='public', _admin=True)['id']

        self.assertFault(self.api_delete(self.image_path(image_id),
                                         project=B), 403, 'delete_image')

    def test_visibility_filter_selects_only_that_visibility(self):
        private = self.image_of_a('private')
        shared = self.image_of_a('shared')

        self.assertEqual({private}, self.listed(project=A,
                                                visibility='private'))
        self.assertEqual({shared}, self.listed(project=A,
                                               visibility='shared'))
        self.assertEqual({private, shared},
                         self.listed(project=A, visibility='all'))

    def test_admin_lists_other_projects_images(self):
        image_id = self.image_of_a('private')

        resp = self.api_get('/v2/images', project=B, admin=True)

        self.assertIn(image_id, {i['id'] for i in resp.json['images']})

    def test_noauth_without_roles_is_admin(self):
        image_id = self.image_of_a('private')
        resp = webob.Request.blank(self.image_path(image_id), headers={
            'X-Project-Id': B}).get_response(self.app)

        self.assertEqual(200, resp.status_int, resp.text)


class ListPolicyTest(base.APITestCase):

    def test_policy_file_narrowing_get_image_filters_lists(self):
        kept = self.create_image(name='kept')['id']
        self.create_image(name='dropped')
        policy_file = self.useFixture(pyfixtures.TempDir()).join('p.yaml')
        with open(policy_file, 'w') as out:
            out.write('"get_image": "\\"kept\\":%(name)s"\n')
        self.flags(policy_file=policy_file, group='oslo_policy')
        self.app = self.load_app()

        resp = self.api_get('/v2/images')

        self.assertEqual([kept], [i['id'] for i in resp.json['images']])
