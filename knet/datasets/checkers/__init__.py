"""Data-layout checkers (see base.py); one module per dataset family."""
from .base import CHECKERS, CheckReport, Problem, get_checker, register_checker

__all__ = ['CHECKERS', 'CheckReport', 'Problem', 'get_checker',
           'register_checker']
