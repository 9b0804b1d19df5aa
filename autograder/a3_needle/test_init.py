"""Question 1: weight initializers (seeded value tests)."""

import numpy as np

import reference_needle as ref
from a3_support import check_dtype, values
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array

pytestmark = question("init")

# (seed, fan_in, fan_out, gain): shapes and seeds differ from the notebook's checks.
CASES = [(7, 6, 4, 1.7), (2024, 11, 3, 0.6)]


def _check(student, ndl, name, draw, reference):
    for seed, fan_in, fan_out, gain in CASES:
        student.seed(seed)
        got = values(name, draw(ndl.init, fan_in, fan_out, gain))
        expected = reference(np.random.RandomState(seed), fan_in, fan_out, gain)
        label = f"{name}({fan_in}, {fan_out}) after np.random.seed({seed})"
        check_array(label, got, expected, tol=1e-5)
        check_dtype(label, got)


@weight(2)
@number("1.1")
def test_xavier_uniform(student, ndl):
    _check(student, ndl, "xavier_uniform",
           lambda init, i, o, g: init.xavier_uniform(i, o, gain=g),
           lambda rs, i, o, g: ref.xavier_uniform(rs, i, o, g))


@weight(2)
@number("1.2")
def test_xavier_normal(student, ndl):
    _check(student, ndl, "xavier_normal",
           lambda init, i, o, g: init.xavier_normal(i, o, gain=g),
           lambda rs, i, o, g: ref.xavier_normal(rs, i, o, g))


@weight(2)
@number("1.3")
def test_kaiming_uniform(student, ndl):
    _check(student, ndl, "kaiming_uniform",
           lambda init, i, o, g: init.kaiming_uniform(i, o),
           lambda rs, i, o, g: ref.kaiming_uniform(rs, i, o))


@weight(2)
@number("1.4")
def test_kaiming_normal(student, ndl):
    _check(student, ndl, "kaiming_normal",
           lambda init, i, o, g: init.kaiming_normal(i, o),
           lambda rs, i, o, g: ref.kaiming_normal(rs, i, o))
