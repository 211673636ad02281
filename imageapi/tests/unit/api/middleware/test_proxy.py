"""http_proxy_to_wsgi and cors at the front of the paste pipelines."""

from imageapi.tests.unit.api.v2 import base

_FORWARDED = {'X-Forwarded-Proto': 'https',
              'X-Forwarded-Host': 'images.example.org'}


class ProxyHeadersTest(base.APITestCase):

    def create_location(self, headers):
        resp = self.api_post('/v2/images', json_body={'name': 'x'},
                             headers=headers)
        self.assertEqual(201, resp.status_int, resp.text)
        return resp.headers['Location']

    def test_forwarded_headers_ignored_by_default(self):
        location = self.create_location(_FORWARDED)

        self.assertTrue(location.startswith('http://localhost/v2/images/'),
                        location)

    def test_forwarded_headers_used_when_enabled(self):
        self.flags(enable_proxy_headers_parsing=True,
                   group='oslo_middleware')
        self.app = self.load_app()

        location = self.create_location(_FORWARDED)

        self.assertTrue(
            location.startswith('https://images.example.org/v2/images/'),
            location)

    def test_forwarded_headers_used_in_version_links(self):
        self.flags(enable_proxy_headers_parsing=True,
                   group='oslo_middleware')
        self.app = self.load_app()

        resp = self.api_get('/versions', headers=_FORWARDED)

        self.assertIn('https://images.example.org/v2/',
                      [link['href'] for version in resp.json['versions']
                       for link in version['links']])


class CORSTest(base.APITestCase):

    def preflight(self):
        return self.api_request(
            'OPTIONS', '/v2/images', headers={
                'Origin': 'https://dash.example.org',
                'Access-Control-Request-Method': 'GET'})

    def test_preflight_from_allowed_origin_answered(self):
        self.flags(allowed_origin=['https://dash.example.org'], group='cors')
        self.app = self.load_app()

        resp = self.preflight()

        self.assertEqual(200, resp.status_int)
        self.assertEqual('https://dash.example.org',
                         resp.headers['Access-Control-Allow-Origin'])

    def test_no_cors_headers_without_allowed_origin(self):
        resp = self.preflight()

        self.assertNotIn('Access-Control-Allow-Origin', resp.headers)
