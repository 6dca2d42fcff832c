"""Run every test of this folder once per recorded parity case."""
import pytest

from tests.parity_cases import case_ids

from . import _record


@pytest.fixture(scope='module', autouse=True, params=case_ids())
def parity_case(request):
    """The case under test (selects what ``load_record`` returns)."""
    _record.select(request.param)
    yield request.param
