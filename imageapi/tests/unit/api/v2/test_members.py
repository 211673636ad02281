"""The image members API (sharing) and what membership does to visibility and lists."""

from imageapi.tests.unit.api.v2 import base

A = base.PROJECT_A
B = base.PROJECT_B
C = 'c1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6'
MEMBER_KEYS = {'member_id', 'image_id', 'status', 'created_at', 'updated_at',
               'schema'}


class MembersTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image(visibility='shared')['id']
        self.members = self.image_path(self.image_id) + '/members'

    def add(self, member=B, project=A, expect=200, **kwargs):
        resp = self.api_post(self.members, json_body={'member': member},
                             project=project, **kwargs)
        self.assertEqual(expect, resp.status_int, resp.text)
        return resp

    def set_status(self, status, member=B, project=B, **kwargs):
        return self.api_request('PUT', '%s/%s' % (self.members, member),
                                json_body={'status': status},
                                project=project, **kwargs)

    def listed(self, project=B, query=''):
        resp = self.api_get('/v2/images' + query, project=project)
        return {image['id'] for image in resp.json['images']}

    # ------------------------------------------------------------ create
    def test_add_member_returns_200_pending(self):
        body = self.add().json

        self.assertEqual(MEMBER_KEYS, set(body))
        self.assertEqual({'member_id': B, 'image_id': self.image_id,
                          'status': 'pending',
                          'schema': '/v2/schemas/member'},
                         {k: body[k] for k in ('member_id', 'image_id',
                                               'status', 'schema')})

    def test_add_member_twice_returns_409(self):
        self.add()

        self.assertFault(self.api_post(self.members,
                                       json_body={'member': B}), 409)

    def test_add_member_without_member_returns_400(self):
        self.assertFault(self.api_post(self.members, json_body={}), 400,
                         'Member to be added not specified')

    def test_add_empty_member_returns_400(self):
        self.assertFault(self.api_post(self.members,
                                       json_body={'member': ''}), 400,
                         "Member can't be empty")

    def test_add_member_to_private_image_returns_403(self):
        image_id = self.create_image(visibility='private')['id']

        resp = self.api_post(self.image_path(image_id) + '/members',
                             json_body={'member': B})

        self.assertFault(resp, 403, 'Only shared images have members')

    def test_add_member_by_reader_returns_403(self):
        resp = self.api_post(self.members, json_body={'member': B},
                             headers={'X-Roles': 'reader'})

        self.assertFault(resp, 403, 'add_member')

    def test_add_member_by_other_project_returns_404(self):
        resp = self.api_post(self.members, json_body={'member': C},
                             project=B)

        self.assertFault(resp, 404)

    def test_add_member_past_quota_returns_413(self):
        self.flags(image_member_quota=1)
        self.app = self.load_app()
        self.add()

        resp = self.api_post(self.members, json_body={'member': C})

        self.assertFault(resp, 413, 'image members')

    # ------------------------------------------------------------ status
    def test_member_accepts_then_image_listed(self):
        self.add()
        self.assertNotIn(self.image_id, self.listed())

        resp = self.set_status('accepted')

        self.assertEqual(200, resp.status_int, resp.text)
        self.assertEqual('accepted', resp.json['status'])
        self.assertIn(self.image_id, self.listed())

    def test_pending_member_can_show_image(self):
        self.add()

        resp = self.api_get(self.image_path(self.image_id), project=B)

        self.assertEqual(200, resp.status_int)

    def test_member_status_filter_lists_pending_and_rejected(self):
        self.add()
        self.assertIn(self.image_id,
                      self.listed(query='?member_status=pending'))
        self.set_status('rejected')

        self.assertNotIn(self.image_id, self.listed())
        self.assertIn(self.image_id,
                      self.listed(query='?member_status=rejected'))
        self.assertIn(self.image_id, self.listed(query='?member_status=all'))

    def test_owner_cannot_set_member_status(self):
        self.add()

        self.assertFault(self.set_status('accepted', project=A), 403,
                         'modify_member')

    def test_member_cannot_set_other_members_status(self):
        self.add()
        self.add(member=C)

        self.assertFault(self.set_status('accepted', member=C, project=B),
                         404)

    def test_invalid_status_returns_400(self):
        self.add()

        self.assertFault(self.set_status('maybe'), 400, 'Status must be')

    def test_missing_status_returns_400(self):
        self.add()

        resp = self.api_request('PUT', '%s/%s' % (self.members, B),
                                json_body={}, project=B)

        self.assertFault(resp, 400, 'Status not specified')

    def test_member_reader_cannot_accept(self):
        self.add()

        self.assertFault(self.set_status('accepted',
                                         headers={'X-Roles': 'reader'}), 403)

    # ------------------------------------------------------------ read
    def test_owner_lists_all_members(self):
        self.add()
        self.add(member=C)

        resp = self.api_get(self.members)

        self.assertEqual('/v2/schemas/members', resp.json['schema'])
        self.assertEqual([B, C], [m['member_id']
                                  for m in resp.json['members']])

    def test_member_lists_only_itself(self):
        self.add()
        self.add(member=C)

        resp = self.api_get(self.members, project=B)

        self.assertEqual([B], [m['member_id'] for m in resp.json['members']])

    def test_show_member_by_member(self):
        self.add()

        resp = self.api_get('%s/%s' % (self.members, B), project=B)

        self.assertEqual(B, resp.json['member_id'])

    def test_show_other_member_returns_404(self):
        self.add()
        self.add(member=C)

        self.assertFault(self.api_get('%s/%s' % (self.members, C),
                                      project=B), 404)

    def test_list_members_of_private_image_returns_403(self):
        image_id = self.create_image(visibility='private')['id']

        self.assertFault(self.api_get(self.image_path(image_id) +
                                      '/members'), 403)

    def test_non_member_lists_members_404(self):
        self.assertFault(self.api_get(self.members, project=C), 404)

    # ------------------------------------------------------------ delete
    def test_owner_removes_member_then_hidden(self):
        self.add()
        self.set_status('accepted')

        resp = self.api_delete('%s/%s' % (self.members, B))

        self.assertEqual(204, resp.status_int)
        self.assertFault(self.api_get(self.image_path(self.image_id),
                                      project=B), 404)

    def test_member_cannot_remove_itself(self):
        self.add()

        self.assertFault(self.api_delete('%s/%s' % (self.members, B),
                                         project=B), 403, 'delete_member')

    def test_delete_unknown_member_returns_404(self):
        self.assertFault(self.api_delete('%s/%s' % (self.members, C)), 404)

    # ------------------------------------------------------------ visibility
    def test_image_made_private_hides_it_from_members(self):
        self.add()
        self.set_status('accepted')
        self.api_patch(self.image_path(self.image_id),
                       {'op': 'replace', 'path': '/visibility',
                        'value': 'private'})

        self.assertFault(self.api_get(self.image_path(self.image_id),
                                      project=B), 404)
        self.assertNotIn(self.image_id, self.listed())

    def test_member_cannot_modify_shared_image(self):
        self.add()
        self.set_status('accepted')

        resp = self.api_patch(self.image_path(self.image_id),
                              {'op': 'replace', 'path': '/name',
                               'value': 'x'}, project=B)

        self.assertFault(resp, 403, 'modify_image')

    def test_accepted_member_may_download(self):
        self.activate_image(self.image_id, b'shared bytes')
        self.add()
        self.set_status('accepted')

        resp = self.api_get(self.image_path(self.image_id) + '/file',
                            project=B)

        self.assertEqual(b'shared bytes', resp.body)


class MemberSchemaTest(base.APITestCase):

    def test_member_schema_has_glance_properties(self):
        resp = self.api_get('/v2/schemas/member')

        self.assertEqual('member', resp.json['name'])
        self.assertEqual({'member_id', 'image_id', 'created_at',
                          'updated_at', 'status', 'schema'},
                         set(resp.json['properties']))
        self.assertEqual(['pending', 'accepted', 'rejected'],
                         resp.json['properties']['status']['enum'])

    def test_members_schema_wraps_member(self):
        resp = self.api_get('/v2/schemas/members')

        self.assertEqual('members', resp.json['name'])
        self.assertEqual('member', resp.json['properties']['members']
                         ['items']['name'])


class UsageTest(base.APITestCase):

    def test_usage_without_keystone_limits_is_empty(self):
        resp = self.api_get('/v2/info/usage')

        self.assertEqual({'usage': {}}, resp.json)
