"""`coursekit report`: one HTML page showing how the class did and what needs a look.

    from coursekit.report import build_report
    build_report("grading/scores.csv", "report.html", submissions="uploads/", starter="release/a2_neural_nets")

Modules: load (results from a local or cluster run, or a Gradescope export), reasons
(failure reasons grouped across the class), attention (the "needs a look" table),
files/regions/winnow/similarity (copied student code), plots (inline SVG), render (HTML).
"""

from coursekit.report.build import build_report

__all__ = ["build_report"]
