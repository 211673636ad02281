"""ImportsController: POST /v2/images/{id}/import, GET /v2/info/import, an image's tasks.

The request checks what Glance checks, in Glance's order (glance/api/v2/images.py
``import_image``), takes the import lock and creates the task in one transaction
(db/imports.py import_start), and hands the work to the import engine
(importing/engine.py), which runs it on a thread of this process: 202 at once.
"""

import os

from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import timeutils

from imageapi.api.v2 import image_data
from imageapi.api.v2 import images
from imageapi.api.v2 import tasks as tasks_api
from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import imports as db_imports
from imageapi.db import tasks as db_tasks
from imageapi.importing import engine
from imageapi.importing import methods
from imageapi import leases

LOG = logging.getLogger(__name__)

TASK_TYPE = 'api_image_import'


def _check_body(conf, body):
    """Glance's checks of the request body, before the image is read."""
    if not isinstance(body, dict) or 'method' not in body:
        raise exception.BadRequest(
            message="Import request requires a 'method' field.")
    method = body['method']
    if not isinstance(method, dict) or 'name' not in method:
        raise exception.BadRequest(
            message="Import request requires a 'name' field.")
    for key, default in (('all_stores_must_succeed', True),
                         ('all_stores', False)):
        if not isinstance(body.get(key, default), bool):
            raise exception.BadRequest(
                message="'%s' must be boolean value only" % key)
    stores = body.get('stores')
    if stores is not None and (not isinstance(stores, list) or not all(
            isinstance(s, str) for s in stores)):
        raise exception.BadRequest(
            message="'stores' must be a list of store identifiers")
    return methods.get(conf, method['name'])


def _check_status(method, image):
    """409s of Glance's, by method and image status."""
    status = image['status']
    name = method.name
    if status == db_api.ACTIVE and name != methods.COPY_IMAGE:
        raise exception.Conflict(
            message='Image with status active cannot be target for import')
    if status != db_api.ACTIVE and name == methods.COPY_IMAGE:
        raise exception.Conflict(
            message='Only images with status active can be targeted for '
                    'copying')
    if status != db_api.QUEUED and name in (methods.WEB_DOWNLOAD,
                                            methods.GLANCE_DOWNLOAD):
        raise exception.Conflict(
            message="Image needs to be in 'queued' state to use '%s' method"
                    % name)
    if name == methods.GLANCE_DIRECT and (status != db_api.UPLOADING
                                          or image['upload_claim']):
        # A claim on an uploading image: its stage is still streaming.
        raise exception.Conflict(
            message="Image needs to be staged before 'glance-direct' method "
                    "can be used")
    for key in ('container_format', 'disk_format'):
        if not image[key]:
            raise exception.Conflict(
                message="'%s' needs to be set before import" % key)


