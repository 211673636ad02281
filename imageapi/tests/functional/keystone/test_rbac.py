"""Glance's secure-RBAC defaults over real tokens: roles on every call, and visibility.

Reader, member and admin tokens on every images, data and members call, and who sees which
image under each of the four visibilities.
"""

from imageapi.tests.functional.keystone import base

DATA = b'imageapi rbac test data'


# Member ids need not be keystone projects, as in Glance.
OLD_MEMBER = 'gamma-project-id'
NEW_MEMBER = 'delta-project-id'


class _ImageOfAlpha(base.KeystoneServerTestCase):
    """Every test starts with an active image of alpha, shared with OLD_MEMBER.

    OLD_MEMBER is not beta, so beta must not see the image.
    """

    def setUp(self):
        super().setUp()
        self.owner = self.client('alpha-member')
        self.image = self.owner.create_image(name='alpha-image').json()
        self.path = '/v2/images/%s' % self.image['id']
        self.assertStatus(204, self.owner.upload(self.image['id'], DATA))
        self.assertStatus(200, self.owner.post(
            self.path + '/members', json={'member': OLD_MEMBER}))

    def calls(self, client):
        """(name, response) of each call on the image, read calls first."""
        image_id = self.image['id']
        new = self.owner.create_image(name='scratch').json()
        rename = [{'op': 'replace', 'path': '/name', 'value': 'renamed'}]
        members = self.path + '/members'
        return [
            ('list', client.get('/v2/images')),
            ('show', client.get(self.path)),
            ('download', client.get(self.path + '/file')),
            ('list members', client.get(members)),
            ('create', client.create_image(name='new')),
            ('update', client.patch(self.path, rename)),
            ('add tag', client.put(self.path + '/tags/t1')),
            ('delete tag', client.delete(self.path + '/tags/t1')),
            ('upload', client.upload(new['id'], DATA)),
            ('add member', client.post(members,
                                       json={'member': NEW_MEMBER})),
            ('delete member', client.delete('%s/%s' % (members,
                                                       OLD_MEMBER))),
            ('deactivate', client.post(self.path + '/actions/deactivate')),
            ('reactivate', client.post(self.path + '/actions/reactivate')),
            ('delete', client.delete('/v2/images/%s' % image_id)),
        ]

    def assertCalls(self, expected, results):
        got = {name: response.status for name, response in results}
        self.assertEqual(expected, got)
        for _name, response in results:
            self.assertIsNotNone(response.request_id)


class TestRoles(_ImageOfAlpha):

    def test_reader_of_owner_project_reads_only(self):
        results = self.calls(self.client('alpha-reader'))

        self.assertCalls({
            'list': 200, 'show': 200, 'list members': 200, 'download': 200,
            'create': 403, 'update': 403, 'add tag': 403, 'delete tag': 403,
            'upload': 403, 'add member': 403, 'delete member': 403,
            'deactivate': 403, 'reactivate': 403, 'delete': 403}, results)

    def test_member_of_owner_project_does_everything(self):
        results = self.calls(self.client('alpha-member'))

        self.assertCalls({
            'list': 200, 'show': 200, 'download': 200, 'list members': 200,
            'create': 201, 'update': 200, 'add tag': 204, 'delete tag': 204,
            'upload': 204, 'add member': 200, 'delete member': 204,
            'deactivate': 403, 'reactivate': 403, 'delete': 204}, results)

    def test_admin_of_another_project_does_everything(self):
        results = self.calls(self.client('admin'))

        self.assertCalls({
            'list': 200, 'show': 200, 'download': 200, 'list members': 200,
            'create': 201, 'update': 200, 'add tag': 204, 'delete tag': 204,
            'upload': 204, 'add member': 200, 'delete member': 204,
            'deactivate': 204, 'reactivate': 204, 'delete': 204}, results)

    def test_member_of_other_project_gets_404_not_403(self):
        results = self.calls(self.client('beta-member'))

        # The image is not shared with beta: beta must not learn it
        # exists. It may create images of its own.
        self.assertCalls({
            'list': 200, 'show': 404, 'download': 404, 'list members': 404,
            'create': 201, 'update': 404, 'add tag': 404, 'delete tag': 404,
            'upload': 404, 'add member': 404, 'delete member': 404,
            'deactivate': 404, 'reactivate': 404, 'delete': 404}, results)

    def test_download_as_member_returns_data(self):
        response = self.client('alpha-member').download(self.image['id'])

        self.assertStatus(200, response)
        self.assertEqual(DATA, response.body)

    def test_member_publicize_returns_403_admin_200(self):
        public = [{'op': 'replace', 'path': '/visibility', 'value': 'public'}]

        self.assertStatus(403, self.owner.patch(self.path, public))
        self.assertStatus(200, self.client('admin').patch(self.path, public))

    def test_deactivated_image_downloads_for_admin_only(self):
        admin = self.client('admin')
        self.assertStatus(204, admin.post(self.path + '/actions/deactivate'))

        for name in ('alpha-member', 'alpha-reader'):
            self.assertStatus(403, self.client(name).download(
                self.image['id']))
        download = admin.download(self.image['id'])
        self.assertStatus(200, download)
        self.assertEqual(DATA, download.body)
        self.assertEqual('deactivated',
                         self.owner.get(self.path).json()['status'])

    def test_forged_identity_headers_are_ignored(self):
        forged = self.server.client(headers={
            'X-Auth-Token': self.keystone.token('beta-member'),
            'X-Roles': 'admin', 'X-Project-Id': self.project_id('alpha'),
            'X-Tenant-Id': self.project_id('alpha')})

        self.assertStatus(404, forged.get(self.path))
        created = forged.create_image(name='forged', visibility='public')
        self.assertStatus(403, created)


