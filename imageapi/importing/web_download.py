"""Import method ``web-download``: the image data comes from an http(s) URI.

``validate`` runs in the import request and refuses (400, Glance's text) a
missing URI or one that [import_filtering_opts] denies; ``open_source`` runs
on the engine's thread and streams the URI through common/urlfilter.py,
which checks every redirect again and connects only to checked addresses.
"""

from imageapi.common import exception
from imageapi.common import urlfilter
from imageapi.importing import errors
from imageapi.importing import methods


def denied(uri, reason):
    """The 400 of an import whose URI does not pass filtering (Glance's text)."""
    return exception.URLDenied(
        message='URI for web-download does not pass filtering: %s (%s)'
        % (uri, reason))


class URLSource:
    """A Source over a urlfilter.Response; ``size`` is its Content-Length."""

    properties = {}

    def __init__(self, response):
        self._response = response
        self.size = response.size

    def read(self, n):
        try:
            return self._response.read(n)
        except exception.URLFetchFailed as exc:
            raise errors.SourceUnavailable(exc.msg)

    def close(self):
        self._response.close()


def open_url_source(conf, uri, headers=None):
    """A URLSource for ``uri``, refused early if it says it is over the cap.

    :raises errors.SourceUnavailable: the URI (or a redirect) is denied, the
        server cannot be reached or answers an error, or its Content-Length
        is over ``[DEFAULT] image_size_cap``.
    """
    try:
        response = urlfilter.open_url(conf, uri, headers)
    except (exception.URLDenied, exception.URLFetchFailed) as exc:
        raise errors.SourceUnavailable(exc.msg)
    if response.size is not None and response.size > conf.image_size_cap:
        response.close()
        raise errors.SourceUnavailable(
            'The data at %s is %d bytes, over the image size cap of %d '
            'bytes.' % (response.url, response.size, conf.image_size_cap))
    return URLSource(response)


class WebDownload:
    """Fetch the image data from ``{"method": {"uri": ...}}``."""

    name = methods.WEB_DOWNLOAD
    from_staging = False

    def validate(self, conf, context, image, body):
        """Refuse a missing URI, or one the filter denies, with 400."""
        uri = body['method'].get('uri')
        if not isinstance(uri, str) or not uri:
            raise denied(uri, 'no URI was given')
        try:
            urlfilter.URLFilter(conf).check(uri)
        except exception.URLDenied as exc:
            raise denied(uri, exc.kwargs['reason'])

    def open_source(self, conf, context, image, body):
        """Stream the URI; redirects are checked again as they come."""
        return open_url_source(conf, body['method']['uri'])


methods.register(WebDownload())
