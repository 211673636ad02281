"""Query building for image lists: visibility rules, filters and marker paging.

Only the repository modules in db/ use this; they pass Core selects on the images
table. The tables they read and write are named here, and the read path's statements
that do not depend on the request are built here once.
"""

import collections
import threading

import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import models

_OPS = {
    'eq': lambda col, v: col == v,
    'neq': lambda col, v: col != v,
    'gt': lambda col, v: col > v,
    'gte': lambda col, v: col >= v,
    'lt': lambda col, v: col < v,
    'lte': lambda col, v: col <= v,
}
EXACT_FILTERS = ('id', 'name', 'status', 'owner', 'disk_format',
                 'container_format', 'visibility', 'checksum', 'os_hash_algo',
                 'os_hash_value', 'size', 'virtual_size', 'min_ram',
                 'min_disk')


def _membership(project_id, status=None):
    """The image is shared and has ``project_id`` as a member.

    :param status: the member status it must have; None for any.
    """
    member = models.ImageMember
    where = [member.image_id == models.Image.id,
             member.member == project_id]
    if status is not None:
        where.append(member.status == status)
    return sa.and_(models.Image.visibility == 'shared',
                   sa.exists().where(*where))


def can_read(project_id):
    """Images a non-admin may read: own, unowned, public, community, shared.

    Shared means shared with the caller's project, whatever the member
    status: a pending member can see the image it is asked to accept
    (glance/db/utils.py ``is_image_visible``).

    :param project_id: the caller's project, None, or a bind parameter
        (SELECT_READABLE_IMAGE below); a NULL project matches
        no owner and no member, as leaving those branches out would.
    """
    image = models.Image
    readable = [image.owner.is_(None),
                image.visibility.in_(('public', 'community'))]
    if project_id is not None:
        readable += [image.owner == project_id, _membership(project_id)]
    return sa.or_(*readable)


def visible(context, query):
    """Restrict ``query`` to images the caller may see at all."""
    if context.is_admin:
        return query
    return query.filter(can_read(context.project_id))


def _listable(context, member_status):
    """Images a non-admin finds in lists: public, community, own, shared.

    Shared images of other projects are listed when the caller's project
    is a member with ``member_status`` ('all' for any). Ownerless images
    can be read by anyone (see can_read) but, as in Glance, they are
    listed only when public or community: Glance's list query has no
    "owner IS NULL" branch (glance/db/sqlalchemy/api.py
    ``_select_images_query``).
    """
    image = models.Image
    listed = image.visibility.in_(('public', 'community'))
    if context.project_id is None:
        # NOTE: Glance lists every shared image that has any member to a
        # caller without a project; imageapi does not.
        return listed
    status = None if member_status == 'all' else member_status
    return sa.or_(listed, image.owner == context.project_id,
                  _membership(context.project_id, status))


def _default_listing(context, query):
    """Without a visibility filter lists leave out others' community images.

    As in Glance this holds for admins too, and a caller without a project
    gets no community images at all (glance/db/sqlalchemy/api.py
    ``_image_get_all``).
    """
    image = models.Image
    not_community = image.visibility != 'community'
    if context.project_id is None:
        # Not "owner == NULL", which SQLAlchemy would turn into IS NULL.
        return query.filter(not_community)
    return query.filter(sa.or_(not_community,
                               image.owner == context.project_id))


def _property_exists(name, value):
    prop = models.ImageProperty
    return sa.exists().where(prop.image_id == models.Image.id,
                             prop.name == name, prop.value == value)


def _tag_exists(tag):
    tag_model = models.ImageTag
    return sa.exists().where(tag_model.image_id == models.Image.id,
                             tag_model.value == tag)


