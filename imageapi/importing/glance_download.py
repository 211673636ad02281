"""Import method ``glance-download``: the data comes from another region's Image API.

As Glance's: ``glance_region`` and ``glance_image_id`` name the source (400
when missing or not a UUID), ``glance_service_interface`` (default public)
the endpoint to use in the image service of the caller's keystone catalog.
The remote image's record and data are read with the caller's token through
common/urlfilter.py; its formats and the properties whose names start with
``[glance_download_properties] extra_properties`` are set on the image.
"""

import collections
import json
import threading
import time
import uuid

from imageapi.common import exception
from imageapi.common import urlfilter
from imageapi.importing import errors
from imageapi.importing import methods
from imageapi.importing import web_download

# A remote image record larger than this is refused: it is read into memory
# to be parsed, and real records are a few KiB.
MAX_RECORD_BYTES = 1 << 20
RESERVED_PREFIX = 'os_glance'

# NOTE: the engine runs open_source with an admin context of its own, so the
# caller's token and catalog, known only in the request (validate), are
# handed over here: in this process's memory only, never in the task's
# input, and dropped once taken or after HANDOFF_SECONDS.
HANDOFF_SECONDS = 600
Caller = collections.namedtuple('Caller', ['token', 'catalog', 'deadline'])
_callers = {}
_callers_lock = threading.Lock()


def _hand_over(image_id, context):
    now = time.monotonic()
    with _callers_lock:
        for key in [k for k, c in _callers.items() if c.deadline < now]:
            del _callers[key]
        _callers[image_id] = Caller(context.auth_token,
                                    list(context.service_catalog or []),
                                    now + HANDOFF_SECONDS)


def _take_over(image_id, context):
    """The caller of the request that started this import."""
    with _callers_lock:
        caller = _callers.pop(image_id, None)
    if caller is None and getattr(context, 'auth_token', None):
        return Caller(context.auth_token,
                      getattr(context, 'service_catalog', []), None)
    if caller is None:
        raise errors.SourceUnavailable(
            "The credentials of the import request of image %s are gone "
            "(the process restarted); import it again." % image_id)
    return caller


def find_endpoint(catalog, region, interface):
    """The URL of the image service at ``interface`` in ``region``.

    Takes keystonemiddleware's X-Service-Catalog form (``publicURL``...)
    and keystone v3's (``interface``/``url``); regions compare without case.

    :raises errors.SourceUnavailable: no such endpoint.
    """
    for service in catalog:
        if service.get('type') != 'image':
            continue
        for endpoint in service.get('endpoints') or []:
            found = endpoint.get('region') or endpoint.get('region_id') or ''
            if found.lower() != region.lower():
                continue
            url = endpoint.get('%sURL' % interface)
            if url is None and endpoint.get('interface') == interface:
                url = endpoint.get('url')
            if url:
                return url.rstrip('/')
    raise errors.SourceUnavailable(
        'No image service endpoint for region %s with interface %s in the '
        'service catalog.' % (region, interface))


def _read_record(conf, url, token):
    try:
        with urlfilter.open_url(conf, url, {'X-Auth-Token': token,
                                            'Accept': 'application/json'}) \
                as response:
            raw = response.read(MAX_RECORD_BYTES + 1)
    except (exception.URLDenied, exception.URLFetchFailed) as exc:
        raise errors.SourceUnavailable(exc.msg)
    if len(raw) > MAX_RECORD_BYTES:
        raise errors.SourceUnavailable(
            'The record of the remote image at %s is too large.' % url)
    try:
        record = json.loads(raw.decode('utf-8'))
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise errors.SourceUnavailable(
            'The remote image at %s sent no image record.' % url)
    return record


def copied_properties(conf, record):
    """The formats and the properties Glance copies from a remote record."""
    prefixes = conf.glance_download_properties.extra_properties
    properties = {key: value for key, value in record.items()
                  if not key.startswith(RESERVED_PREFIX)
                  and any(key.startswith(p) for p in prefixes)}
    for key in ('disk_format', 'container_format'):
        properties[key] = record.get(key)
    return properties


class GlanceDownload:
    """Import the data and metadata of an image in another region."""

    name = methods.GLANCE_DOWNLOAD
    from_staging = False

    def validate(self, conf, context, image, body):
        """Glance's 400s for the method's fields; keeps the caller's token."""
        method = body['method']
        for key in ('glance_region', 'glance_image_id'):
            if not isinstance(method.get(key), str) or not method[key]:
                raise exception.BadRequest(
                    message="'%s' needs to be set for glance-download "
                            "import method" % key)
        try:
            uuid.UUID(method['glance_image_id'])
        except ValueError:
            raise exception.BadRequest(
                message='Remote image id does not look like a UUID: %s'
                % method['glance_image_id'])
        method.setdefault('glance_service_interface', 'public')
        if method['glance_service_interface'] not in ('public', 'internal',
                                                      'admin'):
            raise exception.BadRequest(
                message="'glance_service_interface' must be public, "
                        "internal or admin")
        _hand_over(image['id'], context)

    def open_source(self, conf, context, image, body):
        """Read the remote record, then stream the remote data.

        :raises errors.SourceUnavailable: no endpoint in the catalog, the
            remote image is missing, not active or unreadable, or its URL
            does not pass [import_filtering_opts].
        """
        method = body['method']
        caller = _take_over(image['id'], context)
        endpoint = find_endpoint(caller.catalog, method['glance_region'],
                                 method.get('glance_service_interface',
                                            'public'))
        url = '%s/v2/images/%s' % (endpoint, method['glance_image_id'])
        record = _read_record(conf, url, caller.token)
        if record.get('status') != 'active':
            raise errors.SourceUnavailable(
                'Source image status should be active instead of %s'
                % record.get('status'))
        size = record.get('size')
        if not isinstance(size, int):
            raise errors.SourceUnavailable(
                'Size attribute of remote image %s could not be determined.'
                % method['glance_image_id'])
        source = web_download.open_url_source(
            conf, url + '/file', {'X-Auth-Token': caller.token})
        if source.size is not None and source.size != size:
            source.close()
            raise errors.SourceUnavailable(
                'The remote image data is %d bytes, its record says %d.'
                % (source.size, size))
        source.size = size
        source.properties = copied_properties(conf, record)
        return source


methods.register(GlanceDownload())
