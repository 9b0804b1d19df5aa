"""How submitted files are matched to the manifest's names: other letter case alone,
exact names first, and ambiguity graded as missing rather than guessed."""


def test_a_file_whose_name_differs_only_in_letter_case_is_graded_with_a_note(grade_demo, demo):
    (demo / "calc" / "ops.py").rename(demo / "calc" / "Ops.py")
    result = grade_demo(demo)
    notes = result.results["output"]
    assert "calc/ops.py: graded your file calc/Ops.py (the name's letter case differs)." in notes
    assert "inside an extra folder" not in notes
    assert result.score == 6


def test_the_exact_name_wins_over_other_letter_case(grade_demo, demo):
    # A broken copy under another case beside the right file: the right one is graded.
    (demo / "calc" / "OPS.py").write_text("raise SystemExit('the wrong file was graded')\n")
    result = grade_demo(demo)
    assert "letter case differs" not in result.results["output"]
    assert result.score == 6


def test_two_files_differing_only_in_case_are_not_guessed_between(grade_demo, demo):
    ops = (demo / "calc" / "ops.py").read_text()
    (demo / "calc" / "ops.py").unlink()
    (demo / "calc" / "Ops.py").write_text(ops)
    (demo / "calc" / "OPS.py").write_text(ops)
    result = grade_demo(demo)
    assert "calc/ops.py is missing from your submission" in result.results["output"]
    assert result.question("add") == (0, 1) and result.question("matmul") == (0, 2)
