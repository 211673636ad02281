"""Tests for imageapi.api.v2.ranges: Range and legacy Content-Range requests.

The cases on a 3-byte image are Glance's own (glance/tests/unit/v2/
test_image_data_resource.py ``test_range_requests_for_image_downloads`` and
``test_content_range_requests_for_image_downloads``).
"""

import webob

from imageapi.api.v2 import ranges
from imageapi.common import exception
from imageapi.tests import base


class ParseRangeTestCase(base.TestCase):

    def assertRange(self, expected, value, size=3):
        self.assertEqual(expected, ranges.parse_range(value, size), value)

    def assertUnsatisfiable(self, value, size=3):
        exc = self.assertRaises(exception.RangeNotSatisfiable,
                                ranges.parse_range, value, size)
        self.assertEqual(416, exc.code)
        self.assertEqual({'Content-Range': 'bytes */%d' % size}, exc.headers)
        return str(exc)

    def test_parse_range_no_header_none(self):
        self.assertIsNone(ranges.parse_range(None, 3))

    def test_parse_range_first_last_inside_image(self):
        self.assertRange((1, 2), 'bytes=1-2')
        self.assertRange((0, 3), 'bytes=0-2')
        self.assertRange((2, 1), 'bytes=2-2')

    def test_parse_range_last_past_end_clamped(self):
        self.assertRange((1, 2), 'bytes=1-3')
        self.assertRange((1, 2), 'bytes=1-100')
        self.assertRange((0, 3), 'bytes=0-100')

    def test_parse_range_open_ended_to_end(self):
        self.assertRange((1, 2), 'bytes=1-')
        self.assertRange((0, 3), 'bytes=0-')

    def test_parse_range_suffix_last_bytes(self):
        self.assertRange((1, 2), 'bytes=-2')
        self.assertRange((2, 1), 'bytes=-1')

    def test_parse_range_suffix_not_shorter_than_image_whole(self):
        self.assertRange((0, 3), 'bytes=-3')
        self.assertRange((0, 3), 'bytes=-4')
        self.assertRange((0, 3), 'bytes=-100')

    def test_parse_range_suffix_zero_whole_as_glance(self):
        self.assertRange((0, 3), 'bytes=-0')

    def test_parse_range_spaces_and_case_accepted(self):
        self.assertRange((1, 2), 'Bytes = 1 - 2')
        self.assertRange((1, 2), 'BYTES=1-2')

    def test_parse_range_trailing_text_ignored_as_webob(self):
        self.assertRange((1, 2), 'bytes=1-2; whatever')

    def test_parse_range_large_image_offsets(self):
        size = 10 * 1024 ** 4
        self.assertRange((size - 512, 512), 'bytes=-512', size=size)
        self.assertRange((2 ** 40, size - 2 ** 40),
                         'bytes=%d-' % 2 ** 40, size=size)

    def test_parse_range_multiple_ranges_bad_request(self):
        for value in ('bytes=0-0,-1', 'bytes=0-1, 2-2', 'bytes=0-1,'):
            exc = self.assertRaises(exception.InvalidRange,
                                    ranges.parse_range, value, 3)
            self.assertEqual(400, exc.code)
            self.assertEqual(
                'Requests with multiple ranges are not supported in '
                'imageapi. You may make multiple single-range requests '
                'instead.', str(exc))

    def test_parse_range_start_past_end_unsatisfiable(self):
        for value in ('bytes=3-', 'bytes=4-', 'bytes=100-', 'bytes=3-5'):
            message = self.assertUnsatisfiable(value)
            self.assertEqual(
                'Invalid start position in Range header. Start position '
                'MUST be in the inclusive range [0, 2].', message)

    def test_parse_range_last_before_first_unsatisfiable(self):
        for value in ('bytes=4-1', 'bytes=2-1'):
            self.assertEqual('Invalid Range header.',
                             self.assertUnsatisfiable(value))

    def test_parse_range_malformed_unsatisfiable(self):
        # Glance answers 416 where RFC 7233 would ignore the header.
        for value in ('bytes=1', 'bytes=100', 'bytes=', 'bytes=-', '',
                      'items=0-1', 'bytes 0-1', ' bytes=0-1', 'bytes=a-b'):
            self.assertEqual('Invalid Range header.',
                             self.assertUnsatisfiable(value))

    def test_parse_range_empty_image_unsatisfiable(self):
        for value in ('bytes=0-', 'bytes=0-0', 'bytes=-1', 'bytes=-0'):
            message = self.assertUnsatisfiable(value, size=0)
            self.assertIn('Invalid start position', message)


