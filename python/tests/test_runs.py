"""Runs from Python: train a quick scenario, read it back, and recompute its hidden states in numpy."""

import json

import numpy as np
import pytest

import reachlab


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "curl"
    return reachlab.train("curl_field", out=out, quick=True, seed=1, progress=False)


def test_train_writes_a_run_that_load_run_reads(quick_run):
    run = quick_run
    assert run.summary["scenario"] == "curl_field"
    assert "theta_lw_deg" in run.summary and isinstance(run.analysis, dict)
    curve = run.learning_curve
    stages = list(curve["stage"])
    assert stages[0] == "pretraining" and stages[-1] == "relearning"
    assert np.all(np.diff(np.asarray(curve["update"], float)) == 1)
    rec = run.recordings["learning_late"]
    n, t, h = rec["hidden"].shape
    assert rec["obs"].shape == (n, t, 7) and rec["hand_pos"].shape == (n, t, 2) and h == run.policy().hidden_size
    assert rec["length"].dtype == np.uint32 and (rec["length"] <= t).all()


def test_load_policy_forward_reproduces_the_recorded_hidden_states(quick_run):
    # Each stage's late recording was made by the weights saved at the stage's end.
    for stage in ["baseline", "learning", "washout", "relearning"]:
        rec = quick_run.recordings[f"{stage}_late"]
        policy = reachlab.load_policy(quick_run.path, stage)
        assert policy.kind == "gru" and "actor.weight_hh_l0" in policy.weights
        hidden, head = policy.forward(rec["obs"])
        assert head.shape[-1] == 2
        for i, length in enumerate(rec["length"]):
            np.testing.assert_allclose(hidden[i, :length], rec["hidden"][i, :length], atol=1e-5)
    # A single trial [T, I] gives [T, H].
    hidden, _ = policy.forward(rec["obs"][0])
    assert hidden.shape == rec["hidden"][0].shape


def test_resume_of_a_finished_run_changes_nothing(quick_run):
    before = (quick_run.path / "learning_curve.csv").read_bytes()
    again = reachlab.train(out=quick_run.path, resume=True, progress=False)
    assert (again.path / "learning_curve.csv").read_bytes() == before


def test_an_edited_run_resumes_only_with_force(quick_run, tmp_path):
    import shutil

    run = tmp_path / "edited"
    shutil.copytree(quick_run.path, run)
    toml = run / "scenario.toml"
    text = toml.read_text()
    assert "learning_rate = 0.0003" in text
    toml.write_text(text.replace("learning_rate = 0.0003", "learning_rate = 0.0002", 1))
    with pytest.raises(Exception, match="learning_rate"):
        reachlab.train(out=run, resume=True, progress=False)
    with pytest.raises(ValueError, match="resume=True"):
        reachlab.train("curl_field", out=tmp_path / "new", force=True, progress=False)
    before = (run / "learning_curve.csv").read_bytes()
    again = reachlab.train(out=run, resume=True, force=True, progress=False)
    assert (again.path / "learning_curve.csv").read_bytes() == before


def test_a_task_run_from_python(tmp_path):
    run = reachlab.train("flipflop", out=tmp_path / "ff", quick=True, progress=False)
    assert "results" in run.tables and len(run.learning_curve["update"]) > 0
    # One unit (one seed, one arm) runs in the folder itself; several would be run.units.
    policy = reachlab.load_policy(run.path)
    obs = np.zeros((5, policy.weights["actor.weight_ih_l0"].shape[1]))
    hidden, head = policy.forward(obs)
    assert hidden.shape == (5, policy.hidden_size) and head.shape == (5, 3)


