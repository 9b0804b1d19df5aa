"""The .py stripper: every marker case, byte-identical outside regions, clear errors."""

import textwrap

import pytest

from coursekit.release import ReleaseError
from coursekit.release.strip import strip_markers, strip_solutions


def src(text):
    return textwrap.dedent(text).lstrip("\n")


def run_stub(code, call):
    """Execute stripped code and return the NotImplementedError message `call` raises."""
    namespace = {}
    exec(compile(code, "<student>", "exec"), namespace)
    with pytest.raises(NotImplementedError) as info:
        eval(call, namespace)
    return str(info.value)


def test_single_region_keeps_hint_and_indentation():
    code = src('''
        def relu(x):
            """Doc."""
            # Hint: np.maximum.
            ### BEGIN SOLUTION
            out = max(0, x)
            ### END SOLUTION
            return out
    ''')
    assert strip_solutions(code) == src('''
        def relu(x):
            """Doc."""
            # Hint: np.maximum.
            raise NotImplementedError("relu")
            return out
    ''')
    assert run_stub(strip_solutions(code), "relu(1)") == "relu"


def test_several_regions_in_one_function_and_nested_blocks():
    code = src('''
        def f(xs):
            total = 0
            ### BEGIN SOLUTION
            total = 1
            ### END SOLUTION
            for x in xs:
                if x:
                    ### BEGIN SOLUTION
                    total += x
                    ### END SOLUTION
            ### BEGIN SOLUTION
            total *= 2
            ### END SOLUTION
            return total
    ''')
    assert strip_solutions(code) == src('''
        def f(xs):
            total = 0
            raise NotImplementedError("f")
            for x in xs:
                if x:
                    raise NotImplementedError("f")
            raise NotImplementedError("f")
            return total
    ''')


def test_methods_nested_functions_and_async_get_qualified_names():
    code = src('''
        import functools

        class Net:
            scale = 2

            @functools.lru_cache
            def forward(self, x):
                ### BEGIN SOLUTION
                return x * self.scale
                ### END SOLUTION

            class Inner:
                def step(self):
                    while True:
                        ### BEGIN SOLUTION
                        break
                        ### END SOLUTION

        def outer():
            def inner(y):
                ### BEGIN SOLUTION
                return y
                ### END SOLUTION
            return inner

        async def fetch():
            ### BEGIN SOLUTION
            return 1
            ### END SOLUTION
    ''')
    out = strip_solutions(code)
    assert '        raise NotImplementedError("Net.forward")\n' in out
    assert '                raise NotImplementedError("Net.Inner.step")\n' in out
    assert '        raise NotImplementedError("outer.inner")\n' in out
    assert '    raise NotImplementedError("fetch")\n' in out
    assert run_stub(out, "Net().forward(3)") == "Net.forward"
    assert run_stub(out, "outer()(1)") == "outer.inner"


def test_code_outside_regions_is_byte_identical():
    # CRLF endings, trailing spaces, tabs in strings and no final newline all survive.
    code = ('def g(a):\r\n    s = "\\t x "  \r\n    # keep me\r\n    ### BEGIN SOLUTION\r\n'
            '    a = a + 1\r\n    ### END SOLUTION\r\n    return a  # end')
    out = strip_solutions(code)
    assert out == ('def g(a):\r\n    s = "\\t x "  \r\n    # keep me\r\n'
                   '    raise NotImplementedError("g")\r\n    return a  # end')


def test_file_without_markers_is_unchanged():
    code = "x = 1\n\n\ndef f():\n    return x\n"
    assert strip_solutions(code) is code and strip_markers(code) is code


def test_hidden_test_regions_are_removed_whole():
    code = src('''
        def check(f):
            assert f(1) == 1
            ### BEGIN HIDDEN TESTS
            assert f(2) == 4
            ### END HIDDEN TESTS
            return True
    ''')
    assert strip_solutions(code) == "def check(f):\n    assert f(1) == 1\n    return True\n"
    assert strip_markers(code) == ("def check(f):\n    assert f(1) == 1\n    assert f(2) == 4\n"
                                   "    return True\n")


def test_strip_markers_removes_only_marker_lines():
    code = src('''
        def h(x):
            # Hint: double it.
            ### BEGIN SOLUTION
            y = 2 * x
            ### END SOLUTION
            return y
    ''')
    assert strip_markers(code) == "def h(x):\n    # Hint: double it.\n    y = 2 * x\n    return y\n"


BROKEN = {
    "nested": ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    pass\n"
               "    ### END SOLUTION\n    ### END SOLUTION\n", 3, "nested marker"),
    "end_without_begin": ("def f():\n    pass\n    ### END SOLUTION\n", 3, "without a matching BEGIN"),
    "never_closed": ("def f():\n    ### BEGIN SOLUTION\n    pass\n", 2, "never closed"),
    "mismatched": ("def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END HIDDEN TESTS\n", 4,
                   "closes the SOLUTION region opened at line 2"),
    "malformed": ("def f():\n    ## BEGIN SOLUTION\n    pass\n", 2, "malformed marker"),
    "marker_with_text": ("def f():\n    pass\n    ### END SOLUTION (done)\n", 3, "malformed marker"),
    "mark_scheme_in_py": ("def f():\n    ### BEGIN MARK SCHEME\n    pass\n    ### END MARK SCHEME\n",
                          2, "not allowed"),
    "outside_function": ("### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n", 1,
                         "outside any function"),
    "class_body": ("class A:\n    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\n", 2,
                   "outside any function"),
    "splits_a_block": ("def f(x):\n    if x:\n        ### BEGIN SOLUTION\n        y = 1\n"
                       "    else:\n        y = 2\n        ### END SOLUTION\n    return y\n", 5,
                       "whole statements of one block"),
    "half_a_call": ("def f(x):\n    y = max(\n        ### BEGIN SOLUTION\n        x, 0)\n"
                    "        ### END SOLUTION\n    return y\n", 4, "whole statements"),
    "two_blocks": ("def f(x):\n    for i in x:\n        ### BEGIN SOLUTION\n        i += 1\n"
                   "    i = 0\n        ### END SOLUTION\n    return i\n", 4, "different blocks"),
    "syntax_error": ("def f(:\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n", 1,
                     "not valid Python"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_markers_fail_with_file_and_line(case):
    code, line, words = BROKEN[case]
    with pytest.raises(ReleaseError) as info:
        strip_solutions(code, "scratch/layers.py")
    assert str(info.value).startswith(f"scratch/layers.py:{line}: "), str(info.value)
    assert words in str(info.value)


def test_demo_modules_strip_to_importable_stubs(tmp_path):
    from pathlib import Path
    demo = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "source" / "demo"
    ops = strip_solutions((demo / "calc" / "ops.py").read_text(), "calc/ops.py")
    assert "return a + b" not in ops and "out = a @ b" not in ops
    assert ops.count('raise NotImplementedError("matmul")') == 2
    assert run_stub(ops, "add(1, 2)") == "add"
    assert run_stub(ops, "clip_all([__import__('numpy').ones(2)], 0, 1)") == "clip_all"
