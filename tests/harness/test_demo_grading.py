"""The harness end to end on the demo assignment: full marks, zero, mutants, alternatives."""

import pytest


def test_reference_scores_full_marks(grade_demo, demo):
    result = grade_demo(demo)
    assert result.score == result.max_score == 6
    assert result.results["output"] == ""


def test_stubs_score_zero_with_a_message_per_test(grade_demo, stub_submission):
    result = grade_demo(stub_submission("demo"))
    assert result.score == 0
    for t in result.results["tests"]:
        assert t["status"] == "failed"
        assert t["output"].strip(), t["name"]
    assert "add is not implemented yet" in result.test("test_add")["output"]
    square = result.test("test_square")["output"]
    assert square.startswith("square is not implemented yet")
    assert "Demo.ipynb, cell 'square'" in square


MUTANTS = {
    "add_subtracts": ("calc/ops.py", "def add(a, b):\n    return a - b\n", {"add": 0}),
    "matmul_elementwise": ("calc/ops.py", """
        def matmul(a, b):
            a = np.asarray(a); b = np.asarray(b)
            if a.shape[1] != b.shape[0]:
                raise ValueError("shapes")
            return a[:, :1] * b[:1, :]
        """, {"matmul": 1}),
    "matmul_truncates": ("calc/ops.py", """
        def matmul(a, b):
            k = min(a.shape[1], b.shape[0])
            return a[:, :k] @ b[:k]
        """, {"matmul": 1}),
    "forward_no_bias": ("calc/models.py", "def forward(self, x):\n    return x @ self.W\n", {"model": 0}),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutants_lose_points(grade_demo, demo, mutate, name):
    relpath, source, expected = MUTANTS[name]
    if name == "forward_no_bias":
        mutate(demo, relpath, source, name="Linear.forward")
    else:
        mutate(demo, relpath, source)
    result = grade_demo(demo)
    for qid, score in expected.items():
        assert result.question(qid)[0] == score, (qid, result.results)


def test_alternative_implementations_pass(grade_demo, demo, mutate, mutate_cell):
    mutate(demo, "calc/ops.py", """
        def matmul(a, b):
            a = np.asarray(a, dtype=float); b = np.asarray(b, dtype=float)
            if a.shape[1] != b.shape[0]:
                raise ValueError("inner dimensions differ")
            return np.einsum("ik,kj->ij", a, b)
        """)
    mutate_cell(demo, "Demo.ipynb", "square", "def square(x):\n    return x ** 2\n")
    assert grade_demo(demo).score == 6


def test_partial_credit_and_only(grade_demo, demo, mutate):
    mutate(demo, "calc/models.py", """
        def forward(self, x):
            if x.shape[0] == 1:
                return x @ self.W + self.b
            return x @ self.W
        """, name="Linear.forward")
    result = grade_demo(demo, only=["model"])
    assert [t["extra_data"]["question"] for t in result.results["tests"]] == ["model"]
    assert result.question("model") == (1, 2)