class TestVisibility(base.KeystoneServerTestCase):
    """beta's reader against images of alpha under each visibility."""

    def setUp(self):
        super().setUp()
        self.alpha = self.client('alpha-member')
        self.beta = self.client('beta-reader')

    def image_id(self, visibility, client=None):
        response = (client or self.alpha).create_image(
            name='%s-image' % visibility, visibility=visibility)
        self.assertStatus(201, response)
        return response.json()['id']

    def listed(self, client, query=''):
        response = client.get('/v2/images' + query)
        self.assertStatus(200, response)
        return {image['id'] for image in response.json()['images']}

    def test_public_seen_and_listed_by_other_project(self):
        image_id = self.image_id('public', client=self.client('admin'))

        self.assertStatus(200, self.beta.get('/v2/images/%s' % image_id))
        self.assertIn(image_id, self.listed(self.beta))

    def test_private_hidden_from_other_project(self):
        image_id = self.image_id('private')

        self.assertStatus(404, self.beta.get('/v2/images/%s' % image_id))
        self.assertNotIn(image_id, self.listed(self.beta, '?visibility=all'))

    def test_shared_hidden_until_shared_then_listed_once_accepted(self):
        image_id = self.image_id('shared')
        self.assertStatus(404, self.beta.get('/v2/images/%s' % image_id))

        self.assertStatus(200, self.alpha.post(
            '/v2/images/%s/members' % image_id,
            json={'member': self.project_id('beta')}))
        self.assertStatus(200, self.beta.get('/v2/images/%s' % image_id))
        self.assertNotIn(image_id, self.listed(self.beta))
        self.assertStatus(200, self.client('beta-member').put(
            '/v2/images/%s/members/%s' % (image_id, self.project_id('beta')),
            json={'status': 'accepted'}))

        self.assertIn(image_id, self.listed(self.beta))

    def test_community_seen_not_listed_by_default(self):
        image_id = self.image_id('community')

        self.assertStatus(200, self.beta.get('/v2/images/%s' % image_id))
        self.assertNotIn(image_id, self.listed(self.beta))
        self.assertIn(image_id, self.listed(self.beta,
                                            '?visibility=community'))
        self.assertIn(image_id, self.listed(self.alpha))

    def test_admin_lists_every_project_with_visibility_all(self):
        ids = {self.image_id(v) for v in ('private', 'shared', 'community')}

        listed = self.listed(self.client('admin'), '?visibility=all')

        self.assertLessEqual(ids, listed)

    def test_reader_of_owner_sees_private(self):
        image_id = self.image_id('private')

        self.assertIn(image_id, self.listed(self.client('alpha-reader')))


class TestUnauthenticated(base.KeystoneServerTestCase):

    def test_members_without_token_is_401(self):
        image_id = '8c0b6a53-1b2d-4a89-9c41-6d4f0a2c7e55'
        client = self.client()

        for response in (client.get('/v2/images/%s/members' % image_id),
                         client.get('/v2/info/usage'),
                         client.upload(image_id, DATA)):
            self.assertStatus(401, response)
            self.assertIn('Keystone uri=',
                          response.headers['WWW-Authenticate'])

    def test_schemas_need_a_token_too(self):
        self.assertStatus(401, self.client().get('/v2/schemas/member'))
        self.assertStatus(200, self.client('beta-reader').get(
            '/v2/schemas/member'))

    def test_expired_or_revoked_token_is_401(self):
        token = self.keystone.server.authenticate('alpha-member')[0]
        self.keystone.server.revoke(token)
        client = self.server.client(headers={'X-Auth-Token': token})

        self.assertStatus(401, client.get('/v2/images'))
