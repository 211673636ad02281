"""Base of the tests against a real Ceph: RBD through librbd, S3 through radosgw.

The cluster comes from the environment that tools/ceph/start-ceph.sh prints (CEPH_CONF,
CEPH_RBD_POOL, CEPH_RBD_USER, S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY); ``tox -e ceph``
starts one through tools/ceph/run-with-ceph.sh. Without it the tests skip, unless
IMAGEAPI_TEST_REQUIRE_CEPH is set (as ``tox -e ceph`` does): then they fail. The RBD
tests share the cluster's one pool, so ``tox -e ceph`` runs its tests one at a time;
each S3 test has a bucket of its own.
"""

import os
import uuid

from imageapi.store import rbd as rbd_store
from imageapi.store import s3 as s3_store
from imageapi.tests import base

REQUIRE_ENV = 'IMAGEAPI_TEST_REQUIRE_CEPH'
_RBD_ENV = ('CEPH_CONF', 'CEPH_RBD_POOL', 'CEPH_RBD_USER')
_S3_ENV = ('S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY')


def _require(testcase, names, what):
    missing = [name for name in names if not os.environ.get(name)]
    problem = None
    if missing:
        problem = ('no %s: %s unset (tools/ceph/start-ceph.sh prints them)'
                   % (what, ', '.join(missing)))
    elif what == 'RBD' and rbd_store.rbd is None:
        problem = ('the rados/rbd bindings do not import '
                   '(tools/ceph/link-bindings.py)')
    if problem:
        if os.environ.get(REQUIRE_ENV):
            testcase.fail('%s [%s is set: failing, not skipping]'
                          % (problem, REQUIRE_ENV))
        testcase.skipTest(problem)


def rbd_options():
    """``{option: value}`` of [rbd_store] for this run's Ceph."""
    return {'rbd_store_ceph_conf': os.environ['CEPH_CONF'],
            'rbd_store_pool': os.environ['CEPH_RBD_POOL'],
            'rbd_store_user': os.environ['CEPH_RBD_USER'],
            'rados_connect_timeout': 30}


def s3_options(bucket):
    """``{option: value}`` of [s3_store] for this run's radosgw and ``bucket``."""
    return {'s3_store_host': os.environ['S3_ENDPOINT'],
            's3_store_access_key': os.environ['S3_ACCESS_KEY'],
            's3_store_secret_key': os.environ['S3_SECRET_KEY'],
            's3_store_bucket': bucket,
            's3_store_create_bucket_on_put': True,
            's3_store_bucket_url_format': 'path'}


