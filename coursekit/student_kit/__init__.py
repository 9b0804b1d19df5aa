"""What students run, shipped as plain files into every kit: `collect_submission.py`
(filled in per assignment), `check_env.py`, `self_check.py` and the notebooks' one
shared set-up cell (`setup_cell.py`). Standard library only (and matplotlib for the PDF).
"""
