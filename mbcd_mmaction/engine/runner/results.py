"""Writing result files: rank 0 only, atomically (temp file + rename)."""
import json
import numbers
from typing import Any

import numpy as np
import torch
from mmengine.dist import is_main_process

from mbcd_mmaction.engine.runner.atomic import atomic_write_bytes


def to_jsonable(obj: Any) -> Any:
    """Recursively turn numpy/torch scalars and arrays into JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, numbers.Number):
        return float(obj)
    return str(obj)


def write_json_atomic(path: str, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` on the main process only.

    The file appears complete or not at all: it is written to a temporary
    file in the same directory and renamed over ``path``.
    """
    if not is_main_process():
        return
    text = json.dumps(to_jsonable(data), indent=2, sort_keys=True) + '\n'
    atomic_write_bytes(path, text.encode())
