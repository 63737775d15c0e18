"""Results kept by the contents of their arrays: a rounded carry's first E-step, which an
exam's calculations without a slip repeat (the same densities and weights, the
responsibilities then written otherwise) and which costs exact fractions each time."""

from __future__ import annotations

from collections import OrderedDict
from functools import wraps
from typing import Any

import numpy as np

KEPT = 32  # inputs whose results a method keeps, the latest first


def remembered(method: Any) -> Any:
    """A method whose result depends on its arrays and its object's ``decimals`` alone,
    kept for its last :data:`KEPT` inputs. The arrays it gives are shared: not to be
    changed (the E-step makes them read-only; a caller that changes them copies)."""
    cache: OrderedDict[Any, Any] = OrderedDict()

    @wraps(method)
    def kept(self: Any, *arrays: Any) -> Any:
        key = (self.decimals, *((a.dtype.str, a.shape, a.tobytes())
                                for a in map(np.asarray, arrays)))
        if key not in cache:
            cache[key] = method(self, *arrays)
            if len(cache) > KEPT:
                cache.popitem(last=False)
        cache.move_to_end(key)
        return cache[key]
    return kept
