"""A generated class of demo-assignment uploads whose outcomes are known by construction.

Each student is a folder holding the demo's submission files, made from the reference
solution (or the starter kit) and changed with the kit's own mutation helpers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from coursekit.manifest import load_assignment
from coursekit.testing import mutate, mutate_cell

DEMO_MANIFEST = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "source" / "demo" / "assignment.toml"

# add(a, b) returns a + b + offset: each student's message has different numbers.
ADD_OFFSETS = (0.5, 1.0, 2.0, 3.0, -1.0, 10.0)
ADD_STUDENTS = tuple(f"add-off-{i}" for i in range(1, len(ADD_OFFSETS) + 1))
CRASH, TIMEOUT = "crashes", "hangs"
COPY_A, COPY_B = "copy-original", "copy-renamed"

MATMUL_ELEMENTWISE = """
def matmul(a, b):
    a = np.asarray(a); b = np.asarray(b)
    if a.shape[1] != b.shape[0]:
        raise ValueError("shapes")
    return a[:, :1] * b[:1, :]
"""

# The pair that copied: loops written out with a helper, then the same code with every
# name changed, other comments and other spacing.
COPY_MATMUL = '''
def matmul(a, b):
    """Matrix product written out with loops."""
    left = np.asarray(a, dtype=np.float64)
    right = np.asarray(b, dtype=np.float64)
    rows, inner = left.shape
    inner_b, cols = right.shape
    if inner != inner_b:
        raise ValueError("inner sizes %d and %d differ" % (inner, inner_b))
    result = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            acc = 0.0
            for t in range(inner):
                acc = acc + left[r, t] * right[t, c]
            result[r, c] = acc
    return result
'''
COPY_FORWARD = '''
def forward(self, x):
    batch = np.asarray(x, dtype=np.float64)
    outputs = []
    for row in batch:
        outputs.append(row.dot(self.W) + self.b)
    return np.stack(outputs, axis=0)
'''
RENAMES = (("left", "mat1"), ("right", "mat2"), ("rows", "n_rows"), ("inner_b", "kk"), ("inner", "k"),
           ("cols", "n_cols"), ("result", "prod"), ("acc", "running_sum"), ("batch", "inputs"),
           ("outputs", "collected"), ("row", "sample"), ('"""Matrix product written out with loops."""',
                                                         "# my own triple loop"))


def renamed(source: str) -> str:
    for old, new in RENAMES:
        source = source.replace(old, new)
    return source.replace("    for", "\n    for", 1)


def _copy_files(src: Path, dest: Path) -> Path:
    a = load_assignment(DEMO_MANIFEST)
    for rel in a.submission_files:
        if (src / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, dest / rel)
    return dest


def make_class(solutions: Path, release: Path, uploads: Path) -> dict[str, str]:
    """Write the uploads; returns student name -> what was done to it."""
    what: dict[str, str] = {}

    def student(name: str, note: str, base: Path = solutions) -> Path:
        what[name] = note
        return _copy_files(base, uploads / name)

    for i in (1, 2, 3):
        student(f"reference-{i}", "the reference solution")
    for name, offset in zip(ADD_STUDENTS, ADD_OFFSETS):
        mutate(student(name, f"add off by {offset}"), "calc/ops.py",
               f"def add(a, b):\n    return a + b + {offset}\n")
    for i in (1, 2):
        mutate(student(f"matmul-elementwise-{i}", "matmul multiplies elementwise"), "calc/ops.py",
               MATMUL_ELEMENTWISE)
    mutate(student("no-bias", "forward forgets the bias"), "calc/models.py",
           "def forward(self, x):\n    return x @ self.W\n", name="Linear.forward")
    mutate_cell(student("square-doubles", "square returns 2x"), "Demo.ipynb", "square",
                "def square(x):\n    return x * 2\n")
    for i in (1, 2):
        student(f"stubs-{i}", "the starter kit unchanged", base=release)
    mutate(student(CRASH, "forward ends the process"), "calc/models.py",
           "def forward(self, x):\n    import os\n    os._exit(3)\n", name="Linear.forward")
    mutate(student(TIMEOUT, "matmul never returns"), "calc/ops.py", """
        def matmul(a, b):
            if a.shape[1] != b.shape[0]:
                raise ValueError("shapes")
            while True:
                pass
        """)
    for name, rename in ((COPY_A, False), (COPY_B, True)):
        sub = student(name, "copied pair" + (", names changed" if rename else ""))
        mutate(sub, "calc/ops.py", renamed(COPY_MATMUL) if rename else COPY_MATMUL)
        mutate(sub, "calc/models.py", renamed(COPY_FORWARD) if rename else COPY_FORWARD, name="Linear.forward")
    mutate(student("einsum", "correct, written differently"), "calc/ops.py", """
        def matmul(a, b):
            a = np.asarray(a, dtype=float); b = np.asarray(b, dtype=float)
            if a.shape[1] != b.shape[0]:
                raise ValueError("inner dimensions differ")
            return np.einsum("ik,kj->ij", a, b)
        """)
    mutate(student("tensordot", "correct, written differently"), "calc/models.py",
           "def forward(self, x):\n    return np.tensordot(x, self.W, axes=1) + self.b[np.newaxis, :]\n",
           name="Linear.forward")
    return what
