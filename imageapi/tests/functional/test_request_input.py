"""Malformed requests to the real imageapi-api: each gets the API's own 400, not a 500.

A path that is not UTF-8, bad chunk framing and a body cut short reach gunicorn's own
code (its URL decoding, its body readers), which ``webob.Request.blank`` never runs.
"""

import json
import socket

from imageapi.tests.functional import base
from imageapi.tests.functional import client as http_client


class TestMalformedRequests(base.ServerTestCase):

    def assertCleanLog(self):
        """Nothing logged as an error: the client was at fault."""
        log = self.server.log()
        self.assertNotIn('ERROR', log)
        self.assertNotIn('Traceback', log)

    def _send_json_head(self, method, path, headers):
        conn = self.client.begin(method, path, headers=headers)
        self.addCleanup(conn.close)
        return conn

    def test_path_not_utf8_is_json_400_with_request_id(self):
        image_id = self.create_image()['id']
        for path in ('/v2/images/%ff', '/v2/images/%ed%a0%80',
                     '/v2/images/%c0%af',
                     '/v2/images/%s/tags/%%ff' % image_id,
                     '/v2/images/%s/members/%%c0%%af' % image_id):
            response = self.client.get(path)

            self.assertStatus(400, response)
            body = response.json()
            self.assertEqual('The request path is not valid UTF-8.',
                             body['message'], path)
            self.assertEqual(response.request_id, body['request_id'])
        self.assertCleanLog()

    def test_json_body_with_malformed_chunked_framing_is_400(self):
        image_id = self.create_image()['id']
        for method, path, content_type in (
                ('POST', '/v2/images', http_client.JSON),
                ('PATCH', '/v2/images/%s' % image_id, http_client.PATCH_V21),
                ('POST', '/v2/images/%s/members' % image_id,
                 http_client.JSON)):
            conn = self._send_json_head(method, path, {
                'Content-Type': content_type,
                'Transfer-Encoding': 'chunked'})
            conn.send(http_client.chunk_frame(b'{"name": ') + b'zz\r\nnot hex')

            response = conn.getresponse()

            self.assertEqual(400, response.status, path)
            body = json.loads(response.read())
            self.assertIn('The client disconnected or sent a malformed body',
                          body['message'])
            self.assertTrue(body['request_id'].startswith('req-'))
        self.assertEqual([image_id], [i['id'] for i in self.client.get(
            '/v2/images').json()['images']])
        self.assertCleanLog()

    def test_json_body_cut_short_is_400_logged_at_info(self):
        conn = self._send_json_head('POST', '/v2/images', {
            'Content-Type': http_client.JSON, 'Content-Length': '100'})
        conn.send(b'{"name": "x"')
        # The client stops sending; the answer can still reach it.
        conn.sock.shutdown(socket.SHUT_WR)

        response = conn.getresponse()

        self.assertEqual(400, response.status)
        self.assertIn('The client disconnected',
                      json.loads(response.read())['message'])
        self.assertIn('INFO imageapi.api.middleware.fault', self.server.log())
        self.assertCleanLog()
        self.assertEqual([], self.client.get('/v2/images').json()['images'])
