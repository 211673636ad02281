"""ImagesController: create, list, show, update and delete image records, and tags.

Image bytes are not handled here (see image_data.py); deleting an image removes its data
through the store driver after the record is gone.
"""

from oslo_log import log as logging

from imageapi.api.v2 import list_params
from imageapi.api.v2 import patch
from imageapi.api.v2 import schemas
from imageapi.api.v2 import views
from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import members as db_members
from imageapi import policy

LOG = logging.getLogger(__name__)

# Fields stored as image columns; every other key is an extra property.
_COLUMNS = schemas.WRITABLE_CORE_PROPERTIES


def _check_key_length(name):
    if name not in _COLUMNS and len(name) > schemas.MAX_PROPERTY_NAME_LENGTH:
        raise exception.BadRequest(schemas.PROPERTY_NAME_TOO_LONG_MSG)


# min_ram and min_disk are INT columns; Glance refuses what they cannot hold.
_MAX_DB_INT = 2 ** 31 - 1


def _check_min_values(values):
    for key in ('min_ram', 'min_disk'):
        if values.get(key, 0) < 0:
            raise exception.BadRequest(
                reason='Cannot set %s to a negative value.' % key)
        if values.get(key, 0) > _MAX_DB_INT:
            raise exception.BadRequest(
                reason="'%s' value out of range, must not exceed %d."
                       % (key, _MAX_DB_INT))


def image_target(ctx, image):
    """The policy target of ``image``; member_id is the caller if a member."""
    def caller_membership():
        if (image['visibility'] != 'shared' or ctx.project_id is None
                or image['owner'] == ctx.project_id):
            return None
        found = db_members.image_member_find(ctx, image['id'], ctx.project_id)
        return ctx.project_id if found else None
    return policy.ImageTarget(image, member_lookup=caller_membership)


# The rule that guards setting each visibility; the others need none.
_VISIBILITY_RULES = {'public': 'publicize_image',
                     'community': 'communitize_image'}


def _refuse_location_change(op, value, conf):
    """Locations change only through uploads; Glance's 403s for PATCH."""
    if op == 'replace' and not value:
        raise exception.Forbidden(
            message='Cannot set locations to empty list.')
    if not conf.show_multiple_locations:
        verb = {'add': 'add', 'replace': 'update', 'remove': 'remove'}[op]
        raise exception.Forbidden(
            message="It's not allowed to %s locations if locations are "
                    "invisible." % verb)
    # NOTE: Glance lets owners point an image at arbitrary store URLs here
    # when show_multiple_locations is on; imageapi stores data only
    # through uploads.
    raise exception.Forbidden(
        message='Image locations cannot be changed through PATCH.')


def _check_count(kind, count, quota):
    if quota >= 0 and count > quota:
        raise exception.LimitExceeded(
            reason='The limit has been exceeded on the number of allowed '
                   'image %s. Attempted: %d, Maximum: %d'
                   % (kind, count, quota))


