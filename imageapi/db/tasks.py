"""Tasks: Glance's task records, their status changes, leases and expiry.

api/v2/tasks.py lists and shows them; imageapi/importing/engine.py creates, runs and
finishes import tasks; imageapi/leases.py renews the leases of the tasks this process
runs and fails those whose lease ran out; ``imageapi-manage db purge_tasks`` and the
keeper purge expired ones. Every status change is a compare-and-swap UPDATE.
"""

import datetime
import json

from oslo_db import api as oslo_db_api
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from imageapi.common import exception
from imageapi.db import api as db_api
from imageapi.db import models
from imageapi.db import records

PENDING = 'pending'
PROCESSING = 'processing'
SUCCESS = 'success'
FAILURE = 'failure'
STATUSES = (PENDING, PROCESSING, SUCCESS, FAILURE)
FINISHED = (SUCCESS, FAILURE)
TYPES = ('import', 'api_image_import', 'location_import')

ALLOWED_TRANSITIONS = frozenset([
    (PENDING, PROCESSING), (PENDING, FAILURE),
    (PROCESSING, SUCCESS), (PROCESSING, FAILURE),
])

SORT_KEYS = ('created_at', 'updated_at', 'id', 'type', 'status', 'owner',
             'expires_at')

TASKS = models.Task.__table__


def task_dict(row):
    values = dict(row)
    for key in ('input', 'result'):
        values[key] = json.loads(values[key]) if values[key] else None
    for key in ('created_at', 'updated_at', 'expires_at'):
        values[key] = records.format_time(values[key])
    values['updated_at'] = values['updated_at'] or values['created_at']
    return values


def _visible(context, query):
    if context.is_admin:
        return query
    return query.where(TASKS.c.owner == owner_key(context.project_id))


def owner_key(project_id):
    """The owner column of a task of ``project_id`` (None: anonymous)."""
    return project_id or ''


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def task_create(context, values):
    """Insert a task; ``values`` has type, owner, input and optional fields."""
    now = timeutils.utcnow()
    row = {
        'id': values.get('id') or uuidutils.generate_uuid(),
        'type': values['type'], 'status': values.get('status', PENDING),
        'owner': owner_key(values['owner']), 'image_id': values.get('image_id'),
        'request_id': values.get('request_id'),
        'user_id': values.get('user_id'),
        'input': json.dumps(values.get('input') or {}),
        'lease_expires_at': values.get('lease_expires_at'),
        'created_at': now, 'updated_at': now,
    }
    context.session.connection().execute(TASKS.insert(), row)
    return _get(context, row['id'], visible=False)


def _get(context, task_id, visible=True):
    query = sa.select(TASKS).where(TASKS.c.id == task_id)
    if visible:
        query = _visible(context, query)
    row = context.session.connection().execute(query).mappings().first()
    if row is None:
        raise exception.TaskNotFound(task_id=task_id)
    return task_dict(row)


@db_api.main_context_manager.reader
def task_get(context, task_id):
    """The task ``task_id`` if the caller may see it (admin, or its owner).

    :raises TaskNotFound: missing or not visible.
    """
    if not uuidutils.is_uuid_like(task_id):
        raise exception.TaskNotFound(task_id=task_id)
    return _get(context, task_id)


@db_api.main_context_manager.reader
def task_get_all(context, filters=None, marker=None, limit=None,
                 sort_key='created_at', sort_dir='desc'):
    """Visible tasks matching ``filters`` (status, type), one page.

    :raises MarkerNotFound: the marker is not a visible task.
    :raises InvalidSortKey: ``sort_key`` is not one of SORT_KEYS.
    """
    if sort_key not in SORT_KEYS:
        raise exception.InvalidSortKey(key=sort_key)
    connection = context.session.connection()
    query = _visible(context, sa.select(TASKS))
    for key, value in (filters or {}).items():
        query = query.where(TASKS.c[key] == value)
    keys = [sort_key] + [k for k in ('created_at', 'id') if k != sort_key]
    columns = [TASKS.c[key] for key in keys]
    if marker is not None:
        marker_row = connection.execute(_visible(context, sa.select(
            TASKS).where(TASKS.c.id == marker))).mappings().first()
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker)
        query = query.where(_after(columns, marker_row, sort_dir))
    order = [c.asc() if sort_dir == 'asc' else c.desc() for c in columns]
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return [task_dict(row)
            for row in connection.execute(query).mappings()]


