"""Writing result files: rank 0 only, atomically (temp file + rename)."""
import json
import numbers
import os
import os.path as osp
import tempfile
from typing import Any

import numpy as np
import torch
from mmengine.dist import is_main_process


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
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.',
                               suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(to_jsonable(data), f, indent=2, sort_keys=True)
            f.write('\n')
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