def apply_filters(context, query, filters):
    """Apply the list filters built by the API layer.

    ``filters`` keys: any of EXACT_FILTERS mapped to ``('eq', value)`` or
    ``('in', [values])``; ``protected``/``os_hidden`` booleans;
    ``size_min``/``size_max`` ints; ``tags`` list (all must match);
    ``created_at``/``updated_at`` lists of ``(op, datetime)``;
    ``properties`` dict of exact extra-property matches;
    ``member_status`` (default 'accepted') for images shared with the
    caller, ignored for admins as in Glance.
    """
    image = models.Image
    if not context.is_admin:
        query = query.filter(_listable(
            context, filters.get('member_status', 'accepted')))
    if 'visibility' not in filters:
        query = _default_listing(context, query)
    for key in EXACT_FILTERS:
        if key not in filters:
            continue
        op, value = filters[key]
        if key == 'visibility' and value == 'all':
            continue
        column = getattr(image, key)
        query = query.filter(column.in_(value) if op == 'in'
                             else column == value)
    if 'status' not in filters:
        query = query.filter(image.status != 'killed')
    query = query.filter(image.os_hidden == filters.get('os_hidden', False))
    if 'protected' in filters:
        query = query.filter(image.protected == filters['protected'])
    if 'size_min' in filters:
        query = query.filter(image.size >= filters['size_min'])
    if 'size_max' in filters:
        query = query.filter(image.size <= filters['size_max'])
    for tag in filters.get('tags', ()):
        query = query.filter(_tag_exists(tag))
    for key in ('created_at', 'updated_at'):
        for op, when in filters.get(key, ()):
            if op not in _OPS:
                raise exception.InvalidFilterOperator()
            query = query.filter(_OPS[op](_column(key), when))
    for name, value in filters.get('properties', {}).items():
        query = query.filter(_property_exists(name, value))
    return query


def _column(key):
    """The expression that lists filter and sort image attribute ``key`` by."""
    image = models.Image
    if key == 'updated_at':
        # A row never changed has no updated_at but shows created_at
        # (db/records.py); filter and sort on what clients see.
        return sa.func.coalesce(image.updated_at, image.created_at)
    return getattr(image, key)


def _null_default(key):
    """What a NULL in sort column ``key`` counts as: '' or 0, as in Glance."""
    column = models.Image.__table__.c[key]
    if not column.nullable or key in ('created_at', 'updated_at'):
        return None
    return 0 if isinstance(column.type, sa.Integer) else ''


def _sort_expression(key):
    default = _null_default(key)
    if default is None:
        return _column(key)
    # NOTE: keyset paging compares the marker's values with ">" and "<",
    # which never hold for NULL; without the default, rows with a NULL
    # name or size would silently drop out of later pages.
    return sa.func.coalesce(_column(key), default)


def _marker_value(marker_row, key):
    value = getattr(marker_row, key)
    if value is None and key == 'updated_at':
        return marker_row.created_at
    if value is None:
        return _null_default(key)
    return value


def paginate(query, marker_row, limit, sort_keys, sort_dirs):
    """Order by ``sort_keys``, then created_at and id as Glance does, and page.

    ``sort_dirs`` has one direction per key, or a single one for every key.
    The tie-breakers take that single direction, else 'desc'; id makes the
    order total, so marker paging neither repeats nor skips images.

    :raises InvalidSortKey: a key that is no image column.
    """
    sort_keys = list(sort_keys)
    sort_dirs = list(sort_dirs) or ['desc']
    default_dir = sort_dirs[0] if len(sort_dirs) == 1 else 'desc'
    if len(sort_dirs) == 1:
        sort_dirs = sort_dirs * len(sort_keys)
    for key in ('created_at', 'id'):
        if key not in sort_keys:
            sort_keys.append(key)
            sort_dirs.append(default_dir)
    for key in sort_keys:
        if key not in models.Image.__table__.c:
            raise exception.InvalidSortKey(key=key)
    exprs = [_sort_expression(key) for key in sort_keys]
    if marker_row is not None:
        values = [_marker_value(marker_row, key) for key in sort_keys]
        # Rows after the marker: equal on the first i keys, beyond it on
        # key i, for some i.
        after = []
        for i, (expr, direction) in enumerate(zip(exprs, sort_dirs)):
            if direction == 'asc':
                beyond = expr > values[i]
            else:
                beyond = expr < values[i]
            equal = [e == v for e, v in zip(exprs[:i], values[:i])]
            after.append(sa.and_(*equal, beyond))
        # The first key bounded on its own as well (implied by the OR):
        # without it SQLite, once ANALYZEd, answers a page deep in a list
        # of 10,000 images by reading and sorting all that come after it.
        first = (exprs[0] >= values[0] if sort_dirs[0] == 'asc'
                 else exprs[0] <= values[0])
        query = query.filter(first, sa.or_(*after))
    for expr, direction in zip(exprs, sort_dirs):
        query = query.order_by(expr.asc() if direction == 'asc'
                               else expr.desc())
    if limit is not None:
        query = query.limit(limit)
    return query


