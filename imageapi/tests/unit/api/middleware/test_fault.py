"""Tests of the fault middleware: JSON faults with request ids, never a traceback."""

import logging
import re

import fixtures
import webob
import webob.dec

from imageapi.api.middleware import fault
from imageapi.api.v2 import images
from imageapi.common import exception
from imageapi.tests import base as test_base
from imageapi.tests.unit.api.v2 import base

_SECRET = 'password=hunter2 at /var/lib/imageapi/secret'


def _raise(exc):
    def _method(*args, **kwargs):
        raise exc
    return _method


class FaultThroughPipelineTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='imageapi.api.middleware.fault'))

    def _show_raising(self, exc):
        self.patch(images.ImagesController, 'show', _raise(exc))
        return self.api_get(self.image_path(self.new_id()))

    def test_unexpected_exception_returns_500(self):
        resp = self._show_raising(RuntimeError(_SECRET))

        self.assertFault(resp, 500)

    def test_unexpected_exception_returns_generic_message(self):
        body = self.assertFault(self._show_raising(RuntimeError(_SECRET)),
                                500)

        self.assertEqual('The server has either erred or is incapable of '
                         'performing the requested operation.',
                         body['message'])

    def test_unexpected_exception_text_is_not_sent(self):
        resp = self._show_raising(RuntimeError(_SECRET))

        self.assertNotIn('hunter2', resp.text)
        self.assertNotIn('RuntimeError', resp.text)

    def test_unexpected_exception_is_logged_with_traceback(self):
        self._show_raising(RuntimeError(_SECRET))

        self.assertIn('Unexpected error serving GET', self.log.output)
        self.assertIn('Traceback', self.log.output)

    def test_unexpected_exception_response_has_request_id(self):
        resp = self._show_raising(RuntimeError(_SECRET))

        self.assertTrue(resp.headers['x-openstack-request-id'].startswith(
            'req-'))

    def test_fault_body_request_id_matches_header(self):
        resp = self.api_get(self.image_path(self.new_id()))

        self.assertEqual(resp.headers['x-openstack-request-id'],
                         resp.json['request_id'])

    def test_fault_body_has_webob_code_title_message(self):
        resp = self.api_get(self.image_path(self.new_id()))

        body = self.assertFault(resp, 404)
        self.assertEqual('404 Not Found', body['code'])
        self.assertEqual('Not Found', body['title'])

    def test_api_exception_keeps_its_code_and_message(self):
        resp = self._show_raising(exception.StorageWriteDenied(reason='ro'))

        body = self.assertFault(resp, 503)
        self.assertEqual('Insufficient permissions on image storage media: '
                         'ro', body['message'])

    def test_server_side_api_exception_is_logged(self):
        self._show_raising(exception.StorageWriteDenied(reason='ro'))

        self.assertIn('failed', self.log.output)

    def test_client_error_is_not_logged_as_error(self):
        self.api_get(self.image_path(self.new_id()))

        self.assertEqual('', self.log.output)

    def test_exception_headers_are_sent(self):
        resp = self.api_patch(self.image_path(self.new_id()),
                              media_type='application/json')

        self.assertFault(resp, 415)
        self.assertIn('Accept-Patch', resp.headers)

    def test_request_id_sent_by_client_is_not_echoed(self):
        # oslo.middleware's RequestId makes its own ids.
        resp = self.api_get('/v2/nothing',
                            headers={'X-OpenStack-Request-ID': 'req-mine'})

        self.assertNotEqual('req-mine',
                            resp.headers['x-openstack-request-id'])


class FaultMiddlewareTest(test_base.TestCase):
    """FaultMiddleware around a bare app, without the pipeline."""

    def _call(self, exc, environ=None):
        @webob.dec.wsgify
        def app(req):
            raise exc
        req = webob.Request.blank('/x', environ=environ or {})
        req.environ.setdefault('HTTP_ACCEPT', 'application/json')
        return req.get_response(fault.FaultMiddleware(app))

    def test_api_exception_becomes_json_fault(self):
        resp = self._call(exception.ImageNotFound(image_id='abc'))

        self.assertEqual(404, resp.status_int)
        self.assertEqual({'code': '404 Not Found', 'title': 'Not Found',
                          'message': 'No image found with ID abc'}, resp.json)

    def test_request_id_from_environ_is_in_body(self):
        resp = self._call(exception.NotFound(),
                          environ={'openstack.request_id': 'req-1'})

        self.assertEqual('req-1', resp.json['request_id'])

    def test_unknown_exception_becomes_500(self):
        self.useFixture(fixtures.FakeLogger(
            name='imageapi.api.middleware.fault'))

        resp = self._call(KeyError('internal'))

        self.assertEqual(500, resp.status_int)
        self.assertNotIn('internal', resp.text)

    def test_unknown_exception_on_path_not_utf8_becomes_500(self):
        log = self.useFixture(fixtures.FakeLogger(
            name='imageapi.api.middleware.fault'))

        resp = self._call(KeyError('internal'),
                          environ={'PATH_INFO': '/v2/images/\xff'})

        self.assertEqual(500, resp.status_int)
        self.assertIn('Unexpected error serving GET /v2/images/\\xff',
                      log.output)

    def test_client_disconnected_is_logged_at_info(self):
        log = self.useFixture(fixtures.FakeLogger(
            name='imageapi.api.middleware.fault', level=logging.DEBUG,
            format='%(levelname)s %(message)s'))

        resp = self._call(exception.ClientDisconnected(reason='gone'))

        self.assertEqual(400, resp.status_int)
        self.assertEqual('INFO GET /x: The client disconnected or sent a '
                         'malformed body: gone\n', log.output)

    def test_fault_response_uses_http_reason_as_title(self):
        resp = fault.fault_response(413, 'too big', accept='application/json')

        self.assertEqual({'code': '413 Request Entity Too Large',
                          'title': 'Request Entity Too Large',
                          'message': 'too big'}, resp.json)


class FaultFormatTest(test_base.TestCase):
    """The body format follows Accept as webob's (so Glance's) does."""

    def test_json_when_json_is_preferred(self):
        for accept in ('application/json',
                       'application/json, text/html;q=0.5'):
            resp = fault.fault_response(404, 'No image', 'req-1', accept=accept)
            self.assertEqual('application/json', resp.content_type, accept)
            self.assertEqual('No image', resp.json['message'])

    def test_html_for_any_as_glanceclient_sends(self):
        for accept in ('*/*', 'text/html'):
            resp = fault.fault_response(409, 'from <active> to saving',
                                        accept=accept)
            self.assertEqual('text/html', resp.content_type, accept)
            self.assertEqual(409, resp.status_int)
            self.assertIn('<title>409 Conflict</title>', resp.text)
            self.assertIn('from &lt;active&gt; to saving', resp.text)

    def test_html_reads_as_status_and_message_once_tags_are_stripped(self):
        # python-glanceclient's exc.from_response for a text/html body.
        resp = fault.fault_response(404, 'No image found with ID x',
                                    accept='*/*')
        lines = [re.sub(r'<.+?>', '', line.strip())
                 for line in resp.text.splitlines()]
        seen = []
        for line in lines:
            if line and line not in seen:
                seen.append(line)

        self.assertEqual('404 Not Found: No image found with ID x',
                         ': '.join(seen))

    def test_plain_text_otherwise_and_without_accept(self):
        for accept in ('text/plain', None, ''):
            resp = fault.fault_response(400, 'Bad size', accept=accept)

            self.assertEqual('text/plain', resp.content_type, accept)
            self.assertEqual('400 Bad Request\n\nBad size\n', resp.text)