def _after(columns, marker_row, sort_dir):
    """Rows after ``marker_row`` in the order of ``columns``, ``sort_dir``."""
    values = [marker_row[c.name] for c in columns]
    clauses = []
    for i, column in enumerate(columns):
        equal = [c == v for c, v in zip(columns[:i], values[:i])]
        if values[i] is None:
            # NULLs sort as the smallest on SQLite/MariaDB, the largest on
            # PostgreSQL; only expires_at may be NULL: skip it as a bound.
            continue
        beyond = column > values[i] if sort_dir == 'asc' else column < values[i]
        clauses.append(sa.and_(*equal, beyond))
    return sa.or_(*clauses)


@db_api.main_context_manager.reader
def task_get_by_image(context, image_id):
    """Tasks of ``image_id`` the caller may see, newest first."""
    query = _visible(context, sa.select(TASKS).where(
        TASKS.c.image_id == image_id)).order_by(TASKS.c.created_at.desc(),
                                                TASKS.c.id.desc())
    return [task_dict(row)
            for row in context.session.connection().execute(query).mappings()]


def _expiry(conf_ttl_hours, now):
    return now + datetime.timedelta(hours=conf_ttl_hours)


@oslo_db_api.wrap_db_retry(max_retries=3, retry_on_deadlock=True)
@db_api._writer
def task_transition(context, task_id, from_status, to_status, values=None,
                    ttl_hours=None, lease=None):
    """Move a task from ``from_status`` to ``to_status`` atomically.

    :param values: message, result (a dict) and lease_expires_at to set.
    :param ttl_hours: for a finished status, hours until it expires.
    :param lease: when given, only if ``lease_expires_at`` still equals
        it: the reaper passes the expired deadline it saw, so a renewal
        that happened meanwhile wins.
    :raises TaskNotFound: the task is gone.
    :raises InvalidTaskStatusTransition: it is no longer in ``from_status``.
    """
    if (from_status, to_status) not in ALLOWED_TRANSITIONS:
        raise exception.InvalidTaskStatusTransition(current=from_status,
                                                    target=to_status)
    now = timeutils.utcnow()
    values = dict(values or {})
    if 'result' in values:
        values['result'] = json.dumps(values['result'])
    values.update(status=to_status, updated_at=now)
    if to_status in FINISHED:
        values['lease_expires_at'] = None
        if ttl_hours is not None:
            values['expires_at'] = _expiry(ttl_hours, now)
    where = [TASKS.c.id == task_id, TASKS.c.status == from_status]
    if lease is not None:
        where.append(TASKS.c.lease_expires_at == lease)
    connection = context.session.connection()
    result = connection.execute(TASKS.update().where(*where).values(**values))
    if result.rowcount != 1:
        current = connection.execute(sa.select(TASKS.c.status).where(
            TASKS.c.id == task_id)).scalar()
        if current is None:
            raise exception.TaskNotFound(task_id=task_id)
        raise exception.InvalidTaskStatusTransition(current=current,
                                                    target=to_status)
    return _get(context, task_id, visible=False)


@db_api._writer
def task_renew(context, task_ids, expires_at):
    """Extend the leases of running ``task_ids``; returns how many are held."""
    if not task_ids:
        return 0
    result = context.session.connection().execute(
        TASKS.update().where(TASKS.c.id.in_(list(task_ids)),
                             TASKS.c.status.in_((PENDING, PROCESSING)))
        .values(lease_expires_at=expires_at))
    return result.rowcount


@db_api.main_context_manager.reader
def task_lease_expired(context, now):
    """Unfinished tasks whose lease ended before ``now`` (their process died)."""
    rows = context.session.connection().execute(
        sa.select(TASKS).where(TASKS.c.status.in_((PENDING, PROCESSING)),
                               TASKS.c.lease_expires_at < now)).mappings()
    return [dict(task_dict(row), lease_expires_at=row['lease_expires_at'])
            for row in rows]


@db_api._writer
def task_purge_expired(context, now):
    """Delete finished tasks whose expires_at passed; returns how many."""
    result = context.session.connection().execute(
        TASKS.delete().where(TASKS.c.status.in_(FINISHED),
                             TASKS.c.expires_at < now))
    return result.rowcount
