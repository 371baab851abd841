"""Model runtime and training: integrity checks, no torch on the scan path, a smoke training run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from blamelex.model import default_model_dir
from blamelex.model.runtime import ModelError, SpanModel, verify_manifest, write_manifest

ROOT = Path(__file__).resolve().parents[1]
MODEL = default_model_dir()


def test_shipped_model_is_small_and_complete() -> None:
    files = verify_manifest(MODEL)
    assert {"model.onnx", "tokenizer.json", "labels.json", "config.json",
            "calibration.json"} <= set(files)
    assert (MODEL / "model.onnx").stat().st_size <= 30 * 1024 * 1024
    assert (MODEL / "README.md").exists(), "model card"


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(MODEL, copy)
    with (copy / "labels.json").open("a") as fh:
        fh.write(" ")
    with pytest.raises(ModelError, match="does not match the manifest"):
        SpanModel(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(ModelError, match="no manifest.json"):
        SpanModel(copy)


def test_manifest_rejects_unsafe_names(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    write_manifest(tmp_path, ["a.txt"])
    data = json.loads((tmp_path / "manifest.json").read_text())
    data["files"]["../evil"] = "0" * 64
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="unsafe file name"):
        verify_manifest(tmp_path)


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("model", ["None", "'default'"])
def test_scan_path_needs_no_torch_or_transformers(model: str) -> None:
    # thinc (under spaCy) imports torch whenever it is installed, so block both imports: the
    # scan must work, and find something, with neither available
    mods = _modules_after(
        "import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
        f"import blamelex; d = blamelex.load(model={model})\n"
        "assert d.scan('YP is putting herself at risk.')")
    assert "onnxruntime" in mods if model != "None" else "onnxruntime" not in mods


def test_missing_onnxruntime_gives_clear_message() -> None:
    code = ("import sys; sys.modules['onnxruntime'] = None\n"
            "from blamelex.cli import main\n"
            "sys.exit(main(['scan', '-']))\n")
    out = subprocess.run([sys.executable, "-c", code], input="text\n", capture_output=True,
                         text=True)
    assert out.returncode == 2
    assert "pip install onnxruntime" in out.stderr and "--no-model" in out.stderr
    assert "Traceback" not in out.stderr


def test_model_scores_and_finds_spans(detector_model) -> None:  # type: ignore[no-untyped-def]
    text = "Amira is putting herself at risk. She could have walked away at any point."
    findings = detector_model.scan(text)
    assert findings, "the combined detector finds nothing"
    for f in findings:
        assert text[f.start:f.end] == f.text
        assert 0.0 <= f.score <= 1.0
        assert any(step.stage == "model" for step in f.trace)


def test_smoke_training_loss_falls_and_export_round_trips(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from blamelex.model.train import load_config, train

    cfg = load_config(ROOT / "configs" / "smoke.yaml")
    cfg.output = str(tmp_path / "smoke")
    summary = train(cfg)
    first, last = summary["first_losses"], summary["last_losses"]
    assert sum(last) / len(last) < sum(first) / len(first), (first, last)
    check = json.loads((tmp_path / "smoke" / "export_check.json").read_text())
    assert check["max_abs_logit_diff_fp32_onnx_vs_torch"] < 1e-3
    model = SpanModel(tmp_path / "smoke")  # manifest verified, int8 ONNX loads
    tp = model.predict(["YP was putting herself at risk."])[0]
    assert tp.probs.shape[1] == len(model.labels)
    assert abs(float(tp.probs.sum(axis=1).mean()) - 1.0) < 1e-4


def test_model_batches_end_at_the_token_budget(detector_model, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from blamelex import component

    comp = detector_model.component
    seen: list[list[int]] = []
    original = comp._process

    def record(docs):  # type: ignore[no-untyped-def]
        seen.append([len(d) for d in docs])
        original(docs)

    monkeypatch.setattr(comp, "_process", record)
    monkeypatch.setattr(component, "BATCH_TOKENS", 300)
    long_note = "She was seen with older males again and is putting herself at risk. " * 10
    texts = [long_note] * 6 + ["She chose to go missing."] * 40
    results = list(detector_model.scan_many(texts, batch_size=32))
    assert len(results) == len(texts) and all(results[:6])
    # every batch stops once it reaches the budget (or batch_size docs): long notes go a few at
    # a time, short ones up to batch_size together
    assert all(sum(sizes[:-1]) < 300 and len(sizes) <= 32 for sizes in seen)
    assert max(len(sizes) for sizes in seen) > 10 and min(len(sizes) for sizes in seen[:2]) < 6


def test_a_span_with_tied_token_categories_decodes_the_same_under_any_hash_seed() -> None:
    # two tokens of one span, one voting for each of two categories: the tie must not be
    # broken by set order (which follows PYTHONHASHSEED)
    code = (
        "import numpy as np\n"
        "from blamelex.model import default_model_dir\n"
        "from blamelex.model.runtime import SpanModel, TokenProbs\n"
        "m = SpanModel(default_model_dir())\n"
        "probs = np.full((2, len(m.labels)), 0.01)\n"
        "probs[0, m.labels.index('B-minimising_risk')] = 0.9\n"
        "probs[1, m.labels.index('I-responsibility_choice')] = 0.9\n"
        "print(m.spans(TokenProbs(np.array([[0, 4], [5, 9]]), probs))[0][2])\n"
    )
    seen = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        env = {**__import__("os").environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=env)
        seen.add(out.stdout.strip())
    assert seen == {"minimising_risk"}


def test_majority_keeps_the_first_of_tied_categories() -> None:
    from blamelex.model.labels import majority

    assert majority(["a", "b"]) == "a" and majority(["b", "a"]) == "b"
    assert majority(["a", "b", "b"]) == "b"


def test_a_text_gets_the_same_findings_alone_as_among_others(detector_model) -> None:  # type: ignore[no-untyped-def]
    # int8 activations are quantized per ONNX run: a text must not share a run with others
    from blamelex.corpus import read_split

    texts = [item["text"] for item in read_split("test")][:80]
    together = [[f.to_dict() for f in fs] for fs in detector_model.scan_many(texts, batch_size=80)]
    alone = [[f.to_dict() for f in detector_model.scan(t)] for t in texts]
    assert together == alone and sum(map(len, alone)) > 20


def test_the_model_gives_the_same_output_on_any_number_of_threads() -> None:
    # runs are dealt to threads from a shared queue, longest first: each text's output must
    # still come back in its own place, and equal to a one-thread run
    from blamelex.corpus import read_split

    texts = [item["text"] for item in read_split("test")][:60]
    one = SpanModel(default_model_dir(), threads=1)
    three = SpanModel(default_model_dir(), threads=3)
    assert three.threads == 3
    for batch_size in (1, 8):
        expected = one.predict(texts, batch_size=batch_size)
        got = three.predict(texts, batch_size=batch_size)
        assert len(got) == len(texts)
        for a, b in zip(expected, got, strict=True):
            assert np.array_equal(a.offsets, b.offsets) and np.array_equal(a.probs, b.probs)
    assert three.predict([]) == []


def test_model_threads_must_be_one_or_more() -> None:
    with pytest.raises(ValueError, match="threads must be 1 or more"):
        SpanModel(default_model_dir(), threads=0)


def test_an_error_in_a_model_thread_reaches_the_caller() -> None:
    model = SpanModel(default_model_dir(), threads=2)
    real = model.session

    class Failing:
        def run(self, names, feeds):  # type: ignore[no-untyped-def]
            if feeds["input_ids"].shape[1] == 9:
                raise RuntimeError("run failed")
            return real.run(names, feeds)

    model.session = Failing()  # type: ignore[assignment]
    texts = ["one two three", "She chose to go missing again.", "a b c d e f g"] * 4
    assert {len(e.ids) for e in model.tokenizer.encode_batch(texts)} >= {9}
    with pytest.raises(RuntimeError, match="run failed"):
        model.predict(texts)


def test_forked_processes_run_the_model_after_the_parent_has_used_it() -> None:
    # spaCy's n_process forks: the model's worker threads of the parent do not exist in the
    # child, and work handed to them there would wait for ever (it did once)
    code = (
        "import blamelex\n"
        "d = blamelex.load(model='default')\n"
        "texts = ['She was putting herself at risk.', 'Nothing of note. She chose to go "
        "missing.'] * 4\n"
        "print([len(f) for f in d.scan_many(texts)])\n"
        "print([len(f) for f in d.scan_many(texts, n_process=2, batch_size=2)])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr[-800:]
    parent, children = out.stdout.split("\n")[:2]
    assert parent == children == str([1] * 8)
