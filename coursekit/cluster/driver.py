"""`coursekit grade <a> <folder> --cluster ADDRESS`: one Ray task per submission.

The command connects to a running cluster (`ray.init(address=...)`: "HOST:PORT" on a
node of the cluster, "ray://HOST:10001" from elsewhere, or "auto"), skips the
submissions its results folder holds already, and keeps a bounded number of tasks in
flight (twice the slots the cluster has), so the object store holds a few submissions
at a time, not the course. A task whose worker or node dies is run again by Ray up to
`--retries` times; an error raised by the grading itself is not retried (it would fail
the same way) and lands in the CSV's error column. Results are saved as they arrive,
so an interrupted run loses at most the gradings in flight.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from pathlib import Path

from coursekit.cluster.plan import (Options, list_submissions, read_manifest, run_key,
                                    sha256_file, task_resources)
from coursekit.cluster.store import ResultsFolder, csv_row, write_csv
from coursekit.cluster.task import DEFAULT_ENV, FORWARDED_ENV, grade_task, pack

INSTALL_HINT = "--cluster needs Ray: pip install 'coursekit[cluster]' (the same Ray version as the cluster's)"
NOT_GRADED = "not graded: the run was interrupted (run the same command again to resume)"


def default_results_dir(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.stem + "-results")


def run_from_args(args) -> int:
    """`coursekit grade ... --cluster ADDRESS` (arguments of coursekit.local_grading.command)."""
    from coursekit.local_grading.local import default_zip

    folder = args.submission
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    if not entries or any(p.suffix in (".py", ".ipynb") for p in entries) \
            or not all(p.is_dir() or p.suffix.lower() == ".zip" for p in entries):
        print(f"error: {folder}: --cluster grades a folder of submissions (zips or folders, one "
              "per student); grade a single submission without --cluster", file=sys.stderr)
        return 2
    options = Options(assignment=args.assignment, device=args.device,
                      only=tuple(q for q in args.only.split(",") if q), retrain=args.retrain,
                      timeout=args.timeout)
    return grade_on_cluster(args.cluster, folder, options, Path(args.zip or default_zip(args.assignment)),
                            args.csv, results_dir=args.results, retries=args.retries)


def grade_on_cluster(address: str, folder: Path, options: Options, autograder_zip: Path,
                     csv_path: Path, results_dir: Path | None = None, retries: int = 3,
                     out=None, err=None) -> int:
    """Grade every submission of `folder` on the cluster; the exit status (0: all graded)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        import ray
    except ImportError:
        print(f"error: {INSTALL_HINT}", file=err)
        return 2
    if not autograder_zip.is_file():
        print(f"error: {autograder_zip} not found: run `make release` first", file=err)
        return 2
    try:
        manifest = read_manifest(autograder_zip)
        subs = list_submissions(folder)
        task_resources(manifest, options.device, options.only)  # checks --only early
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return 2
    store = ResultsFolder(results_dir or default_results_dir(csv_path))
    zip_sha = sha256_file(autograder_zip)
    keys = {s.name: run_key(s, zip_sha, options) for s in subs}
    todo = [s for s in subs if not store.finished(s, keys[s.name])]
    print(f"{len(subs) - len(todo)} of {len(subs)} submissions already graded in {store.root}; "
          f"{len(todo)} to grade on {address}", file=out, flush=True)
    errors: dict[str, str] = {}
    status = 0
    if todo:
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING,
                     namespace="coursekit")
        except Exception as exc:  # ConnectionError, or RuntimeError from a version mismatch
            print(f"error: cannot connect to the Ray cluster at {address}: {exc}", file=err)
            return 2
        try:
            status = _run(ray, todo, store, keys, manifest, options, autograder_zip, retries,
                          errors, err)
        finally:
            ray.shutdown()
    rows = []
    for s in subs:
        if store.finished(s, keys[s.name]):
            rows.append(csv_row(s.name, store.load(s), ""))
        else:
            rows.append(csv_row(s.name, None, errors.get(s.name, NOT_GRADED)))
    write_csv(rows, csv_path)
    _warn_about_isolation(store, subs, err)
    graded = sum(1 for r in rows if not r["error"])
    print(f"graded {graded} of {len(rows)} submissions -> {csv_path} (results.json of each in "
          f"{store.root})", file=out)
    if status:
        return status
    return 0 if all(not r["error"] for r in rows) else 1