class ImagesController:

    def __init__(self, conf, stores, enforcer, limits, cache=None,
                 staging=None):
        self.conf = conf
        self.stores = stores
        self.cache = cache
        self.staging = staging
        self.enforcer = enforcer
        self.limits = limits
        self.schema = schemas.image_schema(conf)

    def _get_image(self, ctx, image_id, action='get_image'):
        """The image if ``ctx`` may do ``action`` on it (404 if unseen)."""
        image = db_images.image_get(ctx, image_id)
        self.enforcer.authorize_image(ctx, action, image_target(ctx, image))
        return image

    # ------------------------------------------------------------ create
    def create(self, req, ctx):
        body = req.read_json()
        if not isinstance(body, dict):
            raise exception.BadRequest(
                reason='Request body must be a JSON object.')
        schemas.check_create_body(self.schema, body)
        _check_min_values(body)
        values = {k: v for k, v in body.items() if k in _COLUMNS}
        values['properties'] = {k: v for k, v in body.items()
                                if k not in _COLUMNS}
        _check_count('properties', len(values['properties']),
                     self.conf.image_property_quota)
        _check_count('tags', len(set(values.get('tags', []))),
                     self.conf.image_tag_quota)
        self._check_owner_value(ctx, values)
        target = policy.new_image_target(
            values['owner'], values.get('visibility') or 'shared')
        self._check_visibility(ctx, values.get('visibility'), target)
        self.enforcer.authorize(ctx, 'add_image', target)
        self.limits.enforce_image_count_total(ctx, ctx.project_id)
        values['tags'] = sorted(set(values.get('tags', [])))
        image = db_images.image_create(ctx, values)
        view = views.image_view(image, self.conf)
        headers = {'Location': req.host_url + view['self']}
        # Glance leaves the header out rather than send it empty (RFC 7230
        # has no empty field values).
        if self.conf.enabled_import_methods:
            headers['OpenStack-image-import-methods'] = ','.join(
                self.conf.enabled_import_methods)
        if self.stores.multi:
            headers['OpenStack-image-store-ids'] = ','.join(
                store.id for store in self.stores)
        return wsgi.json_response(view, status=201, headers=headers)

    def _check_owner_value(self, ctx, values):
        owner = values.get('owner', ctx.project_id)
        if owner != ctx.project_id and not ctx.is_admin:
            raise exception.Forbidden(
                message="You are not permitted to create images owned by "
                        "'%s'." % owner)
        # The caller's project id is stored as the owner too: it must fit
        # the column as a given owner must (noauth takes any X-Project-Id).
        schemas.validate_image(self.schema, {'owner': owner})
        values['owner'] = owner

    def _check_visibility(self, ctx, visibility, target):
        rule = _VISIBILITY_RULES.get(visibility)
        if rule is not None:
            self.enforcer.authorize(ctx, rule, target)

    # ------------------------------------------------------------ read
    def index(self, req, ctx):
        params = req.query_params()
        query = list_params.parse(params, self.conf)
        self.enforcer.authorize(ctx, 'get_images',
                                {'project_id': ctx.project_id})
        limit = query['limit']
        images = db_images.image_get_all(
            ctx, filters=query['filters'], marker=query['marker'],
            limit=limit + 1, sort_keys=query['sort_keys'],
            sort_dirs=query['sort_dirs'])
        next_marker = None
        if len(images) > limit:
            images = images[:limit]
            next_marker = images[-1]['id'] if images else None
        if self.enforcer.overridden('get_image'):
            # Each listed image must pass get_image too. With the default
            # rule every image the query returns does, and at about half a
            # millisecond per oslo.policy check, a long list would pay.
            images = [image for image in images if self.enforcer.check(
                ctx, 'get_image', image_target(ctx, image))]
        body = views.images_view(images, list(params.items()),
                                 next_marker, self.conf)
        return wsgi.json_response(body)

    def show(self, req, ctx, image_id):
        image = self._get_image(ctx, image_id)
        return wsgi.json_response(views.image_view(image, self.conf))

    # ------------------------------------------------------------ update
    def update(self, req, ctx, image_id):
        draft, changes = patch.parse(req)
        # Glance checks every operation (403 read-only, 400 schema) before
        # it looks the image up.
        for op, path, value in changes:
            schemas.check_patch_change(self.schema, op, path, value)
            if op != 'remove':
                _check_key_length(path[0])
        image = self._get_image(ctx, image_id, 'modify_image')
        if not changes:
            # As Glance: nothing to save, updated_at stays.
            return wsgi.json_response(views.image_view(image, self.conf))
        update = _Update(image)
        for op, path, value in changes:
            if path[0] == 'locations':
                _refuse_location_change(op, value, self.conf)
            update.apply(op, path[0], value, draft)
        _check_min_values(update.values)
        self._check_update(ctx, image, update)
        image = db_images.image_update(
            ctx, image_id, update.values, properties=update.properties,
            removed=update.removed, tags=update.tags,
            property_quota=self.conf.image_property_quota,
            tag_quota=self.conf.image_tag_quota)
        return wsgi.json_response(views.image_view(image, self.conf))

    def _check_update(self, ctx, image, update):
        values = update.values
        for key in ('disk_format', 'container_format'):
            if (key in values and values[key] != image[key]
                    and image['status'] != db_api.QUEUED):
                raise exception.Forbidden(
                    message='Attribute %s can be only replaced for a '
                            'queued image.' % key)
        if 'owner' in values and values['owner'] != image['owner']:
            if not ctx.is_admin:
                raise exception.Forbidden(
                    message="Owner can't be updated by non admin.")
        if values.get('visibility') != image['visibility']:
            self._check_visibility(ctx, values.get('visibility'),
                                   image_target(ctx, image))
        props = dict(image['properties'], **update.properties)
        for name in update.removed:
            props.pop(name, None)
        _check_count('properties', len(props),
                     self.conf.image_property_quota)
        if update.tags is not None:
            _check_count('tags', len(update.tags), self.conf.image_tag_quota)

    # ------------------------------------------------------------ delete
    def delete(self, req, ctx, image_id):
        image = self._get_image(ctx, image_id, 'delete_image')
        for location in image['locations']:
            self._check_not_in_use(location)
        image = db_images.image_destroy(ctx, image_id)
        if (self.staging is not None
                and image['status'] in (db_api.UPLOADING, db_api.IMPORTING)):
            # Staged data: a running stage or import then fails (410, or
            # its task fails) and finds nothing to clean.
            self._purge_staging(image_id)
        if not image['locations']:
            # Nothing recorded, but an upload may have left data: a running
            # one (it then fails, 410), or one whose end the database missed.
            self._purge(image_id)
        for location in image['locations']:
            self._delete_data(image_id, location)
        if self.cache is not None:
            # This node's copy; other nodes drop theirs on the next download
            # or keeper run.
            self.cache.delete(image_id)
        return wsgi.empty_response()

    def delete_from_store(self, req, ctx, store_id, image_id):
        """DELETE /v2/stores/{store_id}/{image_id}: drop one store's copy."""
        if not self.stores.multi:
            raise exception.MultiStoreDisabled()
        if self.stores.find(store_id) is None:
            raise exception.NotFound(message='Store %s not found' % store_id)
        image = self._get_image(ctx, image_id, 'delete_image_location')
        for location in image['locations']:
            if location['metadata'].get('store') == store_id:
                self._check_not_in_use(location)
        try:
            location = db_images.image_location_delete(ctx, image_id,
                                                       store_id)
        except exception.StoredDataNotFound:
            raise exception.NotFound(
                message='Image %s is not present in store %s'
                        % (image_id, store_id))
        self._delete_data(image_id, location)
        return wsgi.empty_response()

    def _check_not_in_use(self, location):
        """409 while others depend on the data (RBD clones), as Glance does.

        Checked before the record goes, so both stay. A clone made between
        this check and the delete keeps the data; Stores.discard logs it.
        """
        store = self.stores.of_location(location)
        if store.driver.in_use(location['url']):
            raise exception.InUseByStore(
                reason='image data at %s has dependent copies (clones)'
                       % location['url'])

    def _delete_data(self, image_id, location):
        self.stores.discard(self.stores.of_location(location),
                            location['url'])

    def _purge_staging(self, image_id):
        try:
            self.staging.purge(image_id)
        except Exception:
            LOG.exception('Could not purge the staged data of deleted image '
                          '%s', image_id)

    def _purge(self, image_id):
        try:
            self.stores.purge(image_id)
        except Exception:
            LOG.exception('Could not purge the data of deleted image %s',
                          image_id)

    # ------------------------------------------------------------ tags
    def add_tag(self, req, ctx, image_id, tag):
        if len(tag) > schemas.MAX_PROPERTY_NAME_LENGTH:
            raise exception.BadRequest(
                reason='Provided object does not match schema \'image\': '
                       "'%s' is too long" % tag)
        image = self._get_image(ctx, image_id, 'modify_image')
        if tag not in image['tags']:
            _check_count('tags', len(image['tags']) + 1,
                         self.conf.image_tag_quota)
        db_images.image_tag_add(ctx, image_id, tag,
                                quota=self.conf.image_tag_quota)
        return wsgi.empty_response()

    def delete_tag(self, req, ctx, image_id, tag):
        self._get_image(ctx, image_id, 'modify_image')
        db_images.image_tag_delete(ctx, image_id, tag)
        return wsgi.empty_response()


