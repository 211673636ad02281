"""TasksController: Glance's tasks API, GET/POST /v2/tasks and GET /v2/tasks/{id}.

Every call passes ``tasks_api_access`` (admin by default) first, as in Glance. A task of
type ``import`` made by POST is an import of ``input.import_from`` into a new image,
run by the import engine (importing/engine.py) with the web-download method when this
site offers it.
"""

import urllib.parse

from oslo_utils import uuidutils

from imageapi.common import exception
from imageapi.common import wsgi
from imageapi.db import tasks as db_tasks

TASK_SCHEMA_PATH = '/v2/schemas/task'
TASKS_SCHEMA_PATH = '/v2/schemas/tasks'
_STUB_HIDDEN = ('input', 'result', 'message')


def task_path(task_id):
    return '/v2/tasks/%s' % task_id


def expired(task, now):
    """True once a finished task passed its expires_at (not yet purged)."""
    return bool(task['expires_at']) and task['expires_at'] < (
        now.isoformat(timespec='seconds') + 'Z')


def task_view(task):
    """What GET /v2/tasks/{id} shows (Glance's _format_task)."""
    view = {'id': task['id'], 'input': task['input'], 'type': task['type'],
            'status': task['status'], 'owner': task['owner'],
            'message': task['message'] or '', 'result': task['result'],
            'created_at': task['created_at'],
            'updated_at': task['updated_at'],
            'self': task_path(task['id']), 'schema': TASK_SCHEMA_PATH}
    for key in ('image_id', 'request_id', 'user_id', 'expires_at'):
        if task[key]:
            view[key] = task[key]
    return view


def task_stub(task):
    """A task in a list: no input, result or message."""
    view = task_view(task)
    for key in _STUB_HIDDEN + ('image_id', 'request_id', 'user_id'):
        view.pop(key, None)
    return view


def task_detail(task):
    """A task of GET /v2/images/{id}/tasks (Glance's task dict)."""
    return {'id': task['id'], 'type': task['type'], 'status': task['status'],
            'owner': task['owner'], 'image_id': task['image_id'],
            'request_id': task['request_id'], 'user_id': task['user_id'],
            'input': task['input'], 'result': task['result'],
            'message': task['message'] or '',
            'expires_at': task['expires_at'],
            'created_at': task['created_at'],
            'updated_at': task['updated_at'],
            'deleted': False, 'deleted_at': None}


def _limit(conf, value):
    if value is None:
        return conf.limit_param_default
    try:
        limit = int(value)
    except ValueError:
        raise exception.BadRequest(message='limit param must be an integer')
    if limit < 0:
        raise exception.BadRequest(message='limit param must be positive')
    return min(limit, conf.api_limit_max)


def _filters(params):
    filters = {}
    status = params.get('status')
    if status:
        if status not in db_tasks.STATUSES:
            raise exception.BadRequest(
                message='Invalid status value: %s' % status)
        filters['status'] = status
    task_type = params.get('type')
    if task_type:
        if task_type != 'import':
            raise exception.BadRequest(
                message='Invalid type value: %s' % task_type)
        filters['type'] = task_type
    return filters


class TasksController:

    def __init__(self, conf, enforcer, creator=None):
        """:param creator: callable(req, ctx, body) -> task for POST."""
        self.conf = conf
        self.enforcer = enforcer
        self.creator = creator

    def _access(self, ctx, action):
        target = {'project_id': ctx.project_id}
        self.enforcer.authorize(ctx, 'tasks_api_access', target)
        self.enforcer.authorize(ctx, action, target)

    def index(self, req, ctx):
        self._access(ctx, 'get_tasks')
        params = req.query_params()
        sort_dir = params.get('sort_dir', 'desc')
        if sort_dir not in ('asc', 'desc'):
            raise exception.BadRequest(
                message='Invalid sort direction: %s' % sort_dir)
        marker = params.get('marker')
        if marker is not None and not uuidutils.is_uuid_like(marker):
            raise exception.BadRequest(message='Invalid marker format')
        limit = _limit(self.conf, params.get('limit'))
        found = db_tasks.task_get_all(
            ctx, filters=_filters(params), marker=marker, limit=limit,
            sort_key=params.get('sort_key', 'created_at'),
            sort_dir=sort_dir)
        kept = [(k, v) for k, v in params.items() if k != 'marker']
        first = '/v2/tasks'
        if kept:
            first += '?' + urllib.parse.urlencode(kept)
        body = {'tasks': [task_stub(task) for task in found],
                'first': first, 'schema': TASKS_SCHEMA_PATH}
        if found and len(found) == limit:
            body['next'] = '/v2/tasks?' + urllib.parse.urlencode(
                kept + [('marker', found[-1]['id'])])
        return wsgi.json_response(body)

    def show(self, req, ctx, task_id):
        self._access(ctx, 'get_task')
        return wsgi.json_response(task_view(db_tasks.task_get(ctx, task_id)))

    def create(self, req, ctx):
        self._access(ctx, 'add_task')
        body = req.read_json()
        if not isinstance(body, dict):
            raise exception.BadRequest(
                message='Body expected in request.')
        for key in ('type', 'input'):
            if key not in body:
                raise exception.BadRequest(
                    message='Unable to find `%s` in JSON Schema change' % key)
        if body['type'] not in db_tasks.TYPES:
            raise exception.BadRequest(
                message="Provided object does not match schema 'task': "
                        "%r is not one of %r" % (body['type'],
                                                 list(db_tasks.TYPES)))
        if not isinstance(body['input'], dict):
            raise exception.BadRequest(
                message="Provided object does not match schema 'task': "
                        "input must be an object")
        task = self.creator(req, ctx, body)
        return wsgi.json_response(task_view(task), status=201, headers={
            'Location': task_path(task['id'])})
