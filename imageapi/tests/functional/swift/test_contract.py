"""The store driver contract (tests/unit/store/contract.py) on a real Swift.

Twice: with Swift's default sizes, where an image of known size is one object, and
with every image segmented into a Static Large Object of 5000-byte segments, so that
the contract's few-KiB images span several segments and chunks straddle them.
"""

from imageapi.tests.functional.swift import base
from imageapi.tests.unit.store import contract


class SwiftContractMixin:

    def make_driver(self):
        return self.swift_driver()

    def partial_count(self, image_id):
        """Markers and segments of unfinished uploads of ``image_id``."""
        return len(self.leftovers(image_id))


class SinglePutContractTest(SwiftContractMixin,
                            contract.DriverContractTests,
                            base.SwiftTestCase):
    """Images of known size below 5 GiB: one object PUT each."""


class SegmentedContractTest(SwiftContractMixin,
                            contract.DriverContractTests,
                            base.SwiftTestCase):
    """Every image a Static Large Object of 5000-byte segments."""

    def make_driver(self):
        driver = super().make_driver()
        driver.large_object_size = 0
        driver.segment_size = 5000
        return driver
