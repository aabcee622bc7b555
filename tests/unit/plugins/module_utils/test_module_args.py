"""module_args: whole-number options checked before AnsibleModule parses them (the 5,000-digit traceback)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import int_problem, int_problems

SPEC = {"timeout": {"type": "int"}, "name": {"type": "str"},
        "containers": {"type": "list", "elements": "dict", "options": {"wait_timeout": {"type": "int"}}}}


@pytest.mark.parametrize("value", [10, "10", " 10 ", 10.0, "+10"])
def test_sound_numbers_pass(value):
    assert int_problem(value, "timeout", 1, 3600) is None


@pytest.mark.parametrize("value", ["²", "٣", "1\x1c", "9" * 5000, 2 ** 70, -1, 0, "1e3", 1.5, float("nan"),
                                   float("inf"), True, [1], {"a": 1}, "", "0x10", "10\n"])
def test_unsound_numbers_name_the_field_and_the_fix(value):
    problem = int_problem(value, "timeout", 1, 3600)
    assert problem.startswith("timeout: ") and "Fix: give a whole number from 1 to 3600" in problem
    assert len(problem) < 300  # a 5,000-digit value is shown cut


def test_suboptions_and_declared_bounds():
    params = {"timeout": "5", "name": "x", "containers": [{"wait_timeout": 7}, {"wait_timeout": "٧"}]}
    problems = int_problems(SPEC, params, {"containers.wait_timeout": (1, 600)})
    assert len(problems) == 1 and problems[0].startswith("containers[].wait_timeout: ")
    assert int_problems(SPEC, {"timeout": 10 ** 10}) and not int_problems(SPEC, {"timeout": None})


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.none()))
def test_any_value_is_a_number_in_range_or_a_problem(value):
    problem = int_problem(value, "timeout", 1, 3600)
    if problem is None:
        assert 1 <= int(str(value).strip()) <= 3600 if isinstance(value, str) else 1 <= value <= 3600
