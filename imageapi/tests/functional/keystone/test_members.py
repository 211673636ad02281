"""Image sharing between two keystone projects: alpha shares, beta accepts or rejects."""

from imageapi.tests.functional.keystone import base


class TestMembers(base.KeystoneServerTestCase):

    def setUp(self):
        super().setUp()
        self.alpha = self.client('alpha-member')
        self.beta = self.client('beta-member')
        self.beta_id = self.project_id('beta')
        response = self.alpha.create_image(name='to-share')
        self.assertStatus(201, response)
        self.image_id = response.json()['id']
        self.members = '/v2/images/%s/members' % self.image_id
        self.member = '%s/%s' % (self.members, self.beta_id)

    def share(self):
        response = self.alpha.post(self.members,
                                   json={'member': self.beta_id})
        self.assertStatus(200, response)
        return response.json()

    def set_status(self, status, client=None):
        return (client or self.beta).put(self.member,
                                         json={'status': status})

    def listed(self, client, query=''):
        response = client.get('/v2/images' + query)
        self.assertStatus(200, response)
        return {image['id'] for image in response.json()['images']}

    def test_share_creates_pending_member(self):
        member = self.share()

        self.assertEqual((self.beta_id, self.image_id, 'pending'),
                         (member['member_id'], member['image_id'],
                          member['status']))
        self.assertNotIn(self.image_id, self.listed(self.beta))
        self.assertIn(self.image_id,
                      self.listed(self.beta, '?member_status=pending'))

    def test_member_accepts_and_lists_the_image(self):
        self.share()

        response = self.set_status('accepted')

        self.assertStatus(200, response)
        self.assertEqual('accepted', response.json()['status'])
        self.assertIn(self.image_id, self.listed(self.beta))
        self.assertIn(self.image_id, self.listed(self.client('beta-reader')))

    def test_member_rejects_and_the_image_leaves_its_list(self):
        self.share()
        self.assertStatus(200, self.set_status('accepted'))

        self.assertStatus(200, self.set_status('rejected'))

        self.assertNotIn(self.image_id, self.listed(self.beta))
        self.assertIn(self.image_id,
                      self.listed(self.beta, '?member_status=rejected'))
        self.assertStatus(200, self.beta.get('/v2/images/%s'
                                             % self.image_id))

    def test_owner_cannot_accept_for_the_member(self):
        self.share()

        self.assertStatus(403, self.set_status('accepted', self.alpha))

    def test_member_reader_cannot_accept(self):
        self.share()

        self.assertStatus(403, self.set_status(
            'accepted', self.client('beta-reader')))

    def test_member_sees_its_membership_and_cannot_share_on(self):
        self.share()

        listed = self.beta.get(self.members)
        self.assertStatus(200, listed)
        self.assertEqual([self.beta_id], [m['member_id'] for m in
                                          listed.json()['members']])
        self.assertStatus(403, self.beta.post(
            self.members, json={'member': self.project_id('alpha')}))

    def test_owner_unshares_and_the_member_loses_the_image(self):
        self.share()
        self.assertStatus(200, self.set_status('accepted'))

        self.assertStatus(204, self.alpha.delete(self.member))

        self.assertStatus(404, self.beta.get('/v2/images/%s'
                                             % self.image_id))
        self.assertStatus(404, self.beta.get(self.member))

    def test_private_image_takes_no_members(self):
        response = self.alpha.create_image(name='p', visibility='private')
        path = '/v2/images/%s/members' % response.json()['id']

        self.assertStatus(403, self.alpha.post(
            path, json={'member': self.beta_id}))

    def test_accepted_member_downloads_but_cannot_change(self):
        self.assertStatus(204, self.alpha.upload(self.image_id, b'bytes'))
        self.share()
        self.assertStatus(200, self.set_status('accepted'))

        self.assertEqual(b'bytes', self.beta.download(self.image_id).body)
        self.assertStatus(403, self.beta.delete('/v2/images/%s'
                                                % self.image_id))
