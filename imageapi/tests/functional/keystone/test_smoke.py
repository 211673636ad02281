"""imageapi-api with the real auth_token middleware against a real keystone."""

from imageapi.tests.functional.keystone import base


class TestKeystoneSmoke(base.KeystoneServerTestCase):

    def test_versions_without_token_is_300(self):
        self.assertStatus(300, self.client().get('/'))

    def test_images_without_token_is_401_with_keystone_uri(self):
        response = self.client().get('/v2/images')
        self.assertStatus(401, response)
        self.assertEqual('Keystone uri="%s"' % self.keystone.server.url,
                         response.headers['WWW-Authenticate'])

    def test_images_with_bad_token_is_401(self):
        client = self.server.client(headers={'X-Auth-Token': 'not-a-token'})
        self.assertStatus(401, client.get('/v2/images'))

    def test_images_with_member_token_is_200(self):
        response = self.client('alpha-member').get('/v2/images')
        self.assertStatus(200, response)
        self.assertEqual([], response.json()['images'])

    def test_create_as_member_owner_is_project(self):
        response = self.client('alpha-member').create_image(
            name='alpha-image', visibility='private')
        self.assertStatus(201, response)
        self.assertEqual(self.project_id('alpha'), response.json()['owner'])

    def test_private_image_hidden_from_other_project_reader(self):
        image = self.client('alpha-member').create_image(
            name='alpha-private', visibility='private').json()
        beta = self.client('beta-reader')
        self.assertStatus(404, beta.get('/v2/images/%s' % image['id']))
        listed = beta.get('/v2/images')
        self.assertStatus(200, listed)
        self.assertNotIn(image['id'],
                         [i['id'] for i in listed.json()['images']])

    def test_private_image_shown_to_owner_project_reader(self):
        image = self.client('alpha-member').create_image(
            name='alpha-private', visibility='private').json()
        response = self.client('alpha-reader').get(
            '/v2/images/%s' % image['id'])
        self.assertStatus(200, response)
        self.assertEqual(self.project_id('alpha'), response.json()['owner'])
