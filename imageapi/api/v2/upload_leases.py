"""Upload claim leases: renewal for this process's uploads, and the reaper.

Each API process runs one daemon thread. It renews the leases of the uploads it is
streaming, so a claim outlives a slow client but not a dead process, and every
``[upload] reap_interval`` seconds it returns uploads whose lease ran out (their
process died, on this node or another) to queued and drops their partial data.
``imageapi-manage image reap`` runs the same reaper once.
"""

import datetime
import threading

from oslo_log import log as logging
from oslo_utils import timeutils

from imageapi.common import exception
from imageapi import context as imageapi_context
from imageapi.db import uploads as db_uploads

LOG = logging.getLogger(__name__)


def lease_end(conf):
    return timeutils.utcnow() + datetime.timedelta(
        seconds=conf.upload.lease_seconds)


def reap_expired(driver, now=None):
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
        driver.discard_partial(image_id)
        LOG.warning('Upload to image %s lost its lease; the image is queued '
                    'again and its partial data removed.', image_id)
        reaped.append(image_id)
    return reaped


class LeaseKeeper:
    """Renews this process's upload leases and reaps expired ones."""

    def __init__(self, conf, driver):
        self.conf = conf
        self.driver = driver
        self._claims = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        self._stopped = False

    def hold(self, claim):
        """Keep renewing ``claim`` until ``drop``."""
        with self._lock:
            self._claims.add(claim)
        self.start()

    def drop(self, claim):
        with self._lock:
            self._claims.discard(claim)
        self._wake.set()  # let an idle thread exit now, not a tick later

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
                db_uploads.upload_renew(ctx, claims, lease_end(self.conf))
            if reap:
                reap_expired(self.driver)
        except Exception:
            # A database outage must not kill the thread; the next tick
            # tries again, well within the lease.
            LOG.exception('Upload lease housekeeping failed')
