"""Scalar types that the generated models refer to by ``customTypePath``."""

from __future__ import annotations

from datetime import datetime
from typing import NewType

MicrosTime = NewType("MicrosTime", datetime)
"""Aware UTC datetime sent as ``[unix_seconds, microseconds]`` (Cryptology order/wallet messages)."""

MillisTime = NewType("MillisTime", datetime)
"""Aware UTC datetime sent as ``[unix_seconds, milliseconds]`` (Cryptology market-data trades)."""
