"""Leases of uploads, stages and imports: renewal for this process's, and the reaper.

Not an API concern: the start-up step (imageapi/service.py) starts the keeper, the upload
and stage controllers hold and drop claims, the import engine (importing/engine.py)
holds and drops tasks, and ``imageapi-manage image reap`` runs the reaper once. Each API
process runs one daemon thread. It renews the leases of the uploads, stages and imports
it runs, so a claim outlives a slow client but not a dead process, and every
``[upload] reap_interval`` seconds it returns uploads and stages whose lease ran out
(their process died, on this node or another) to queued and drops their partial data,
fails such imports (importing/engine.py reap_expired), and purges expired tasks.
"""

import datetime
import threading
import time

from oslo_log import log as logging
from oslo_utils import timeutils

from imageapi.common import exception
from imageapi import context as imageapi_context
from imageapi.db import api as db_api
from imageapi.db import imports as db_imports
from imageapi.db import tasks as db_tasks
from imageapi.db import uploads as db_uploads

LOG = logging.getLogger(__name__)


def lease_end(conf):
    return timeutils.utcnow() + datetime.timedelta(
        seconds=conf.upload.lease_seconds)


def reap_expired(stores, now=None, staging=None):
    """Return every upload (and stage) with an expired lease to queued.

    :param staging: the staging driver; stages are reaped when given.
    :returns: the IDs of the images reaped.
    """
    ctx = imageapi_context.get_admin_context()
    now = now or timeutils.utcnow()
    reaped = []
    if staging is not None:
        reaped.extend(_reap_stages(ctx, staging, now))
    for image_id, claim in db_uploads.upload_expired(ctx, now):
        try:
            db_uploads.upload_release(ctx, image_id, claim)
        except exception.ImageAPIException:
            continue  # renewed, finished or reaped elsewhere meanwhile
        # Temp files, and data committed but never recorded (the database
        # failed at the end of the upload).
        stores.purge(image_id)
        LOG.warning('Upload to image %s lost its lease; the image is queued '
                    'again and its partial data removed.', image_id)
        reaped.append(image_id)
    return reaped


def _reap_stages(ctx, staging, now):
    reaped = []
    for image_id, claim in db_imports.stage_expired(ctx, now):
        try:
            db_uploads.upload_release(ctx, image_id, claim,
                                      db_api.UPLOADING)
        except exception.ImageAPIException:
            continue
        staging.purge(image_id)
        LOG.warning('Stage of image %s lost its lease; the image is queued '
                    'again and its partial data removed.', image_id)
        reaped.append(image_id)
    return reaped


def purge_expired_tasks(now=None):
    """Delete the tasks whose expires_at passed; returns how many."""
    return db_tasks.task_purge_expired(imageapi_context.get_admin_context(),
                                       now or timeutils.utcnow())


