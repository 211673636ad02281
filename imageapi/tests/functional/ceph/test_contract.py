"""The store driver contract (tests/unit/store/contract.py) on a real Ceph: RBD and S3.

S3 twice: images of known size as one streamed PUT, and every image as a multipart
upload (the contract's few-KiB images then fit in one part, whose minimum is 5 MiB).
"""

from imageapi.tests.functional.ceph import base
from imageapi.tests.unit.store import contract


class RBDContractTest(contract.DriverContractTests, base.RBDTestCase):

    def make_driver(self):
        return self.rbd_driver()

    def partial_count(self, image_id):
        """Markers, unfinished RBD images and what purge moved to the trash."""
        unfinished = [name for name in self.rbd_images()
                      if name == image_id and not self.snapshots(name)]
        markers = [key for key in self.markers() if key.endswith(image_id)]
        trashed = [name for name in self.trashed() if image_id in name]
        return len(unfinished) + len(markers) + len(trashed)


class S3ContractMixin:

    def make_driver(self):
        return self.s3_driver()

    def partial_count(self, image_id):
        """Markers and unfinished multipart uploads of ``image_id``."""
        return (len(self.keys(image_id + '.'))
                + len([key for key, _id in self.uploads() if key == image_id]))


class S3SinglePutContractTest(S3ContractMixin, contract.DriverContractTests,
                              base.S3TestCase):
    """Images of known size below s3_store_large_object_size: one PUT."""


class S3MultipartContractTest(S3ContractMixin, contract.DriverContractTests,
                              base.S3TestCase):
    """Every image a multipart upload."""

    def make_driver(self):
        driver = super().make_driver()
        driver.large_object_size = 0
        return driver
