"""A small framework for data-layout checks used by tools/dataset/check_data.py.

A checker is a function ``check(root, report, full=False, sample=20)`` that
looks at one dataset tree and records what it finds in a :class:`CheckReport`:
counts (sequences, frames, ... per split), errors (the tree is not usable) and
warnings. Each error names the file and, where one exists, the command that
fixes it. Checkers never modify the tree.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

__all__ = ['CheckReport', 'Problem', 'CHECKERS', 'register_checker',
           'get_checker']


@dataclass
class Problem:
    """One finding: the file (or folder) concerned, what is wrong, the fix."""
    path: str
    message: str
    fix: Optional[str] = None

    def __str__(self) -> str:
        text = f'{self.path}: {self.message}'
        if self.fix:
            text += f' (fix: {self.fix})'
        return text


@dataclass
class CheckReport:
    """What a checker found in one dataset tree."""
    dataset: str
    root: Path
    errors: List[Problem] = field(default_factory=list)
    warnings: List[Problem] = field(default_factory=list)
    #: counts[(split, what)] = n, e.g. counts[('train', 'frames')] = 5027
    counts: Dict[Tuple[str, str], int] = field(default_factory=dict)

    def error(self, path, message: str, fix: Optional[str] = None) -> None:
        self.errors.append(Problem(str(path), message, fix))

    def warn(self, path, message: str, fix: Optional[str] = None) -> None:
        self.warnings.append(Problem(str(path), message, fix))

    def count(self, split: str, what: str, n: int) -> None:
        self.counts[(split, what)] = self.counts.get((split, what), 0) + n

    @property
    def ok(self) -> bool:
        """True when the tree is usable (no errors; warnings allowed)."""
        return not self.errors


Checker = Callable[..., None]
CHECKERS: Dict[str, Checker] = {}


def register_checker(*names: str) -> Callable[[Checker], Checker]:
    """Register ``check(root, report, full=False, sample=20)`` under names."""

    def wrap(fn: Checker) -> Checker:
        for name in names:
            if name in CHECKERS:
                raise KeyError(f'checker {name!r} registered twice')
            CHECKERS[name] = fn
        return fn

    return wrap


def get_checker(name: str) -> Checker:
    """The checker for a dataset name; imports every checker module first."""
    from . import load_all  # noqa: F401  (registers the checkers)
    if name not in CHECKERS:
        raise KeyError(f'unknown dataset {name!r}; known: '
                       f'{", ".join(sorted(CHECKERS))}')
    return CHECKERS[name]
