"""Helpers shared by the dataset checkers (decoding, sampling, JSON)."""
import json
from pathlib import Path
from typing import Any, List, Optional, Sequence

import numpy as np

from .base import CheckReport


def pick(items: Sequence, n: int, full: bool) -> List:
    """All items with ``full``, else at most ``n`` evenly spaced ones."""
    items = list(items)
    if full or n <= 0 or len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def decode(path: Path, report: CheckReport) -> Optional[np.ndarray]:
    """Read an image unchanged; record an error naming it on failure."""
    from PIL import Image
    try:
        with Image.open(path) as image:
            image.load()
            return np.array(image)
    except FileNotFoundError:
        report.error(path, 'missing')
    except Exception as e:  # PIL raises many types on broken files
        report.error(path, f'cannot decode ({type(e).__name__}: '
                     f'{" ".join(str(e).split())})')
    return None


def load_json(path: Path, report: CheckReport,
              fix: Optional[str] = None) -> Optional[Any]:
    """Parse a JSON file; record an error naming it on failure."""
    if not path.is_file():
        report.error(path, 'missing', fix)
        return None
    try:
        with open(path, 'rb') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        report.error(path, f'not valid JSON ({e})', fix)
        return None


def illegal(values: np.ndarray, legal: Sequence[int]) -> List[int]:
    """The values (sorted, unique) not in ``legal``."""
    values = np.unique(values)
    return [int(v) for v in values[~np.isin(values, np.asarray(legal))]]


def short(values: Sequence[int], n: int = 5) -> str:
    """'1, 2, 3' (and '...' when there are more than n)."""
    values = list(values)
    text = ', '.join(str(v) for v in values[:n])
    return text + (', ...' if len(values) > n else '')
