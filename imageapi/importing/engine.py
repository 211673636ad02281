"""The engine of an import: stage the source, run the plugins, write the stores, activate.

api/v2/imports.py starts an import (db/imports.py import_start: the lock, a task holding
a lease, the image importing) and hands it to ``Engine.start``, which runs it on a
thread of this API process. The lease keeper (imageapi/leases.py) renews the task's
lease while it runs; if the process dies, any node's reaper calls ``reap_expired``
here, which fails the task and returns the image to an importable status.

Data path: the method's Source is streamed through an UploadStream (cap, quota
reservation, format inspection) into the staging file of the image (glance-direct
finds it there already); the plugins may rewrite that file; then it is written to
each target store through the store driver, hashed on that final pass, and the image
becomes active in one compare-and-swap. The staged file is removed at the end, on
success and on failure alike.
"""

import functools
import importlib
import os
import threading

from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from imageapi.common import exception
from imageapi.common import format_check
from imageapi.common import streams
from imageapi import context as imageapi_context
from imageapi.db import api as db_api
from imageapi.db import images as db_images
from imageapi.db import imports as db_imports
from imageapi.db import tasks as db_tasks
from imageapi.db import uploads as db_uploads
from imageapi.importing import errors
from imageapi.importing import methods

LOG = logging.getLogger(__name__)

_PLUGINS_MODULE = 'imageapi.importing.plugins'
_DELETED = 'Image %s was deleted during the import.'


