"""Access to the parity record selected by tests/parity/conftest.py."""
from tests.parity_cases import load_case

_CURRENT = {'case': None}


def select(case_id: str) -> None:
    """Make ``load_record`` return this case (set per parametrized case)."""
    _CURRENT['case'] = case_id


def load_record() -> dict:
    """The current parity blob (skips the test when no case is available)."""
    return load_case(_CURRENT['case'])