class ImportsController:

    def __init__(self, conf, stores, engine, enforcer, limits):
        self.conf = conf
        self.stores = stores
        self.engine = engine
        self.enforcer = enforcer
        self.limits = limits
        self.quota = image_data.parse_quota(conf.user_storage_quota)

    # ------------------------------------------------------------ import
    def import_image(self, req, ctx, image_id):
        body = req.read_json()
        method = _check_body(self.conf, body)
        self.limits.enforce_image_size_total(ctx, ctx.project_id, 0)
        image = db_images.image_get(ctx, image_id)
        _check_status(method, image)
        rule = ('copy_image' if method.name == methods.COPY_IMAGE
                else 'modify_image')
        self.enforcer.authorize_image(ctx, rule,
                                      images.image_target(ctx, image))
        if db_imports.LOCK_KEY in image['properties']:
            self._break_stale_lock(ctx, image_id)
        targets = self._targets(req, body, method, image)
        if not targets:
            # copy-image with all_stores: every store has it already.
            return wsgi.empty_response(status=202)
        must_succeed = body.get('all_stores_must_succeed', True)
        if not must_succeed and not self.stores.multi:
            raise exception.BadRequest(
                message='All_stores_must_succeed can only be set with '
                        'enabled_backends %s' % body['method'].get('uri'))
        method.validate(self.conf, ctx, image, body)
        self._enforce_limits(ctx, method, image)
        task, image = db_imports.import_start(
            ctx, image_id, image['status'], {
                'type': TASK_TYPE, 'owner': ctx.project_id,
                'image_id': image_id, 'request_id': ctx.request_id,
                'user_id': ctx.user_id,
                'input': {'image_id': image_id, 'import_req': body,
                          'backend': [s.id for s in targets]}},
            [s.id for s in targets], leases.lease_end(self.conf))
        LOG.info('Import task %s of image %s started (%s)', task['id'],
                 image_id, method.name)
        self.engine.start(task, image, method, body, targets, must_succeed,
                          self._quota(ctx, image, method), context=ctx)
        return wsgi.empty_response(status=202)

    def _break_stale_lock(self, ctx, image_id):
        """Glance's rule: 409 unless the lock's task is gone or too old."""
        holder = db_imports.import_lock_holder(ctx, image_id)
        if holder is None:
            return
        if not db_imports.lock_is_stale(holder, timeutils.utcnow()):
            raise exception.Conflict(message='Image has active task')
        if not db_imports.import_lock_break(ctx, image_id, holder['id']):
            raise exception.Conflict(message='Image has active task')
        LOG.warning('Image %s had a stale import lock of task %s (%s); '
                    'removed it.', image_id, holder['id'],
                    holder.get('status') or 'missing')

    def _targets(self, req, body, method, image):
        """The Store objects to import into, as Glance picks them."""
        if not self.stores.multi:
            return [self.stores.default]
        header = req.headers.get('x-image-meta-store')
        if body.get('all_stores', False):
            if 'stores' in body or header is not None:
                raise exception.BadRequest(
                    message="All_stores parameter can't be used with "
                            "x-image-meta-store header or stores parameter")
            ids = [store.id for store in self.stores]
        elif 'stores' in body:
            if header is not None:
                raise exception.BadRequest(
                    message="Stores parameter and x-image-meta-store header "
                            "can't be both specified")
            ids = body['stores']
        else:
            ids = [header or self.stores.default.id]
        for store_id in ids:
            if self.stores.find(store_id) is None:
                raise exception.Conflict(
                    message='Store for identifier %s not found' % store_id)
        if method.name == methods.COPY_IMAGE:
            ids = self._copy_targets(body, image, ids)
        return [self.stores.find(store_id)
                for store_id in dict.fromkeys(ids)]

    def _copy_targets(self, body, image, ids):
        present = {loc['metadata'].get('store')
                   for loc in image['locations']}
        if body.get('all_stores', False):
            return [store_id for store_id in ids if store_id not in present]
        for store_id in ids:
            if store_id in present:
                raise exception.BadRequest(
                    message="Image is already present at store '%s'"
                            % store_id)
        return ids

    def _enforce_limits(self, ctx, method, image):
        """Glance's quota checks for the method (api_image_import.py)."""
        if method.name == methods.GLANCE_DIRECT:
            try:
                staged = os.path.getsize(engine.staged_path(
                    self.engine.staging, image['id']))
            except OSError:
                staged = 0  # the engine fails the task: nothing staged
            self.limits.enforce_image_size_total(ctx, ctx.project_id,
                                                 staged)
        else:
            self.limits.enforce_image_stage_total(ctx, ctx.project_id,
                                                  image['size'] or 0)
            self.limits.enforce_image_count_uploading(ctx, ctx.project_id)

    def _quota(self, ctx, image, method):
        """Bytes the owner may store in all (the stream reserves against it)."""
        if method.name == methods.COPY_IMAGE:
            return None  # the image's size is counted once, copies or not
        if self.limits.enabled:
            return self.limits.size_limit_bytes(ctx, image['owner'])
        return self.quota or None

    # ------------------------------------------------------------ tasks
    def create_task(self, req, ctx, body):
        """POST /v2/tasks of type import: a new image from ``import_from``.

        Glance's legacy import task, run here as a web-download import of a
        new image made from ``image_properties``.
        """
        if body['type'] != 'import':
            raise exception.BadRequest(
                message="Task type '%s' cannot be created through the tasks "
                        "API; use POST /v2/images/{image_id}/import."
                        % body['type'])
        task_input = body['input']
        for key in ('import_from', 'import_from_format', 'image_properties'):
            if key not in task_input:
                raise exception.BadRequest(
                    message="Input does not contain '%s' field" % key)
        method = methods.METHODS.get(methods.WEB_DOWNLOAD)
        if method is None:
            raise exception.BadRequest(
                message='Importing from a URI is not available at this '
                        'site.')
        props = task_input['image_properties']
        if not isinstance(props, dict):
            raise exception.BadRequest(
                message="'image_properties' must be an object")
        image = self._task_image(ctx, props)
        import_body = {'method': {'name': method.name,
                                  'uri': task_input['import_from']}}
        try:
            _check_status(method, image)
            method.validate(self.conf, ctx, image, import_body)
            task, image = db_imports.import_start(
                ctx, image['id'], image['status'], {
                    'type': 'import', 'owner': ctx.project_id,
                    'image_id': image['id'], 'request_id': ctx.request_id,
                    'user_id': ctx.user_id, 'input': task_input},
                [None], leases.lease_end(self.conf))
        except Exception:
            with excutils.save_and_reraise_exception():
                db_images.image_destroy(ctx, image['id'])
        self.engine.start(task, image, method, import_body,
                          [self.stores.default], True,
                          self._quota(ctx, image, method), context=ctx)
        return task

    def _task_image(self, ctx, props):
        values = {k: v for k, v in props.items() if k in db_api.CORE_FIELDS}
        values['owner'] = ctx.project_id
        values['properties'] = {
            k: str(v) for k, v in props.items()
            if k not in db_api.CORE_FIELDS and k not in ('tags', 'id')}
        values['tags'] = props.get('tags') or []
        self.limits.enforce_image_count_total(ctx, ctx.project_id)
        return db_images.image_create(ctx, values)

    # ------------------------------------------------------------ info
    def info(self, req, ctx):
        """GET /v2/info/import: the import methods of this site."""
        return wsgi.json_response({'import-methods': {
            'description': 'Import methods available.',
            'type': 'array',
            'value': methods.enabled(self.conf)}})

    def image_tasks(self, req, ctx, image_id):
        """GET /v2/images/{id}/tasks: the image's unexpired tasks."""
        image = db_images.image_get(ctx, image_id)
        self.enforcer.authorize_image(ctx, 'get_image',
                                      images.image_target(ctx, image))
        now = timeutils.utcnow()
        found = db_tasks.task_get_by_image(ctx, image_id)
        return wsgi.json_response({'tasks': [
            tasks_api.task_detail(task) for task in found
            if not tasks_api.expired(task, now)]})
