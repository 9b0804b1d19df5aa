"""coursekit.notebook_runner.run_notebook and `coursekit checkpoints` (real kernels: slow)."""

import json

import pytest

from coursekit.manifest import load_assignment
from coursekit.notebook_runner import NotebookError, inject_parameters, run_notebook
from coursekit.release import ReleaseError
from coursekit.checkpoints import train
from coursekit.release.command import release_all
from coursekit.release.nbgrader_steps import read_notebook


def stdout_of(nb):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_inject_parameters_places_a_cell_after_the_tagged_one(demo_dir):
    nb = read_notebook(demo_dir / "Demo.ipynb")
    index = inject_parameters(nb, {"num_points": 7, "seed": 3})
    assert "parameters" in nb.cells[index - 1].metadata.tags
    assert nb.cells[index].source.splitlines()[1:] == ["num_points = 7", "seed = 3"]
    assert nb.cells[index].metadata.tags == ["injected-parameters"]


@pytest.mark.parametrize("params, words", [
    ({"num_pionts": 5}, "parameter 'num_pionts' is not assigned in the 'parameters' cell"),
    ({"seed": object()}, "is not a literal value"),
])
def test_bad_parameters_fail_before_running(demo_dir, params, words):
    with pytest.raises(NotebookError, match=words):
        run_notebook(demo_dir / "Demo.ipynb", parameters=params)


def test_parameters_need_a_tagged_cell(tmp_path, demo_dir):
    raw = json.loads((demo_dir / "Demo.ipynb").read_text())
    for cell in raw["cells"]:
        cell["metadata"].pop("tags", None)
    path = tmp_path / "Untagged.ipynb"
    path.write_text(json.dumps(raw))
    with pytest.raises(NotebookError, match="no code cell is tagged 'parameters'"):
        run_notebook(path, parameters={"seed": 1})


@pytest.mark.slow
def test_runs_top_to_bottom_with_overrides(demo_dir):
    nb = run_notebook(demo_dir / "Demo.ipynb", parameters={"num_points": 12}, progress=False)
    out = stdout_of(nb)
    assert "square looks right" in out
    assert "mean of 12 squared normals" in out
    assert f"kit folder: {demo_dir}" in out   # default cwd: the notebook's folder
    assert (demo_dir / "Demo.ipynb").read_text().count('"outputs": []') > 0  # file untouched


@pytest.mark.slow
def test_failing_cell_names_notebook_cell_and_grade_id(tmp_path, demo_dir):
    release_all([load_assignment(demo_dir)], tmp_path)
    stub = tmp_path / "release" / "demo" / "Demo.ipynb"
    with pytest.raises(NotebookError) as info:
        run_notebook(stub, env={"DEMO_FLAG": "1"})
    err = info.value
    assert err.cell_index == 6 and err.grade_id == "square_check" and err.ename == "NotImplementedError"
    first_line = str(err).splitlines()[0]
    assert first_line.endswith("release/demo/Demo.ipynb: cell 6 (grade_id 'square_check') "
                               "[# Public check: run this cell after implementing square.] "
                               "raised NotImplementedError: "), first_line


@pytest.mark.slow
def test_checkpoints_command_trains_and_checks_the_file(demo_source, tmp_path):
    # Give the demo a checkpoint that its notebook writes, then train it the CI way.
    toml = demo_source / "assignment.toml"
    toml.write_text(toml.read_text().replace(
        '"Demo.ipynb"]\nmax_file_mb = 5', '"Demo.ipynb", "checkpoints/mean.npy"]\nmax_file_mb = 5')
        + '\n[[checkpoints]]\nfile = "checkpoints/mean.npy"\nnotebook = "Demo.ipynb"\n'
          'ci_parameters = { num_points = 50 }\n')
    nb = json.loads((demo_source / "Demo.ipynb").read_text())
    nb["cells"][7]["source"] = "".join(nb["cells"][7]["source"])
    nb["cells"][7]["source"] += ('\nimport os\nos.makedirs("checkpoints", exist_ok=True)\n'
                                 'np.save("checkpoints/mean.npy", np.array([num_points, square(xs).mean()]))')
    (demo_source / "Demo.ipynb").write_text(json.dumps(nb))
    a = load_assignment(demo_source)
    out = tmp_path / "out"
    with pytest.raises(ReleaseError, match="run `coursekit release demo` first"):
        train(a, out, ci=True)
    release_all([a], out)
    [path] = train(a, out, ci=True)
    import numpy as np
    assert path == out / "solutions" / "demo" / "checkpoints" / "mean.npy"
    assert np.load(path)[0] == 50
    # A run that does not write the file is an error, not a silent success.
    a2 = load_assignment(demo_source)
    path.unlink()
    nb["cells"][7]["source"] = nb["cells"][7]["source"].replace("checkpoints/mean.npy", "elsewhere.npy")
    (demo_source / "Demo.ipynb").write_text(json.dumps(nb))
    release_all([a2], out)
    with pytest.raises(ReleaseError, match=r"ran but did not write checkpoints/mean.npy"):
        train(a2, out, ci=True)
