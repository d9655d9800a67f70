"""Record linkage into persons: blocking, comparisons for Chinese records, Fellegi–Sunter
weights estimated by EM without labels, constrained clustering, explained links.

See ``docs/linkage.md`` for the model and :mod:`.engine` for the API.
"""

from .engine import (
    LinkageConfigError,
    LinkResult,
    link_directory,
    link_records,
    load_config,
    probability_to_weight,
    standardise_directory,
)

__all__ = [
    "LinkResult",
    "LinkageConfigError",
    "link_directory",
    "link_records",
    "load_config",
    "probability_to_weight",
    "standardise_directory",
]
