"""Parse PATCH /v2/images/{id} bodies: JSON patch as Glance's two media types define it.

``application/openstack-images-v2.1-json-patch`` takes ``{"op", "path", "value"}``
(draft 10); ``...-v2.0-json-patch`` takes ``{"replace": "/name", "value": ...}``
(draft 4), which older clients and test suites still send.
"""

from imageapi.common import exception

V21 = 'application/openstack-images-v2.1-json-patch'
V20 = 'application/openstack-images-v2.0-json-patch'
MEDIA_TYPES = (V21, V20)
OPS = ('add', 'remove', 'replace')


def _media_type_error(content_type):
    exc = exception.UnsupportedMediaType(content_type=content_type)
    exc.headers = {'Accept-Patch': ', '.join(MEDIA_TYPES)}
    return exc


def _decode_pointer(pointer):
    """'/name' -> ['name']; '/locations/0' -> ['locations', '0']."""
    if not isinstance(pointer, str) or not pointer.startswith('/'):
        raise exception.BadRequest(
            reason="Pointer `%s` does not start with \"/\"." % pointer)
    tokens = pointer[1:].split('/')
    if '' in tokens:
        raise exception.BadRequest(
            reason="Pointer `%s` contains an empty token." % pointer)
    if any('~' in t.replace('~0', '').replace('~1', '') for t in tokens):
        raise exception.BadRequest(
            reason="Pointer `%s` contains \"~\" not part of a recognized "
                   "escape sequence." % pointer)
    return [t.replace('~1', '/').replace('~0', '~') for t in tokens]


def _check_depth(op, path):
    """Glance's path depths: 2 to add or remove a location, else 1."""
    depth = 2 if path[0] == 'locations' and op in ('add', 'remove') else 1
    if len(path) != depth:
        raise exception.BadRequest(
            reason="Invalid JSON pointer for this resource: '/%s'"
                   % '/'.join(path))


def _op_of(raw, draft):
    if draft == 10:
        op = raw.get('op')
        if op not in OPS:
            raise exception.BadRequest(
                reason='Unable to find `op` in JSON Schema change. It must '
                       'be one of the following: add, remove, replace.')
        if 'path' not in raw:
            raise exception.BadRequest(
                reason='Unable to find `path` in JSON Schema change.')
        return op, raw['path']
    present = [op for op in OPS if op in raw]
    if len(present) != 1:
        raise exception.BadRequest(
            reason='Operation objects must contain exactly one member named '
                   '"add", "remove", or "replace".')
    return present[0], raw[present[0]]


def parse(req):
    """:returns: (draft, [(op, path, value), ...]) from the request body.

    ``path`` is the decoded pointer as a list: one name, or
    ``['locations', position]`` for a location add or remove.
    """
    content_type = req.content_type or None
    if content_type not in MEDIA_TYPES:
        raise _media_type_error(content_type)
    draft = 10 if content_type == V21 else 4
    body = req.read_json(content_types=MEDIA_TYPES)
    if not isinstance(body, list):
        raise exception.BadRequest(
            reason='Request body must be a JSON array of operation objects.')
    changes = []
    for raw in body:
        if not isinstance(raw, dict):
            raise exception.BadRequest(
                reason='Operations must be JSON objects.')
        op, pointer = _op_of(raw, draft)
        path = _decode_pointer(pointer)
        _check_depth(op, path)
        if op != 'remove' and 'value' not in raw:
            raise exception.BadRequest(
                reason='Operation "%s" requires a member named "value".' % op)
        changes.append((op, path, raw.get('value')))
    return draft, changes