class RBDTestCase(base.TestCase):
    """The [rbd_store] options of this run's Ceph, and an empty pool per test.

    ``self.ioctx`` is an ioctx on the pool to look behind the driver's
    back (as Nova would, to clone).
    """

    def setUp(self):
        super().setUp()
        _require(self, _RBD_ENV, 'RBD')
        self.rbd_options = rbd_options()
        for name, value in self.rbd_options.items():
            self.flags(group='rbd_store', **{name: value})
        self.cluster = rbd_store.rados.Rados(
            conffile=os.environ['CEPH_CONF'],
            rados_id=os.environ['CEPH_RBD_USER'])
        self.cluster.connect(timeout=30)
        self.addCleanup(self.cluster.shutdown)
        self.ioctx = self.cluster.open_ioctx(os.environ['CEPH_RBD_POOL'])
        self.addCleanup(self.ioctx.close)
        self.empty_pool()
        self.addCleanup(self.empty_pool)

    def rbd_driver(self):
        """An RBDDriver on this run's pool; disconnected after the test."""
        driver = rbd_store.RBDDriver(self.conf)
        self.addCleanup(driver.close)
        return driver

    def rbd_images(self):
        return sorted(rbd_store.rbd.RBD().list(self.ioctx))

    def markers(self):
        return sorted(obj.key for obj in self.ioctx.list_objects()
                      if obj.key.startswith(rbd_store.MARKER_PREFIX))

    def trashed(self):
        """Names of the RBD images in the pool's trash."""
        return sorted(entry['name']
                      for entry in rbd_store.rbd.RBD().trash_list(self.ioctx))

    def snapshots(self, name):
        with rbd_store.rbd.Image(self.ioctx, name, read_only=True) as image:
            return [(snap['name'], image.is_protected_snap(snap['name']))
                    for snap in image.list_snaps()]

    def clone(self, name, clone_name):
        """Clone the snapshot of ``name`` as Nova does; removed after the test."""
        rbd_store.rbd.RBD().clone(self.ioctx, name, rbd_store.SNAPSHOT,
                                  self.ioctx, clone_name,
                                  features=rbd_store.rbd.RBD_FEATURE_LAYERING)
        self.addCleanup(self._remove_quietly, clone_name)

    def _remove_quietly(self, name):
        try:
            rbd_store.rbd.RBD().remove(self.ioctx, name)
        except rbd_store.rbd.ImageNotFound:
            pass

    def empty_pool(self):
        """Remove every RBD image (clones first), upload marker and trash entry."""
        names = self.rbd_images()
        parents = set()
        for name in names:
            try:
                with rbd_store.rbd.Image(self.ioctx, name,
                                         read_only=True) as image:
                    image.parent_info()
            except rbd_store.rbd.ImageNotFound:
                # No parent, or half removed (a server stopped while it
                # removed it): RBD.remove finishes that.
                parents.add(name)
        for name in sorted(set(names) - parents) + sorted(parents):
            try:
                with rbd_store.rbd.Image(self.ioctx, name) as image:
                    for snap in list(image.list_snaps()):
                        if image.is_protected_snap(snap['name']):
                            image.unprotect_snap(snap['name'])
                        image.remove_snap(snap['name'])
            except rbd_store.rbd.ImageNotFound:
                pass
            self._remove_quietly(name)
        for key in self.markers():
            self.ioctx.remove_object(key)
        for entry in list(rbd_store.rbd.RBD().trash_list(self.ioctx)):
            try:
                rbd_store.rbd.RBD().trash_remove(self.ioctx, entry['id'],
                                                 force=True)
            except rbd_store.rbd.ImageBusy:
                pass  # a killed test server's watch: Ceph drops it in 30 s


class S3TestCase(base.TestCase):
    """The [s3_store] options of this run's radosgw, with a bucket per test.

    ``self.s3`` is a boto3 client of the same user; the bucket, its objects
    and unfinished multipart uploads are removed after the test.
    """

    def setUp(self):
        super().setUp()
        _require(self, _S3_ENV, 'S3')
        self.bucket = 'imageapi-test-%s' % uuid.uuid4().hex[:12]
        self.s3_options = s3_options(self.bucket)
        for name, value in self.s3_options.items():
            self.flags(group='s3_store', **{name: value})
        self.s3 = s3_store.S3Driver(self.conf).client
        self.addCleanup(self.s3.close)
        self.addCleanup(self.remove_bucket)

    def s3_driver(self):
        driver = s3_store.S3Driver(self.conf)
        self.addCleanup(driver.close)
        return driver

    def keys(self, prefix=''):
        try:
            page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        except self.s3.exceptions.NoSuchBucket:
            return []
        return sorted(item['Key'] for item in page.get('Contents', []))

    def uploads(self):
        """(key, upload id) of the bucket's unfinished multipart uploads."""
        try:
            page = self.s3.list_multipart_uploads(Bucket=self.bucket)
        except self.s3.exceptions.NoSuchBucket:
            return []
        return [(u['Key'], u['UploadId']) for u in page.get('Uploads', [])]

    def remove_bucket(self):
        for key, upload_id in self.uploads():
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                           UploadId=upload_id)
        keys = self.keys()
        for key in keys:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        try:
            self.s3.delete_bucket(Bucket=self.bucket)
        except self.s3.exceptions.ClientError as exc:
            if exc.response['Error']['Code'] != 'NoSuchBucket':
                raise