def test_seeds_from_python_run_over_seeds_as_the_cli_does(tmp_path):
    run = reachlab.train("curl_field", out=tmp_path / "s", seeds=2, jobs=2, quick=True, progress=False)
    assert sorted(run.units) == ["scenario/seed-0", "scenario/seed-1"]
    assert (run.path / "findings.md").is_file()
    # Each unit is the lone run with that seed: the same learning curve, timing aside.
    lone = reachlab.train("curl_field", out=tmp_path / "lone", seed=1, quick=True, progress=False)
    keep = [c for c in lone.learning_curve if c not in ("wall_seconds", "env_steps_per_second")]
    for c in keep:
        np.testing.assert_array_equal(
            np.asarray(run.units["scenario/seed-1"].learning_curve[c]), np.asarray(lone.learning_curve[c]), err_msg=c
        )
    with pytest.raises(ValueError, match="give a list of seeds"):
        reachlab.train("curl_field_compare", out=tmp_path / "c", seed=3, quick=True, progress=False)
    with pytest.raises(ValueError, match="do not give seed, seeds or quick"):
        reachlab.train(out=run.path, resume=True, seeds=[0, 1], progress=False)
    with pytest.raises(ValueError, match="1 to 1000 seeds"):
        reachlab.train("curl_field", out=tmp_path / "z", seeds=0)


def test_analyze_recomputes_a_run_as_analyze_run_does(quick_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(quick_run.path, run, symlinks=True)
    before = (run / "analysis.json").read_text()
    (run / "analysis.json").unlink()
    report = reachlab.analyze(run)
    assert "onset jump" in report and (run / "analysis.json").read_text() == before
    with pytest.raises(OSError):
        reachlab.analyze(tmp_path / "nothing")


def test_collect_gathers_a_sweep_folder(tmp_path):
    out = tmp_path / "sweep"
    units = []
    for i in range(3):
        d = out / f"unit-{i:04d}"
        if i < 2:  # the third unit never ran
            reachlab.train("flipflop", out=d, seed=i, quick=True, progress=False)
        units.append({"index": i, "dir": str(d), "settings": [["seed", str(i)]]})
    (out / "manifest.json").write_text(json.dumps({"sweep": "ff", "kind": "tasks", "units": units}))
    assert reachlab.collect(out) == [2]
    rows = (out / "collected.csv").read_text().splitlines()
    assert rows[0].startswith("unit,seed,mean_perf") and len(rows) == 3
    perf = [json.loads((out / f"unit-{i:04d}" / "result.json").read_text())["mean_perf"] for i in range(2)]
    md = (out / "collected.md").read_text()
    assert f"| all | 2 | {np.mean(perf):.3f} ± " in md, md
    assert len((out / "svcca_distance.csv").read_text().splitlines()) == 3


def test_run_errors_are_python_exceptions(tmp_path):
    with pytest.raises(ValueError, match="no scenario `curl_feild`"):
        reachlab.train("curl_feild", out=tmp_path / "x")
    bad = reachlab.scenario_toml("curl_field").replace("n_targets = 8", "n_targets = 8\nradiuss = 0.1")
    with pytest.raises(ValueError, match=r"radiuss.*did you mean `radius`"):
        reachlab.train(bad, out=tmp_path / "y")
    with pytest.raises(FileNotFoundError):
        reachlab.load_run(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="checkpoints here"):
        reachlab.load_policy(tmp_path, "baseline")


def test_pandas_tables_when_pandas_is_installed(quick_run):
    pd = pytest.importorskip("pandas")
    run = reachlab.load_run(quick_run.path, as_pandas=True)
    assert isinstance(run.trials, pd.DataFrame) and "mpd_cm" in run.trials.columns
    plain = reachlab.load_run(quick_run.path, as_pandas=False)
    np.testing.assert_allclose(np.asarray(plain.trials["mpd_cm"]), run.trials["mpd_cm"].to_numpy(), equal_nan=True)


def test_read_safetensors_matches_the_header(quick_run):
    path = quick_run.path / "recordings" / "baseline_late.safetensors"
    raw = path.read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    arrays = reachlab.read_safetensors(path)
    assert set(arrays) == set(header) - {"__metadata__"}
    for name, t in header.items():
        if name != "__metadata__":
            assert list(arrays[name].shape) == t["shape"]