def run_plugins(conf, context, image, staged_path):
    """Run ``[image_import_opts] image_import_plugins`` on the staged file.

    The call site of imageapi/importing/plugins/ (run_plugins there): a plugin
    may rewrite the file at ``staged_path`` in place, and returns the image
    fields and properties to set with the data.

    :returns: a dict of image field/property changes.
    :raises errors.ImportFailed: a plugin failed, or plugins are configured
        and none are installed.
    """
    if not conf.image_import_opts.image_import_plugins:
        return {}
    try:
        plugins = importlib.import_module(_PLUGINS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != _PLUGINS_MODULE:
            raise
        raise errors.PluginFailed(
            'Import plugins %s are configured but not available.'
            % ', '.join(conf.image_import_opts.image_import_plugins))
    return plugins.run_plugins(conf, context, image, staged_path)


def image_or_none(ctx, image_id):
    """The image, None once deleted; the database being away raises."""
    try:
        return db_images.image_get(ctx, image_id)
    except exception.ImageNotFound:
        return None


def staged_path(staging, image_id):
    """Where the staged data of ``image_id`` lives (staging is a file driver)."""
    return os.path.join(staging.datadir, image_id)


def discard_partial(stores, staging, image, task):
    """Remove what a failed import of ``image`` left: staging and target stores.

    Target stores that hold a recorded location of the image (copy-image's
    sources, an earlier import) are left alone; the others never got a
    location for it, so whatever they hold under its name is partial.
    """
    staging.purge(task['image_id'])
    if image is None:
        return  # deleted: the delete purged every store
    holding = {stores.of_location(loc).id for loc in image['locations']}
    for store_id in (task.get('input') or {}).get('backend') or [None]:
        store = stores.find(store_id) if store_id else stores.default
        if store is None or (image['locations'] and store.id in holding):
            continue
        try:
            store.driver.purge(task['image_id'])
        except Exception:
            LOG.exception('Could not purge partial data of image %s',
                          task['image_id'])


class _Reserve:
    """Reserves quota only for the bytes beyond what the image holds already.

    The staged data was reserved when it was staged (or downloaded); a
    plugin may make it larger, and only the excess is reserved again.
    """

    def __init__(self, reserve, already):
        self._reserve = reserve
        self._already = already
        self._total = 0

    def __call__(self, delta):
        before = max(self._total, self._already)
        self._total += delta
        if self._total > before:
            self._reserve(self._total - before)


class Engine:
    """Runs imports on threads of this process; one per API process."""

    def __init__(self, conf, stores, staging, leases):
        self.conf = conf
        self.stores = stores
        self.staging = staging
        self.leases = leases
        self._threads = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ start
    def start(self, task, image, method, body, targets, must_succeed,
              quota, context=None):
        """Run the import of ``task`` on a new thread; returns at once.

        :param targets: Store objects to write to, in order.
        :param quota: bytes the owner may store, or None.
        :param context: the caller's RequestContext, which the method's
            ``open_source`` and the plugins receive (glance-download acts
            with the caller's token); the engine's own database work uses
            an admin context. None: the admin context for all.
        """
        self.leases.hold_task(task['id'])
        thread = threading.Thread(
            target=self._run, name='imageapi-import-%s' % task['id'],
            args=(task, image, method, body, targets, must_succeed, quota,
                  context),
            daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def wait(self, timeout=None):
        """Wait for the running imports (tests, orderly shutdown)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _run(self, task, image, method, body, targets, must_succeed, quota,
             context):
        ctx = imageapi_context.get_admin_context()
        try:
            self._import(ctx, context or ctx, task, image, method, body,
                         targets, must_succeed, quota)
        except Exception as exc:
            message = getattr(exc, 'message', None) or getattr(
                exc, 'msg', None) or str(exc) or type(exc).__name__
            if self._deleted(ctx, task['image_id']):
                # Whatever broke (the delete purges the data being
                # written), the cause is the delete.
                message = _DELETED % task['image_id']
            elif not isinstance(exc, (errors.ImportFailed,
                                      exception.ImageAPIException)):
                LOG.exception('Import task %s failed', task['id'])
            self._fail(ctx, task, message)
        finally:
            self.leases.drop_task(task['id'])
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _fail(self, ctx, task, message):
        LOG.warning('Import task %s of image %s failed: %s', task['id'],
                    task['image_id'], message)
        try:
            failed = db_imports.import_fail(
                ctx, task['id'], message, self.conf.task.task_time_to_live)
        except Exception:
            # The database is away: the lease runs out and a reaper, here
            # or on another node, fails the task then.
            LOG.exception('Could not record the failure of task %s',
                          task['id'])
            return
        if failed is not None:
            discard_partial(self.stores, self.staging, image_or_none(
                ctx, task['image_id']), task)

    def _deleted(self, ctx, image_id):
        """True if the image is gone; False too when that is unknown."""
        try:
            return image_or_none(ctx, image_id) is None
        except Exception:
            return False  # the database is away; _fail copes

    # ------------------------------------------------------------ steps
    def _import(self, ctx, caller, task, image, method, body, targets,
                must_succeed, quota):
        copy = method.name == methods.COPY_IMAGE
        path = staged_path(self.staging, image['id'])
        changes = {}
        if not method.from_staging:
            changes.update(self._download(ctx, caller, task, image,
                                          method, body, quota, copy))
        elif not os.path.exists(path):
            raise errors.ImportFailed(
                'The staged data of image %s is missing.' % image['id'])
        # Reserved when staged or downloaded; a plugin may add to it.
        reserved = os.path.getsize(path)
        if not copy:
            changes.update(run_plugins(self.conf, caller, image, path))
        written, failed, stream = self._store(ctx, task, image, targets,
                                              must_succeed, quota, copy,
                                              reserved)
        self._finish(ctx, task, image, written, failed, stream, changes,
                     copy)

    def _check(self, task_id):
        self.leases.check_task(task_id)

    def _download(self, ctx, caller, task, image, method, body, quota,
                  copy):
        """Stream the method's Source into the staging file; its properties."""
        kwargs = {'stores': self.stores} if getattr(
            method, 'needs_stores', False) else {}
        source = method.open_source(self.conf, caller, image, body,
                                    **kwargs)
        try:
            if source.size is not None and (source.size
                                            > self.conf.image_size_cap):
                raise exception.ImageSizeLimitExceeded(
                    limit=self.conf.image_size_cap)
            reserve = None
            if quota is not None and not copy:
                reserve = functools.partial(
                    db_uploads.upload_reserve, ctx, image['id'], task['id'],
                    quota=quota, status=db_api.IMPORTING)
            stream = streams.UploadStream(
                source, self.conf.store.chunk_size,
                self.conf.hashing_algorithm, size=source.size,
                cap=self.conf.image_size_cap, reserve=reserve,
                inspector=self._inspector(image),
                check=functools.partial(self._check, task['id']))
            # Whatever an earlier, failed run left.
            self.staging.purge(image['id'])
            with stream:
                self.staging.add(image['id'], stream, source.size)
            return dict(source.properties or {})
        finally:
            source.close()

    def _inspector(self, image):
        if not format_check.needs_inspection(image['container_format']):
            return None
        return format_check.FormatInspector(
            image['disk_format'], require_match=self.conf.image_format
            .require_image_format_match)

    def _store(self, ctx, task, image, targets, must_succeed, quota, copy,
               reserved):
        """Write the staged file to every target; (written, failed, stream)."""
        path = staged_path(self.staging, image['id'])
        written, failed, last = [], [], None
        for store in targets:
            reserve = None
            if quota is not None and not copy and not written:
                reserve = _Reserve(functools.partial(
                    db_uploads.upload_reserve, ctx, image['id'], task['id'],
                    quota=quota, status=db_api.IMPORTING), reserved)
            source = methods.FileSource(path)
            stream = streams.UploadStream(
                source, self.conf.store.chunk_size,
                self.conf.hashing_algorithm, size=source.size,
                cap=self.conf.image_size_cap, reserve=reserve,
                check=functools.partial(self._check, task['id']))
            try:
                with stream:
                    stored = store.driver.add(image['id'], stream,
                                              source.size)
            except (errors.LeaseLost, exception.UploadLeaseLost):
                self._discard(written)
                raise
            except Exception as exc:
                LOG.warning('Import task %s: store %s failed: %s',
                            task['id'], store.id, exc)
                if must_succeed or not self.stores.multi:
                    self._discard(written)
                    raise errors.StoreFailed(
                        'Failed to write the image to store %s: %s'
                        % (store.id or 'default', exc))
                failed.append(store.id)
                continue
            finally:
                source.close()
            written.append((store, stored))
            last = stream
        if not written:
            raise errors.StoreFailed('None of the uploads finished!')
        return written, failed, last

    def _discard(self, written):
        for store, stored in written:
            self.stores.discard(store, stored.location)

    def _finish(self, ctx, task, image, written, failed, stream, changes,
                copy):
        values = {}
        if not copy:
            values = {'size': stream.size, 'virtual_size': None,
                      'checksum': stream.checksum,
                      'os_hash_algo': stream.hash_algo,
                      'os_hash_value': stream.hash_value}
            for key in ('disk_format', 'container_format', 'virtual_size'):
                if key in changes:
                    values[key] = changes.pop(key)
        locations = [{'url': stored.location,
                      'metadata': self.stores.location_metadata(store)}
                     for store, stored in written]
        try:
            db_imports.import_finish(
                ctx, image['id'], task['id'], values, locations,
                [store.id for store, _stored in written], failed,
                self.conf.task.task_time_to_live,
                properties={k: str(v) for k, v in changes.items()})
        except exception.ImageNotFound:
            self._discard(written)
            raise errors.ImportFailed(_DELETED % image['id'])
        except exception.InvalidTaskStatusTransition:
            # Reaped meanwhile: the reaper put the image back already.
            self._discard(written)
            raise errors.LeaseLost(
                'The import lost its lease and was failed by a reaper.')
        self.staging.purge(image['id'])
        LOG.info('Import task %s: image %s is in store(s) %s', task['id'],
                 image['id'], ', '.join(str(s.id) for s, _l in written))


def sweep_staging(staging):
    """Remove staged data no stage or import uses any more; returns image ids.

    Residue of a node that died between its last write and the reaper (as
    Glance's staging cleaner removes it, at every reap here rather than at
    start-up only).
    """
    names = []
    for directory in (staging.datadir, staging.tmpdir):
        try:
            names += os.listdir(directory)
        except FileNotFoundError:
            continue
    ids = {name.split('.')[0] for name in names
           if uuidutils.is_uuid_like(name.split('.')[0])}
    ctx = imageapi_context.get_admin_context()
    unused = sorted(ids - db_imports.staging_in_use(ctx, ids))
    for image_id in unused:
        staging.purge(image_id)
        LOG.info('Removed staging residue of image %s', image_id)
    return unused


def reap_expired(conf, stores, staging, now=None):
    """Fail every import whose lease ran out, then sweep the staging area.

    :returns: the ids of the tasks failed.
    """
    ctx = imageapi_context.get_admin_context()
    reaped = []
    for task in db_tasks.task_lease_expired(ctx, now or timeutils.utcnow()):
        failed = db_imports.import_fail(
            ctx, task['id'], 'The import was interrupted: the process '
            'running it stopped (its lease ran out).',
            conf.task.task_time_to_live, lease=task['lease_expires_at'])
        if failed is None:
            continue  # renewed, finished or reaped elsewhere meanwhile
        image = image_or_none(ctx, task['image_id'])
        discard_partial(stores, staging, image, task)
        LOG.warning('Import task %s of image %s lost its lease; failed it.',
                    task['id'], task['image_id'])
        reaped.append(task['id'])
    sweep_staging(staging)
    return reaped
