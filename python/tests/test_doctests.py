"""The examples in the modules' docstrings run and print what they say."""

import doctest

import pytest

import reachlab.analysis
import reachlab.render


@pytest.mark.parametrize("module", [reachlab.analysis, reachlab.render])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
