"""luigi's spellings of names trunq renamed: accepted, with one DeprecationWarning each."""

from __future__ import annotations

import warnings

# luigi name in ``import trunq`` -> trunq name
LUIGI_NAMES: dict[str, str] = {
    "TaskParameter": "StepParameter",
    "Task": "Step",
    "ExternalTask": "ExternalStep",
    "WrapperTask": "WrapperStep",
}

_warned: set[str] = set()


def warn_renamed(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn once per process that ``old`` (luigi's spelling) is ``new`` in trunq."""
    if old in _warned:
        return
    _warned.add(old)
    warnings.warn(f"{old} is luigi's spelling; use {new} in trunq", DeprecationWarning, stacklevel=stacklevel)