class ParseContentRangeTestCase(base.TestCase):

    def assertUnsatisfiable(self, value, size=3):
        exc = self.assertRaises(exception.RangeNotSatisfiable,
                                ranges.parse_content_range, value, size)
        self.assertEqual(416, exc.code)
        self.assertEqual({'Content-Range': 'bytes */%d' % size}, exc.headers)
        return str(exc)

    def test_parse_content_range_no_header_none(self):
        self.assertIsNone(ranges.parse_content_range(None, 3))

    def test_parse_content_range_with_total(self):
        self.assertEqual((1, 2), ranges.parse_content_range('bytes 1-2/3', 3))
        self.assertEqual((4, 1),
                         ranges.parse_content_range('bytes 4-4/15', 15))

    def test_parse_content_range_star_total(self):
        self.assertEqual((1, 2), ranges.parse_content_range('bytes 1-2/*', 3))
        self.assertEqual((10, 90),
                         ranges.parse_content_range('bytes 10-99/*', 120))

    def test_parse_content_range_malformed_unsatisfiable(self):
        # 'bytes */3' is a 500 in Glance (None compared with an int).
        for value in ('bytes -3/3', 'bytes 1-/3', 'bytes=0-99', 'bytes */3',
                      'bytes */*', '', 'bytes 1-2'):
            self.assertEqual('Invalid Content-Range header.',
                             self.assertUnsatisfiable(value))

    def test_parse_content_range_inconsistent_unsatisfiable(self):
        for value in ('bytes 1-3/3', 'bytes 4-1/3', 'bytes 4-1/*',
                      'bytes 4-8/3', 'bytes 3-16/15'):
            self.assertEqual('Invalid Content-Range header.',
                             self.assertUnsatisfiable(value))

    def test_parse_content_range_past_image_unsatisfiable(self):
        for value in ('bytes 1-4/*', 'bytes 4-8/*', 'bytes 4-8/10',
                      'bytes 0-99/100'):
            message = self.assertUnsatisfiable(value)
            self.assertEqual(
                'Invalid stop position in Content-Range header. The stop '
                'position MUST be in the inclusive range [0, 2].', message)


class RequestedRangeTestCase(base.TestCase):

    def _headers(self, **headers):
        return webob.Request.blank('/', headers=headers).headers

    def test_requested_range_no_headers_none(self):
        self.assertIsNone(ranges.requested_range(self._headers(), 3))

    def test_requested_range_range_header(self):
        headers = self._headers(range='bytes=1-')
        self.assertEqual((1, 2), ranges.requested_range(headers, 3))

    def test_requested_range_content_range_header(self):
        headers = self._headers(**{'Content-Range': 'bytes 1-1/*'})
        self.assertEqual((1, 1), ranges.requested_range(headers, 3))

    def test_requested_range_range_wins_over_content_range(self):
        headers = self._headers(**{'Range': 'bytes=0-0',
                                   'Content-Range': 'bytes 1-1/*'})
        self.assertEqual((0, 1), ranges.requested_range(headers, 3))

    def test_requested_range_empty_range_header_unsatisfiable(self):
        headers = self._headers(**{'Range': '',
                                   'Content-Range': 'bytes 1-1/*'})
        self.assertRaises(exception.RangeNotSatisfiable,
                          ranges.requested_range, headers, 3)

    def test_requested_range_result_has_names(self):
        span = ranges.requested_range(self._headers(Range='bytes=-2'), 10)
        self.assertEqual(8, span.offset)
        self.assertEqual(2, span.length)


class ContentRangeTestCase(base.TestCase):

    def test_content_range_formats_inclusive_last_byte(self):
        self.assertEqual('bytes 1-2/3', ranges.content_range(1, 2, 3))
        self.assertEqual('bytes 0-2/3', ranges.content_range(0, 3, 3))
        self.assertEqual('bytes 4-4/15', ranges.content_range(4, 1, 15))

    def test_content_range_round_trips_parse_range(self):
        for value, expected in (('bytes=3-10', 'bytes 3-10/26'),
                                ('bytes=-5', 'bytes 21-25/26'),
                                ('bytes=20-', 'bytes 20-25/26'),
                                ('bytes=0-99', 'bytes 0-25/26')):
            span = ranges.parse_range(value, 26)
            self.assertEqual(expected, ranges.content_range(*span, 26))
