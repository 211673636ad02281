"""Single byte ranges of image downloads: the Range request header, as Glance parses it.

ImageDataController.download calls requested_range() before it opens the
data and content_range() for the 206 response. The rules are Glance 33's
(glance/common/wsgi.py ``get_range_from_request``, which parses with
webob/byterange.py, and the ``download`` serializer in
glance/api/v2/image_data.py), less the cases where Glance answers 500 or sends
a body that does not match its headers.
"""

import re
import typing

from imageapi.common import exception

# webob.byterange's patterns: anchored at the start only, so trailing text is
# ignored, as in Glance.
_RANGE = re.compile(r'bytes *= *(\d*) *- *(\d*)', re.IGNORECASE)
_CONTENT_RANGE = re.compile(r'bytes (\d+)-(\d+)/(?:(\d+)|\*)')

_MULTIPLE = ('Requests with multiple ranges are not supported in imageapi. '
             'You may make multiple single-range requests instead.')


class ByteRange(typing.NamedTuple):
    """``length`` bytes of an image starting at byte ``offset``."""

    offset: int
    length: int


def requested_range(headers, size):
    """The byte range a download asks for, or None for the whole image.

    ``Range`` wins; without it, a ``Content-Range`` request header (sent by
    clients written for pre-Pike Glance) is honoured.

    :param headers: the request headers (case-insensitive mapping).
    :param size: the image size in bytes.
    :raises InvalidRange: (400) several ranges were asked for.
    :raises RangeNotSatisfiable: (416) a malformed header, or a range that
        does not start inside the image.
    """
    value = headers.get('Range')
    if value is not None:
        return parse_range(value, size)
    return parse_content_range(headers.get('Content-Range'), size)


def parse_range(value, size):
    """Parse a ``Range`` header value; None when there is no header.

    ``bytes=a-b`` and ``bytes=a-`` are clamped to the image; ``bytes=-n`` is
    the last n bytes, or the whole image when n >= size. RFC 7233 would have a
    malformed header ignored; Glance answers 416, and so does this.

    :raises InvalidRange: (400) the value lists several ranges.
    :raises RangeNotSatisfiable: (416) the value is malformed (including
        b < a), or the range starts at or past the end of the image.
    """
    if value is None:
        return None
    # NOTE: checked before parsing, as Glance does: any comma is a list.
    if ',' in value:
        raise exception.InvalidRange(reason=_MULTIPLE)
    match = _RANGE.match(value)
    if match is None or match.groups() == ('', ''):
        # NOTE: 'bytes=-' makes webob's parser raise, a 500 in Glance.
        raise _unsatisfiable(size, message='Invalid Range header.')
    first, last = match.groups()
    if not first:
        # A suffix. Glance (through webob) reads 'bytes=-0' as 'bytes=0-'.
        suffix = int(last)
        start = size - suffix if 0 < suffix < size else 0
        end = size - 1
    else:
        start = int(first)
        if last and int(last) < start:
            raise _unsatisfiable(size, message='Invalid Range header.')
        end = int(last) if last else size - 1
    # NOTE: an empty image has no satisfiable range; Glance answered a suffix
    # range on one with 206 and 'bytes 0--1/0'.
    if start >= size:
        raise _unsatisfiable(
            size, reason='Start position MUST be in the inclusive range '
                         '[0, %d].' % (size - 1))
    return ByteRange(start, min(end, size - 1) - start + 1)


def parse_content_range(value, size):
    """Parse a legacy ``Content-Range: bytes a-b/total`` request header.

    ``total`` may be ``*``; when given it must exceed b. None when there is
    no header.

    :raises RangeNotSatisfiable: (416) the value is malformed, b < a, or b is
        not inside the image.
    """
    if value is None:
        return None
    match = _CONTENT_RANGE.match(value)
    if match is None:
        raise _unsatisfiable(size, message='Invalid Content-Range header.')
    first, last = int(match.group(1)), int(match.group(2))
    total = match.group(3)
    if last < first or (total is not None and last >= int(total)):
        raise _unsatisfiable(size, message='Invalid Content-Range header.')
    # NOTE: Glance checks the stop position only for 'bytes a-b/*' and, for
    # 'bytes 0-99/100' on a 10-byte image, answered 206 with a Content-Length
    # of 100 and 10 bytes of body. Any b past the image is refused here.
    if last >= size:
        raise _unsatisfiable(
            size, message='Invalid stop position in Content-Range header. The '
                          'stop position MUST be in the inclusive range '
                          '[0, %d].' % (size - 1))
    return ByteRange(first, last - first + 1)


def content_range(offset, length, size):
    """The ``Content-Range`` of a 206 response: 'bytes first-last/size'."""
    return 'bytes %d-%d/%d' % (offset, offset + length - 1, size)


def _unsatisfiable(size, **kwargs):
    exc = exception.RangeNotSatisfiable(**kwargs)
    # RFC 7233 section 4.4: a 416 names the current length (Glance omits it).
    exc.headers = {'Content-Range': 'bytes */%d' % size}
    return exc
