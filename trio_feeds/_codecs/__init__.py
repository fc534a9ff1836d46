"""The codec layer: strict decoding of frames into the generated models, and encoding back.

:class:`Codec` is shared machinery; each exchange has one module here (``gateway``,
``cryptology``, ``onyx``, ``peatio``) holding its classifier and its codec instance. This layer
sits right above the generated models and below the sans-IO protocols: it imports no trio, no
socket and no WebSocket library.
"""

from __future__ import annotations

from ._base import Codec, JSONObject, UnknownMessage, model_classes, tag_table
from ._converter import constructor
from ._scalars import json_type_name

__all__ = [
    "Codec",
    "JSONObject",
    "UnknownMessage",
    "constructor",
    "json_type_name",
    "model_classes",
    "tag_table",
]
