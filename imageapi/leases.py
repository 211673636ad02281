"""Upload claim leases: renewal for this process's uploads, and the reaper.

Not an API concern: the start-up step (imageapi/service.py) starts the keeper, the upload
controller holds and drops claims, and ``imageapi-manage image reap`` runs the reaper
once. Each API process runs one daemon thread. It renews the leases of the uploads it is
streaming, so a claim outlives a slow client but not a dead process, and every
``[upload] reap_interval`` seconds it returns uploads whose lease ran out (their
process died, on this node or another) to queued and drops their partial data.
"""

import datetime
import threading
import time

from oslo_log import log as logging
from oslo_utils import timeutils

from imageapi.common import exception
from imageapi import context as imageapi_context
from imageapi.db import uploads as db_uploads

LOG = logging.getLogger(__name__)


def lease_end(conf):
    return timeutils.utcnow() + datetime.timedelta(
        seconds=conf.upload.lease_seconds)


def reap_expired(stores, now=None):
    """Return every upload with an expired lease to queued.

    :returns: the IDs of the images reaped.
    """
    ctx = imageapi_context.get_admin_context()
    reaped = []
    for image_id, claim in db_uploads.upload_expired(ctx,
                                                     now or timeutils.utcnow()):
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


class LeaseKeeper:
    """Renews this process's upload leases and reaps expired ones.

    It also knows, per claim, when its lease was last known to be held (the
    claim, or its last successful renewal): ``check`` stops an upload whose
    lease may be running out because the database could not be reached,
    before another process's reaper takes the image and its temp data.
    """

    def __init__(self, conf, stores):
        self.conf = conf
        self.stores = stores
        self._claims = {}  # claim -> (image_id, monotonic time last held)
        # A lease renewed at t is safe until t + lease_seconds on the
        # reaper's clock; stop a third of a lease earlier, for clock skew
        # between nodes and for the commit after the last chunk.
        self._safe_seconds = conf.upload.lease_seconds * 2.0 / 3.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
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
                if not claims and next_reap is None:
                    # Nothing to do until the next hold() starts a thread.
                    self._thread = None
                    return
            now = clock.elapsed()
            renew = now >= next_renew
            reap = next_reap is not None and now >= next_reap
            self._tick(claims if renew else (), reap)
            if renew:
                next_renew = now + renew_every
            if reap:
                next_reap = now + reap_every
            wait = next_renew - clock.elapsed()
            if next_reap is not None:
                wait = min(wait, next_reap - clock.elapsed())
            self._wake.wait(max(0.0, wait))
            self._wake.clear()

    def _tick(self, claims, reap):
        ctx = imageapi_context.get_admin_context()
        try:
            if claims:
                renewed_at = time.monotonic()
                db_uploads.upload_renew(ctx, claims, lease_end(self.conf))
                with self._lock:
                    for claim in claims & self._claims.keys():
                        self._claims[claim] = (self._claims[claim][0],
                                               renewed_at)
            if reap:
                reap_expired(self.stores)
        except Exception:
            # A database outage must not kill the thread; the next tick
            # tries again, well within the lease.
            LOG.exception('Upload lease housekeeping failed')