class _Update:
    """Applies parsed patch operations to a copy of an image's state."""

    def __init__(self, image):
        self.image = image
        self.values = {}
        self.properties = {}
        self.removed = set()
        self.tags = None

    def _has_property(self, name):
        if name in self.properties:
            return True
        return name in self.image['properties'] and name not in self.removed

    def apply(self, op, name, value, draft):
        if name in _COLUMNS:
            self._apply_core(op, name, value, draft)
        elif op == 'remove':
            if not self._has_property(name):
                raise exception.Conflict(
                    reason='Property %s does not exist.' % name)
            self.properties.pop(name, None)
            self.removed.add(name)
        else:
            exists = self._has_property(name)
            if op == 'replace' and not exists:
                raise exception.Conflict(
                    reason='Property %s does not exist.' % name)
            if op == 'add' and exists and draft == 4:
                raise exception.Conflict(
                    reason='Property %s already present.' % name)
            self.properties[name] = value
            self.removed.discard(name)

    def _apply_core(self, op, name, value, draft):
        if op == 'remove':
            raise exception.Forbidden(
                message='Property %s may not be removed.' % name)
        if op == 'add' and draft == 4:
            raise exception.Conflict(
                reason='Property %s already present.' % name)
        if name == 'tags':
            self.tags = sorted(set(value))
        elif name == 'id':
            raise exception.ReadOnlyAttribute(attribute=name)
        else:
            self.values[name] = value
