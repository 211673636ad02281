"""The version documents served at /, /versions and /v2."""

# Minor versions this service speaks: the image and tag calls of 2.0-2.5
# plus the additions clients negotiate for (hidden images 2.7, ...).
_MINORS = tuple(range(0, 10))
CURRENT_MINOR = _MINORS[-1]


def _version(minor, host_url):
    status = 'CURRENT' if minor == CURRENT_MINOR else 'SUPPORTED'
    return {'id': 'v2.%d' % minor, 'status': status,
            'links': [{'rel': 'self', 'href': '%s/v2/' % host_url}]}


def versions_document(host_url):
    """{"versions": [...]}, newest first, as Glance lists them."""
    return {'versions': [_version(minor, host_url)
                         for minor in reversed(_MINORS)]}


def v2_document(host_url):
    return {'version': _version(CURRENT_MINOR, host_url)}
