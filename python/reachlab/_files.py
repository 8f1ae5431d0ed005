"""Reading the files a run writes, with nothing but numpy: the module every other one may import (it
imports none of them), so that the package's imports form no circle."""

from __future__ import annotations

import json
import os
import struct

import numpy as np

__all__ = ["read_safetensors"]

_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a numpy array (the format: an 8-byte little-endian header
    length, a JSON header of dtype, shape and byte offsets, then the data). Needs no other package."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = memoryview(data)[8 + n :]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has dtype {t['dtype']}, which this reader does not know")
        start, end = t["data_offsets"]
        out[name] = np.frombuffer(body[start:end], dtype=_DTYPES[t["dtype"]]).reshape(t["shape"]).copy()
    return out
