"""epass: read and verify electronic passports and ID cards (ICAO Doc 9303).

The one flow every front end calls::

    import epass
    inspection = epass.inspect(transport, key, trust_store)   # read a chip and verify it
    inspection = epass.inspect_dump("dump/", trust_store)      # verify a saved dump offline
    inspection.verdict, inspection.checks, inspection.to_dict()

The core library never imports pyscard or click and never does I/O below
:class:`epass.channel.Channel`; transports live in the ``drivers`` package.
``inspect``, ``inspect_dump`` and ``Inspection`` are loaded on first use, so
``import epass.errors`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from epass._version import __version__

if TYPE_CHECKING:
    from epass.inspection import Inspection, inspect, inspect_dump

__all__ = ["Inspection", "__version__", "inspect", "inspect_dump"]

_LAZY = frozenset({"Inspection", "inspect", "inspect_dump"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from epass import inspection

        return getattr(inspection, name)
    raise AttributeError(f"module 'epass' has no attribute {name!r}")