class LeaseKeeper:
    """Renews this process's upload leases and reaps expired ones.

    It also knows, per claim, when its lease was last known to be held (the
    claim, or its last successful renewal): ``check`` stops an upload whose
    lease may be running out because the database could not be reached,
    before another process's reaper takes the image and its temp data.
    """

    def __init__(self, conf, stores, staging=None, reap_imports=None):
        """:param reap_imports: callable that fails expired imports."""
        self.conf = conf
        self.stores = stores
        self.staging = staging
        self.reap_imports = reap_imports
        self._claims = {}  # claim -> (image_id, monotonic time last held)
        self._tasks = {}  # task id -> monotonic time last held
        # A lease renewed at t is safe until t + lease_seconds on the
        # reaper's clock; stop a third of a lease earlier, for clock skew
        # between nodes and for the commit after the last chunk.
        self._safe_seconds = conf.upload.lease_seconds * 2.0 / 3.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        self._reaper = None
        self._stopped = False

    def hold(self, claim, image_id):
        """Keep renewing ``claim`` (just taken on ``image_id``) until ``drop``."""
        with self._lock:
            self._claims[claim] = (image_id, time.monotonic())
        self.start()

    def drop(self, claim):
        with self._lock:
            self._claims.pop(claim, None)
        self._wake.set()  # let an idle thread exit now, not a tick later

    def hold_task(self, task_id):
        """Keep renewing the lease of task ``task_id`` until ``drop_task``."""
        with self._lock:
            self._tasks[task_id] = time.monotonic()
        self.start()

    def drop_task(self, task_id):
        with self._lock:
            self._tasks.pop(task_id, None)
        self._wake.set()

    def check_task(self, task_id):
        """Raise UploadLeaseLost if the lease of ``task_id`` may have run out."""
        held_at = self._tasks.get(task_id)
        if held_at is not None and (time.monotonic() - held_at
                                    > self._safe_seconds):
            raise exception.UploadLeaseLost(image_id=task_id)

    def check(self, claim):
        """Raise UploadLeaseLost if ``claim``'s lease may have run out.

        Called between two chunks of an upload: a dictionary look-up and a
        clock read.
        """
        image_id, held_at = self._claims.get(claim, (None, None))
        if held_at is not None and (time.monotonic() - held_at
                                    > self._safe_seconds):
            raise exception.UploadLeaseLost(image_id=image_id)

    def start(self):
        """Start the thread once per process (after any fork)."""
        with self._lock:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name='imageapi-upload-leases')
            self._thread.start()

    def stop(self):
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        reaper = self._reaper
        if reaper is not None:
            reaper.join(timeout=10)

    def _run(self):
        renew_every = self.conf.upload.lease_seconds / 3.0
        reap_every = self.conf.upload.reap_interval
        # A claim starts with a whole lease: the first renewal is due a
        # third of it later, not when the thread starts.
        next_renew = renew_every
        next_reap = 0.0 if reap_every else None
        clock = timeutils.StopWatch()
        clock.start()
        while not self._stopped:
            with self._lock:
                claims = set(self._claims)
                tasks = set(self._tasks)
                if not claims and not tasks and next_reap is None:
                    # Nothing to do until the next hold() starts a thread.
                    self._thread = None
                    return
            now = clock.elapsed()
            renew = now >= next_renew
            reap = next_reap is not None and now >= next_reap
            self._tick(claims if renew else (), tasks if renew else (),
                       reap)
            if renew:
                next_renew = now + renew_every
            if reap:
                next_reap = now + reap_every
            wait = next_renew - clock.elapsed()
            if next_reap is not None:
                wait = min(wait, next_reap - clock.elapsed())
            self._wake.wait(max(0.0, wait))
            self._wake.clear()

    def _tick(self, claims, tasks, reap):
        ctx = imageapi_context.get_admin_context()
        try:
            if claims:
                renewed_at = time.monotonic()
                db_uploads.upload_renew(ctx, claims, lease_end(self.conf))
                with self._lock:
                    for claim in claims & self._claims.keys():
                        self._claims[claim] = (self._claims[claim][0],
                                               renewed_at)
            if tasks:
                renewed_at = time.monotonic()
                db_tasks.task_renew(ctx, tasks, lease_end(self.conf))
                with self._lock:
                    for task_id in tasks & self._tasks.keys():
                        self._tasks[task_id] = renewed_at
            if reap:
                self._start_reaper()
        except Exception:
            # A database outage must not kill the thread; the next tick
            # tries again, well within the lease.
            LOG.exception('Upload lease housekeeping failed')

    def _start_reaper(self):
        """Reap on a thread of its own, one run at a time.

        A store's purge can take long (an RBD image a killed client still
        watches holds its removal ~30 s): renewals must not wait for it.
        """
        if self._reaper is not None and self._reaper.is_alive():
            return  # the last run still goes on
        self._reaper = threading.Thread(target=self._reap, daemon=True,
                                        name='imageapi-reaper')
        self._reaper.start()

    def _reap(self):
        try:
            reap_expired(self.stores, staging=self.staging)
            if self.reap_imports is not None:
                self.reap_imports()
            purge_expired_tasks()
        except Exception:
            LOG.exception('Reaping expired uploads failed')
