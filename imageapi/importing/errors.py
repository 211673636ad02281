"""Errors of an import run: raised by methods, sources and plugins, caught by the engine.

An ImportFailed ends the import: its task goes to ``failure`` with the message, the image
goes back to an importable status, and no store keeps any of its data.
"""


class ImportFailed(Exception):
    """The import cannot complete; ``message`` is what the task shows."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class SourceUnavailable(ImportFailed):
    """The source of the data could not be opened or read (a method's source)."""


class PluginFailed(ImportFailed):
    """An import plugin refused or could not process the staged data."""


class StoreFailed(ImportFailed):
    """Writing the data to a target store failed."""


class LeaseLost(ImportFailed):
    """Another node reaped this import (its lease ran out); stop quietly."""
