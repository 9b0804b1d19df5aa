"""Grade a folder of submissions as tasks on an existing Ray cluster.

`coursekit grade <a> <folder> --cluster ADDRESS` sends one task per submission; each
task runs `coursekit.local_grading.local.grade_submission` (the real `run_autograder`, sandbox
included) on whichever node Ray picks. Modules, one job each:

- `plan`: what a run needs: the submissions, their identity keys, the resources a task asks.
- `store`: the results folder (one results.json per submission, written atomically) and
  the CSV rebuilt from it; what makes an interrupted run resume.
- `task`: the code that runs on a node.
- `driver`: submits tasks, shows progress, keeps results, retries lost nodes.
- `localcluster`: a throw-away cluster of local processes, for tests and the bench.

Ray is optional (`pip install coursekit[cluster]`): nothing here imports it at module
level, and `driver` says how to install it when it is missing.
"""
