"""Tagging a whole archive on Dask: inputs split into partitions, tagged by workers, resumable.

The command is ``newstag tag-archive`` (:mod:`newstag.cli.archive`); this package is the engine.
Importing it does not import Dask; :mod:`newstag.archive.engine` and the worker side do.
"""

from newstag.archive.inputs import ArchiveInputError, InputFile, discover_inputs
from newstag.archive.manifest import ResumeRefused
from newstag.archive.partitions import Partition, plan_partitions

__all__ = [
    "ArchiveInputError",
    "InputFile",
    "Partition",
    "ResumeRefused",
    "discover_inputs",
    "plan_partitions",
]
