"""Parse the query string of GET /v2/images into repository filters, as Glance does."""

from oslo_utils import strutils
from oslo_utils import timeutils

from imageapi.common import exception

SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
SORT_DIRS = ('asc', 'desc')
_IN_FILTERS = ('id', 'name', 'status', 'container_format', 'disk_format')
# Image columns Glance also filters on by exact match ("most image
# attributes", api-ref); the integer ones must parse as integers.
_EXACT_FILTERS = ('owner', 'visibility', 'checksum', 'os_hash_algo',
                  'os_hash_value')
_INT_FILTERS = ('size', 'virtual_size', 'min_ram', 'min_disk')
_TIME_FILTERS = ('created_at', 'updated_at')
_TIME_OPS = ('gt', 'gte', 'eq', 'neq', 'lt', 'lte')
_PAGING = ('limit', 'marker', 'sort_key', 'sort_dir', 'sort')
VISIBILITIES = ('public', 'private', 'shared', 'community', 'all')
MEMBER_STATUSES = ('pending', 'accepted', 'rejected', 'all')


def _split_op(value):
    op, sep, rest = value.partition(':')
    return (op, rest) if sep else (None, value)


# The largest integer a filter may compare with: BIGINT's, and the largest
# SQLite can bind at all (a larger one raises OverflowError there).
MAX_INT_FILTER = 2 ** 63 - 1


def _int_param(name, value, minimum=0, maximum=MAX_INT_FILTER):
    try:
        number = int(value)
    except ValueError:
        raise exception.BadRequest(
            reason='%s param must be an integer' % name)
    if number < minimum:
        raise exception.BadRequest(
            reason='%s param must be positive' % name)
    if maximum is not None and number > maximum:
        raise exception.BadRequest(
            reason='%s param must not be greater than %d' % (name, maximum))
    return number


def _bool_param(name, value):
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise exception.InvalidParameterValue(
            value=value, param=name, reason='it must be a boolean')


def _time_filter(name, value):
    # A bare ISO 8601 time has colons of its own; like Glance, take the
    # whole value as the time (operator eq) when it parses as one.
    op, when = 'eq', value
    try:
        timeutils.parse_isotime(value)
    except ValueError:
        op, when = _split_op(value)
        op = op or 'eq'
    if op not in _TIME_OPS:
        raise exception.InvalidFilterOperator()
    try:
        parsed = timeutils.normalize_time(timeutils.parse_isotime(when))
    except ValueError:
        raise exception.InvalidParameterValue(
            value=value, param=name, reason='not an ISO 8601 time')
    return op, parsed


def _bad_quotes(value):
    return exception.InvalidParameterValue(
        value=value, param='in', reason='quotation marks must enclose a '
                                        'whole comma-separated value')


def _split_in_values(value):
    """Split the list of an ``in:`` filter the way Glance does.

    Commas separate values; a value in double quotes may hold commas. A
    backslash-escaped quote is kept as it is, a trailing comma is ignored.
    """
    items, pos, end = [], 0, len(value)
    while pos < end:
        if value[pos] == '"':
            close = pos + 1
            while close < end and value[close] != '"':
                close += 2 if value[close] == '\\' else 1
            if close >= end or (close + 1 < end and value[close + 1] != ','):
                raise _bad_quotes(value)
            items.append(value[pos + 1:close])
            pos = close + 2
            continue
        comma = value.find(',', pos)
        item = value[pos:] if comma == -1 else value[pos:comma]
        if any(c == '"' and (i == 0 or item[i - 1] != '\\')
               for i, c in enumerate(item)):
            raise _bad_quotes(value)
        items.append(item)
        pos = end if comma == -1 else comma + 1
    return items


def _exact_or_in(name, value):
    op, rest = _split_op(value)
    if name in _IN_FILTERS and op == 'in':
        return 'in', _split_in_values(rest)
    if name in _IN_FILTERS and op == 'eq':
        return 'eq', rest
    # NOTE: Glance answers 400 to any other prefix ("a:b" is operator a);
    # a name with a colon is more likely than a typo, so match it as is.
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
    elif key in _INT_FILTERS:
        filters[key] = ('eq', _int_param(key, value))
    elif key in ('protected', 'os_hidden'):
        filters[key] = _bool_param(key, value)
    elif key == 'tag':
        filters.setdefault('tags', []).append(value)
    elif key in _TIME_FILTERS:
        filters.setdefault(key, []).append(_time_filter(key, value))
    elif key == 'member_status':
        # Validated as Glance does; without image members it selects
        # nothing more.
        if value not in MEMBER_STATUSES:
            raise exception.InvalidParameterValue(
                value=value, param=key,
                reason='it must be one of %s' % ', '.join(MEMBER_STATUSES))
        filters[key] = value
    else:
        filters.setdefault('properties', {})[key] = value


def _sort(params):
    """The sort keys and directions, as Glance passes them on.

    ``dirs`` has one entry per key, or a single entry that applies to every
    key (see db/query.py paginate).
    """
    keys = params.getall('sort_key')
    dirs = params.getall('sort_dir')
    sort = params.get('sort')
    if sort is not None:
        if keys or dirs:
            raise exception.BadRequest(
                reason='Old and new sorting syntax cannot be combined.')
        keys, dirs = [], []
        for item in sort.strip().split(','):
            key, _sep, direction = item.partition(':')
            keys.append(key.strip())
            dirs.append(direction.strip() or 'desc')
    for key in keys:
        if key not in SORT_KEYS:
            raise exception.InvalidSortKey(key=key)
    for direction in dirs:
        if direction not in SORT_DIRS:
            raise exception.InvalidSortDir(direction=direction)
    if len(dirs) > 1 and len(dirs) != len(keys):
        raise exception.BadRequest(
            reason='Number of sort dirs does not match the number of sort '
                   'keys.')
    return keys or ['created_at'], dirs or ['desc']


def parse(params, conf):
    """:returns: dict with filters, marker, limit, sort_keys, sort_dirs."""
    limit = conf.limit_param_default
    if 'limit' in params:
        # No upper bound: as in Glance, any limit is cut to api_limit_max.
        limit = _int_param('limit', params['limit'], maximum=None)
    limit = min(limit, conf.api_limit_max)
    sort_keys, sort_dirs = _sort(params)
    filters = {}
    for key, value in params.items():
        if key not in _PAGING:
            _one_filter(filters, key, value)
    return {'filters': filters, 'marker': params.get('marker'),
            'limit': limit, 'sort_keys': sort_keys, 'sort_dirs': sort_dirs}