# ------------------------------------------------------ prebuilt statements

IMAGES = models.Image.__table__
PROPERTIES = models.ImageProperty.__table__
TAGS = models.ImageTag.__table__
LOCATIONS = models.ImageLocation.__table__
MEMBERS = models.ImageMember.__table__
USAGE = models.StorageUsage.__table__
IMAGE_COLUMNS = tuple(IMAGES.c)
_NO_TEXT = sa.cast(sa.null(), sa.Text)


def _children_statement(one):
    """Properties, tags and locations of some images, in one query.

    Rows are (image_id, kind, a, b, c, location_id) with kind 'p' (a=name,
    b=value), 't' (a=tag) or 'l' (a=url, b=metadata, c=status).

    :param one: of the image ``:ids`` alone (no IN list to expand per
        execution), else of the images in the list ``:ids``.
    """
    ids = sa.bindparam('ids', expanding=not one)
    prop_t = models.ImageProperty.__table__
    tag_t = models.ImageTag.__table__
    loc_t = models.ImageLocation.__table__
    no_id = sa.cast(sa.null(), sa.Integer)
    return sa.union_all(
        sa.select(prop_t.c.image_id, sa.literal_column("'p'"), prop_t.c.name,
                  prop_t.c.value, _NO_TEXT, no_id)
        .where(prop_t.c.image_id == ids if one
               else prop_t.c.image_id.in_(ids)),
        sa.select(tag_t.c.image_id, sa.literal_column("'t'"), tag_t.c.value,
                  _NO_TEXT, _NO_TEXT, no_id)
        .where(tag_t.c.image_id == ids if one
               else tag_t.c.image_id.in_(ids)),
        sa.select(loc_t.c.image_id, sa.literal_column("'l'"), loc_t.c.value,
                  loc_t.c.meta_data, loc_t.c.status, loc_t.c.id)
        .where(loc_t.c.image_id == ids if one
               else loc_t.c.image_id.in_(ids)))


# The read path's statements are built once: building a SQLAlchemy
# statement costs more than running it on SQLite. What changes per request
# is a bound parameter.
SELECT_CHILDREN = _children_statement(one=False)
SELECT_ONE_CHILDREN = _children_statement(one=True)
SELECT_ANY_IMAGE = sa.select(*IMAGE_COLUMNS).where(
    IMAGES.c.id == sa.bindparam('image_id'))
SELECT_IMAGE = SELECT_ANY_IMAGE.where(IMAGES.c.deleted == sa.false())
_READABLE = can_read(sa.bindparam('project_id'))
SELECT_READABLE_ANY_IMAGE = SELECT_ANY_IMAGE.where(_READABLE)
SELECT_READABLE_IMAGE = SELECT_IMAGE.where(_READABLE)


class StatementCache:
    """A small thread-safe LRU of built statements."""

    def __init__(self, size):
        self._size = size
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            statement = self._items.get(key)
            if statement is not None:
                self._items.move_to_end(key)
            return statement

    def put(self, key, statement):
        with self._lock:
            self._items[key] = statement
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
