"""Start-up: importing blamelex, ``blamelex --version`` and ``--help`` import no heavy library
(spaCy, numpy, ONNX Runtime, PyYAML); the public names still resolve on first use."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("spacy", "numpy", "onnxruntime", "tokenizers", "yaml", "thinc", "torch")


def _imported_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             f"print('IMPORTED:', *(m for m in {HEAVY!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.splitlines()[-1].split()[1:])


def test_importing_the_package_imports_nothing_heavy() -> None:
    assert _imported_after("import blamelex; blamelex.__version__") == set()


def test_version_and_help_import_nothing_heavy() -> None:
    for argv in (["--version"], ["--help"], ["scan", "--help"]):
        code = ("from blamelex.cli import main\n"
                "try:\n"
                f"    main({argv!r})\n"
                "except SystemExit:\n"
                "    pass")
        assert _imported_after(code) == set(), argv


def test_public_names_resolve_lazily() -> None:
    import blamelex
    from blamelex.detector import Detector, load
    from blamelex.findings import Finding, Modifier, Source, Suggestion
    from blamelex.rephrase import Edit

    assert (blamelex.Detector, blamelex.load, blamelex.Finding, blamelex.Modifier,
            blamelex.Source, blamelex.Suggestion, blamelex.Edit) == (
        Detector, load, Finding, Modifier, Source, Suggestion, Edit)
    assert set(blamelex.__all__) <= set(dir(blamelex))
    assert blamelex.lexicon.load_lexicon  # a submodule, as before
    try:
        blamelex.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("no AttributeError")


def test_cli_errors_of_lazily_imported_modules_are_still_reported(tmp_path: object) -> None:
    from pathlib import Path

    bad = Path(str(tmp_path)) / "bad.yaml"
    bad.write_text("entries: [\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", "import sys; from blamelex.cli import main; "
                          "sys.exit(main())", "lexicon", "list", "--lexicon", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "invalid YAML" in out.stderr, out.stderr
    out = subprocess.run([sys.executable, "-c", "import sys; from blamelex.cli import main; "
                          "sys.exit(main())", "scan", "--model", str(tmp_path), "-"],
                         input="text", capture_output=True, text=True)
    assert out.returncode == 2 and "blamelex: model:" in out.stderr, out.stderr