def _run(ray, todo, store, keys, manifest, options, autograder_zip, retries, errors, err) -> int:
    from tqdm import tqdm

    has_gpu = ray.cluster_resources().get("GPU", 0) > 0
    res = task_resources(manifest, options.device, options.only, cluster_has_gpu=has_gpu)
    if res.num_gpus and not has_gpu:
        print("warning: each task asks for a GPU and the cluster has none now; tasks wait "
              "until a node with a GPU joins", file=err, flush=True)
    elif not any(_fits(res, node.get("Resources", {})) for node in ray.nodes() if node.get("Alive")):
        print(f"warning: no node of the cluster can run a task now: each asks for "
              f"{res.num_cpus:g} CPU, {res.num_gpus:g} GPU and {res.memory_mb} MB of memory "
              "(the largest resources.memory_mb of the graded questions, plus the harness); "
              "tasks wait until such a node joins", file=err, flush=True)
    remote = ray.remote(grade_task)
    task_options = dict(max_retries=retries, retry_exceptions=False, **res.ray_options())
    zip_ref = ray.put(autograder_zip.read_bytes())
    env = {k: os.environ[k] for k in FORWARDED_ENV + DEFAULT_ENV if k in os.environ}
    opts = options.as_dict()
    pending, inflight = deque(todo), {}
    done = failed = 0
    bar = tqdm(total=len(todo), desc="grading", unit="submission", file=err, dynamic_ncols=True)
    window, window_checked = 4, 0.0
    try:
        while pending or inflight:
            if time.monotonic() - window_checked > 10:
                window, window_checked = _window(ray, res), time.monotonic()
            while pending and len(inflight) < window:
                sub = pending.popleft()
                kind, payload = pack(sub)
                ref = remote.options(name=f"grade {sub.name}", **task_options).remote(
                    opts, sub.name, kind, payload, zip_ref, env)
                inflight[ref] = sub
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=1.0)
            for ref in ready:
                sub = inflight.pop(ref)
                try:
                    got = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if getattr(exc, "cause", None) is not None else exc
                    errors[sub.name] = f"{type(cause).__name__}: {cause}"
                    failed += 1
                except ray.exceptions.RayError as exc:
                    errors[sub.name] = (f"not graded: {type(exc).__name__} after {retries} "
                                        f"retries: {str(exc).splitlines()[0] if str(exc) else ''}")
                    failed += 1
                else:
                    store.save(sub, keys[sub.name], got["results"], got["log"],
                               {"node": got["node"], "started": got["started"],
                                "finished": got["finished"], "wall_seconds": got["wall_seconds"]})
                    done += 1
                bar.set_postfix(done=done, failed=failed, remaining=len(pending) + len(inflight),
                                refresh=False)
                bar.update(1)
    except KeyboardInterrupt:
        for ref in inflight:
            ray.cancel(ref, force=True)
        bar.close()
        print(f"\ninterrupted: {done} graded now, kept in {store.root}; run the same command "
              "again to grade the rest", file=err)
        return 130
    bar.close()
    return 0


def _fits(res, offered: dict) -> bool:
    """Whether a node offering `offered` (Ray's resource names) can run one task."""
    return (offered.get("CPU", 0) >= res.num_cpus and offered.get("GPU", 0) >= res.num_gpus
            and offered.get("memory", 0) >= res.memory_mb * 1024 * 1024)


def _window(ray, res) -> int:
    """Tasks kept in flight: twice what the cluster can run at once, at least 4."""
    total = ray.cluster_resources()
    slots = total.get("CPU", 0) / res.num_cpus if res.num_cpus else 0
    if res.num_gpus:
        slots = min(slots, total.get("GPU", 0) / res.num_gpus)
    return max(4, int(2 * slots))


def layer_missing(state) -> bool:
    """A sandbox layer the node did not give: False, or a reason why not (a string), except
    layers the kit does not use by design ("not used: ...")."""
    return state is False or (isinstance(state, str) and not state.startswith("not used"))


def _warn_about_isolation(store: ResultsFolder, subs, err) -> None:
    """Name the nodes where a grading ran without root or without a sandbox layer."""
    not_root: dict[str, int] = {}
    layers: dict[tuple[str, str], int] = {}
    for s in subs:
        rec = store.record(s)
        if not rec:
            continue
        host = (rec.get("node") or {}).get("hostname", "?")
        if (rec.get("node") or {}).get("uid") not in (0, None):
            not_root[host] = not_root.get(host, 0) + 1
        try:
            doc = store.load(s).results
        except (OSError, ValueError):
            continue
        sandbox = (doc.get("extra_data") or {}).get("sandbox") or {}
        for layer, state in sandbox.items():
            if layer_missing(state):
                layers[(host, layer)] = layers.get((host, layer), 0) + 1
    for host, n in sorted(not_root.items()):
        print(f"warning: {n} grading(s) on {host} ran as a user other than root: the student "
              "process was not moved to its own uid (docs/cluster.md, sandbox)", file=err)
    for (host, layer), n in sorted(layers.items()):
        print(f"warning: {n} grading(s) on {host} ran without the sandbox layer {layer!r}", file=err)
