"""epass: read and verify electronic passports and ID cards (ICAO Doc 9303).

The core library never imports pyscard and never does I/O below
:class:`epass.channel.Channel`; transports live in the ``drivers`` package.
"""

from __future__ import annotations

__version__ = "0.1.0"
