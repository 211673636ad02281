"""Parse the query string of GET /v2/images into repository filters, as Glance does."""

from oslo_utils import strutils
from oslo_utils import timeutils

from imageapi.common import exception

SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
SORT_DIRS = ('asc', 'desc')
_IN_FILTERS = ('id', 'name', 'status', 'container_format', 'disk_format')
_EXACT_FILTERS = ('owner', 'visibility')
_TIME_FILTERS = ('created_at', 'updated_at')
_TIME_OPS = ('gt', 'gte', 'eq', 'neq', 'lt', 'lte')
_PAGING = ('limit', 'marker', 'sort_key', 'sort_dir', 'sort')
VISIBILITIES = ('public', 'private', 'shared', 'community', 'all')


def _split_op(value):
    op, sep, rest = value.partition(':')
    return (op, rest) if sep else (None, value)


def _int_param(name, value, minimum=0):
    try:
        number = int(value)
    except ValueError:
        raise exception.BadRequest(
            reason='%s param must be an integer' % name)
    if number < minimum:
        raise exception.BadRequest(
            reason='%s param must be positive' % name)
    return number


def _bool_param(name, value):
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise exception.InvalidParameterValue(
            value=value, param=name, reason='it must be a boolean')


def _time_filter(name, value):
    op, when = _split_op(value)
    if op is None:
        op = 'eq'
    if op not in _TIME_OPS:
        raise exception.InvalidFilterOperator()
    try:
        parsed = timeutils.normalize_time(timeutils.parse_isotime(when))
    except ValueError:
        raise exception.InvalidParameterValue(
            value=value, param=name, reason='not an ISO 8601 time')
    return op, parsed


def _exact_or_in(name, value):
    op, rest = _split_op(value)
    if op == 'in' and name in _IN_FILTERS:
        return 'in', [v.strip('"') for v in rest.split(',')]
    return 'eq', value


def _one_filter(filters, key, value):
    if key == 'changes-since':
        raise exception.BadRequest(
            reason='The changes-since filter is not supported.')
    if key in _IN_FILTERS or key in _EXACT_FILTERS:
        if key == 'visibility' and value not in VISIBILITIES:
            raise exception.InvalidParameterValue(
                value=value, param=key,
                reason='it must be one of %s' % ', '.join(VISIBILITIES))
        filters[key] = _exact_or_in(key, value)
    elif key in ('size_min', 'size_max'):
        filters[key] = _int_param(key, value)
    elif key in ('protected', 'os_hidden'):
        filters[key] = _bool_param(key, value)
    elif key == 'tag':
        filters.setdefault('tags', []).append(value)
    elif key in _TIME_FILTERS:
        filters.setdefault(key, []).append(_time_filter(key, value))
    elif key == 'member_status':
        filters[key] = value
    else:
        filters.setdefault('properties', {})[key] = value


def _sort(params):
    keys = params.getall('sort_key')
    dirs = params.getall('sort_dir')
    sort = params.get('sort')
    if sort is not None:
        if keys or dirs:
            raise exception.BadRequest(
                reason='The sort param is not allowed with sort_key or '
                       'sort_dir.')
        keys, dirs = [], []
        for item in sort.split(','):
            key, _sep, direction = item.strip().partition(':')
            keys.append(key)
            dirs.append(direction or 'desc')
    keys = keys or ['created_at']
    for key in keys:
        if key not in SORT_KEYS:
            raise exception.InvalidSortKey(key=key)
    for direction in dirs:
        if direction not in SORT_DIRS:
            raise exception.InvalidSortDir(direction=direction)
    if len(dirs) > len(keys):
        raise exception.BadRequest(
            reason='The number of sort_dir exceeds the number of sort_key.')
    default_dir = dirs[-1] if sort is None and len(dirs) == 1 else 'desc'
    dirs = dirs + [default_dir] * (len(keys) - len(dirs))
    return keys, dirs


def parse(params, conf):
    """:returns: dict with filters, marker, limit, sort_keys, sort_dirs."""
    limit = conf.limit_param_default
    if 'limit' in params:
        limit = _int_param('limit', params['limit'])
    limit = min(limit, conf.api_limit_max)
    sort_keys, sort_dirs = _sort(params)
    filters = {}
    for key, value in params.items():
        if key not in _PAGING:
            _one_filter(filters, key, value)
    return {'filters': filters, 'marker': params.get('marker'),
            'limit': limit, 'sort_keys': sort_keys, 'sort_dirs': sort_dirs}
