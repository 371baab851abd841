"""The ``blamelex`` command: argument parsing and exit codes only; the work is in the API.

Exit codes: 0 no findings, 1 findings, 2 an error (bad arguments, or a path that could not be
read — the other paths are still scanned).
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

# Only light modules here: ``--version`` and ``--help`` must not import spaCy, numpy or ONNX
# Runtime (each command imports what it uses; `_raised` finds the error classes of the lexicon
# and the model once a command has imported them).
from blamelex import __version__
from blamelex.findings import SEVERITIES, SelectionError
from blamelex.records import RecordError
from blamelex.summary import SummaryError

if TYPE_CHECKING:
    from blamelex.sources import Document

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class CliError(Exception):
    """A mistake in the command's arguments, reported as ``blamelex: MESSAGE`` (exit 2)."""


_EPILOG_MAIN = """\
examples:
  blamelex scan examples/notes/                 scan a folder of .txt notes
  blamelex scan note.txt --format json          one JSON document
  cat draft.txt | blamelex scan -               scan text from stdin
  blamelex rewrite note.txt                     show a diff with neutral wording
  blamelex explain VB101                        why a term harms, what to write instead
  blamelex lexicon list                         every entry, code and category
  blamelex eval test                            metrics on the annotated corpus
  blamelex scan export.csv --text-column notes  scan a CSV/JSONL/Parquet export, one row a note
  blamelex summary findings.jsonl --by team     counts per category, code and team
  blamelex serve                                local HTTP API and drafting page (port 8080)

exit codes: 0 nothing found, 1 findings, 2 error (the rest of the input is still scanned).
All processing is local; nothing is sent anywhere.
"""

_EPILOG_SCAN = """\
examples:
  blamelex scan notes/ --include '*.txt' --exclude 'archive/*'
  blamelex scan notes/ --format sarif --output results.sarif
  blamelex scan notes/ --select responsibility_choice,VB2 --min-severity avoid
  blamelex scan review.txt --voice reported   # only labels others used ("police described her as")
  blamelex scan notes/ --lexicon our-terms.yaml --ignore VB640
  echo "YP is putting herself at risk" | blamelex scan -
  blamelex scan export.csv --text-column notes --id-column case_id --keep-column team
  blamelex scan export.parquet --text-column notes --id-column case_id --format jsonl \\
      --output findings.jsonl --jobs 2

record exports: a PATH ending in .csv, .jsonl or .parquet is read as one record per row when
--text-column names the column to scan; --id-column and each --keep-column are carried into
every output format (Parquet needs: pip install 'blamelex[parquet]').

text output: path:line:col: CODE [severity] message (suggest: ...)
             path:ID:line:col: ... for a record (ID: the --id-column value, else the record
             number, counting data rows from 1)
"""


_EPILOG_REWRITE = """\
examples:
  blamelex rewrite note.txt
  blamelex rewrite note.txt --write
  blamelex rewrite export.csv --text-column notes --id-column case_id
  blamelex rewrite export.csv --text-column notes --write

record exports: a FILE ending in .csv, .jsonl or .parquet is never rewritten as plain text;
name the column to rewrite with --text-column. The diff then shows each changed record's text,
labelled path:ID. --write changes only that column's cells (CSV: the changed rows are written
again by a CSV writer; JSON Lines: the changed lines as JSON) and refuses a file with malformed
rows. Parquet files are shown, not written.
"""


def _csv(values: Sequence[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("--jobs must be 1 or more")
    return n


def _threshold(value: str) -> float:
    try:
        f = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= f <= 1.0:
        raise argparse.ArgumentTypeError("threshold must be between 0 and 1")
    return f


def _add_detector_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("what to look for")
    g.add_argument("--select", action="append", metavar="CODES",
                   help="only these codes (prefix, e.g. VB1) or categories; comma-separated")
    g.add_argument("--ignore", action="append", metavar="CODES",
                   help="skip these codes (prefix) or categories; comma-separated")
    g.add_argument("--min-severity", choices=SEVERITIES, default=None,
                   help="report only this severity and above (avoid is the most serious)")
    g.add_argument("--voice", choices=("all", "own", "reported"), default="all",
                   help="whose wording: own (the text's own words), reported (labels the text "
                        "attributes to a professional, agency, court or record: 'officers "
                        "described her as ...'), or all (default)")
    g.add_argument("--threshold", type=_threshold, default=0.5, metavar="P",
                   help="minimum score 0-1 for a finding (default 0.5)")
    g.add_argument("--lexicon", action="append", metavar="FILE", default=[],
                   help="add an organisation's own lexicon file (YAML); repeatable")
    g.add_argument("--context-rules", action="append", metavar="FILE", default=[],
                   help="add an organisation's own context-rule file (YAML, the format of "
                        "data/context_rules.yaml; docs/context.md); repeatable")
    g.add_argument("--no-risk", action="store_true",
                   help="turn off the risk-grading check (RG101-RG104; docs/risk.md)")
    g.add_argument("--risk-rules", action="append", metavar="FILE", default=[],
                   help="add an organisation's own risk indicators/rules (YAML, the format of "
                        "data/risk/indicators.yaml and rules.yaml; docs/risk.md); repeatable")
    m = p.add_argument_group("model")
    m.add_argument("--no-model", action="store_true",
                   help="lexicon and context rules only (no transformer; fastest)")
    m.add_argument("--model", metavar="DIR", default="default",
                   help="model folder (default: the bundled model)")
    m.add_argument("--screener", action="store_true",
                   help="let a cheap sentence screener skip the transformer on clearly benign "
                        "sentences (faster on long, mostly neutral notes)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to generate docs)."""
    parser = argparse.ArgumentParser(
        prog="blamelex",
        description="Find victim-blaming language in case notes about children and suggest "
                    "neutral wording that keeps the concern explicit.",
        epilog=_EPILOG_MAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"blamelex {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = sub.add_parser("scan", help="scan files, folders or stdin",
                          description="Scan files, folders (recursively) or stdin ('-').",
                          epilog=_EPILOG_SCAN,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    scan.add_argument("paths", nargs="*", metavar="PATH", help="files, folders, or - for stdin")
    scan.add_argument("--format", "-f", default="text",
                      choices=["text", "json", "jsonl", "sarif", "csv", "html"],
                      help="output format")
    scan.add_argument("--output", "-o", metavar="FILE",
                      help="write to FILE (atomically) instead of stdout")
    scan.add_argument("--include", action="append", metavar="GLOB",
                      help="file globs to scan inside folders (default: *.txt *.md *.text "
                           "*.note *.notes); repeatable")
    scan.add_argument("--exclude", action="append", metavar="GLOB", default=[],
                      help="file globs to skip inside folders; repeatable")
    scan.add_argument("--quiet", "-q", action="store_true",
                      help="no summary line, warnings or progress bar on stderr")
    scan.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    scan.add_argument("--redact", type=int, metavar="N", default=None,
                      help="privacy: outputs carry only the flagged words and N characters of "
                           "context either side, never the whole note (json, jsonl, csv, html)")
    scan.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                      help="scan on N processes of this machine (default 1); output order "
                           "stays the input order. With the model, one process already uses "
                           "every core (one sentence per core at once); N processes share "
                           "them")
    rec = scan.add_argument_group("record exports (.csv, .jsonl, .parquet)")
    rec.add_argument("--text-column", metavar="COL",
                     help="column holding the text to scan; makes .csv/.jsonl/.parquet PATHs "
                          "read as one record per row")
    rec.add_argument("--id-column", metavar="COL",
                     help="column identifying each record (shown in every output format)")
    rec.add_argument("--keep-column", action="append", metavar="COL", default=[],
                     help="column copied into every finding, e.g. team; repeatable")
    _add_detector_options(scan)

    rw = sub.add_parser("rewrite", help="show (or apply) neutral rewording as a diff",
                        description="Print a unified diff that replaces each finding with its "
                                    "first suggestion. The file changes only with --write, "
                                    "which keeps a backup FILE.orig.",
                        epilog=_EPILOG_REWRITE,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    rw.add_argument("file", metavar="FILE", help="file to rewrite, or - for stdin")
    rw.add_argument("--write", action="store_true", help="change the file (backup: FILE.orig)")
    rwr = rw.add_argument_group("record exports (.csv, .jsonl, .parquet)")
    rwr.add_argument("--text-column", metavar="COL",
                     help="the column to rewrite (required for a .csv, .jsonl or .parquet "
                          "FILE); every other column, the header and the rows stay as they are")
    rwr.add_argument("--id-column", metavar="COL",
                     help="column identifying each record in the diff (default: the record "
                          "number)")
    _add_detector_options(rw)

    ex = sub.add_parser("explain", help="explain a code: why it harms, what to write instead",
                        epilog="example:\n  blamelex explain VB101",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("code", metavar="CODE")
    ex.add_argument("--lexicon", action="append", metavar="FILE", default=[])

    lx = sub.add_parser("lexicon", help="check, list or document lexicon files",
                        epilog="examples:\n  blamelex lexicon check our-terms.yaml\n"
                               "  blamelex lexicon list --category adultification\n"
                               "  blamelex lexicon catalogue > docs/rules.md",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    lsub = lx.add_subparsers(dest="lexicon_command", metavar="ACTION")
    chk = lsub.add_parser("check", help="validate a lexicon file and run its entries' examples")
    chk.add_argument("files", nargs="+", metavar="FILE")
    lst = lsub.add_parser("list", help="list the loaded entries")
    lst.add_argument("--lexicon", action="append", metavar="FILE", default=[])
    lst.add_argument("--category", default=None)
    cat = lsub.add_parser("catalogue", help="print the rules catalogue (Markdown)")
    cat.add_argument("--lexicon", action="append", metavar="FILE", default=[])
    ev = sub.add_parser("eval", help="evaluate on the annotated corpus or a JSONL file",
                        description="Sentence P/R/F1, span exact and overlap P/R/F1 per category, "
                                    "hard-negative flag rate and challenge accuracy per "
                                    "capability;\nwhen the gold spans carry a voice (corpus v2), "
                                    "sentence and span recall per voice\n(detected: found in any "
                                    "voice; voice-correct: found in the gold voice) and the\n"
                                    "precision of the findings in each voice.",
                        epilog="examples:\n  blamelex eval dev\n"
                               "  blamelex eval test --format json\n"
                               "  blamelex eval challenge --system lexicon\n"
                               "  blamelex eval test --proposals 0.5   # the model's own spans on\n"
                               "  blamelex eval --real ../shared/realtext/dev.jsonl  # real text:"
                               " passage\n    recall/precision/F1, neutral and meta flag rates, "
                               "phrase recall, per voice\n"
                               "  blamelex eval --risk test   # risk grading: P/R/F1 per RG type",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ev.add_argument("split", nargs="?", default="dev", metavar="SPLIT|FILE",
                    help="train, dev, test, challenge, or a corpus-format .jsonl file "
                         "(default dev)")
    ev.add_argument("--system", default="combined",
                    choices=["lexicon", "model", "combined", "combined-no-context",
                             "lexicon-no-context"],
                    help="lexicon: lexicon + context rules; model: the transformer's own spans; "
                         "combined: everything (default); *-no-context: ablations")
    ev.add_argument("--model", metavar="DIR", default="default", help="model folder")
    ev.add_argument("--proposals", type=_threshold, default=None, metavar="P",
                    help="let the model report spans the lexicon lacks at mean probability >= P "
                         "(default: off, as in scan)")
    ev.add_argument("--real", metavar="FILE",
                    help="a real-text set (JSON lines with id, text, kind blaming/neutral/meta, "
                         "spans with voice): print the real-text table instead")
    ev.add_argument("--risk", metavar="SPLIT|FILE",
                    help="the risk-grading set (train, dev, test, all of data/risk/splits.yaml, or "
                         "a .jsonl file of its format): P/R/F1 per RG finding type and the "
                         "plain-note flag rate, lexicon-only")
    ev.add_argument("--corpus-plain", action="store_true",
                    help="with --risk: also count the annotated corpus notes the check flags")
    ev.add_argument("--screener", action="store_true",
                    help="use the sentence screener (off by default)")
    ev.add_argument("--format", choices=["table", "json"], default="table")
    ev.add_argument("--data", metavar="DIR", default=None,
                    help="corpus folder (default: data/corpus in the source checkout)")
    ev.add_argument("--threshold", type=_threshold, default=0.5, metavar="P")
    sm = sub.add_parser("summary", help="count the findings of a JSON Lines scan per category, "
                                         "code, voice and column",
                        description="Read the findings written by 'blamelex scan --format "
                                    "jsonl' and print counts per category,\nper code, per "
                                    "voice (reported: labels used by others; own: our own "
                                    "wording),\nper each --by key (a kept record column, or any "
                                    "finding field) and per the --by keys together.",
                        epilog="examples:\n"
                               "  blamelex scan export.csv --text-column notes --keep-column team"
                               " --format jsonl -o findings.jsonl\n"
                               "  blamelex summary findings.jsonl --by team\n"
                               "  blamelex summary findings.jsonl --by team --by voice   "
                               "# each team's own wording beside labels it reports\n"
                               "  blamelex summary findings.jsonl --by team --by category "
                               "--output summary.csv --plot summary.png",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    sm.add_argument("results", metavar="RESULTS.jsonl",
                    help="findings from 'blamelex scan --format jsonl', or - for stdin")
    sm.add_argument("--by", action="append", metavar="KEY", default=[],
                    help="also count per this key (e.g. team, severity); repeatable")
    sm.add_argument("--output", "-o", metavar="FILE",
                    help="also write the tables to FILE.csv or FILE.json (format from the suffix)")
    sm.add_argument("--plot", metavar="FILE.png",
                    help="draw bar charts into a PNG file (needs: pip install 'blamelex[report]')")
    tr = sub.add_parser("train", help="fine-tune the span model (needs the 'train' extra)",
                        epilog="example:\n  blamelex train --config configs/train.yaml",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    tr.add_argument("--config", required=True, metavar="FILE", help="YAML training config")
    sv = sub.add_parser("serve", help="a local HTTP API and drafting page (needs the 'serve' "
                                      "extra)",
                        description="Serve the JSON API (/v1/...) and the drafting page (/) on "
                                    "this machine. API, limits and deployment: docs/serve.md.",
                        epilog="examples:\n  blamelex serve                      "
                               "http://127.0.0.1:8080/\n"
                               "  blamelex serve --workers 2 --no-model\n"
                               "  curl -s localhost:8080/v1/scan -H 'content-type: "
                               "application/json' \\\n"
                               "       -d '{\"text\": \"YP is putting herself at risk.\"}'",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1, this machine only)")
    sv.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    sv.add_argument("--workers", type=_jobs, default=1, metavar="N",
                    help="worker processes, one detector each (default 1)")
    sv.add_argument("--allow-remote", action="store_true",
                    help="allow a --host other machines can reach (needs --token-file)")
    sv.add_argument("--token-file", metavar="FILE",
                    help="file holding the API token; /v1/* then needs 'Authorization: "
                         "Bearer TOKEN'")
    lim = sv.add_argument_group("limits")
    lim.add_argument("--max-body-bytes", type=_jobs, default=1_048_576, metavar="N",
                     help="largest request body (default 1 MiB; 413 above)")
    lim.add_argument("--max-batch", type=_jobs, default=100, metavar="N",
                     help="most texts in one batch (default 100; 413 above)")
    lim.add_argument("--timeout", type=float, default=10.0, metavar="S",
                     help="seconds a request may wait and run (default 10; 503 past it)")
    lim.add_argument("--body-timeout", type=float, default=10.0, metavar="S",
                     help="seconds a client may take to send its body (default 10; 408 past it)")
    lim.add_argument("--max-pending", type=_jobs, default=32, metavar="N",
                     help="requests one worker holds, running and queued (default 32; 503 "
                          "with Retry-After above)")
    sv.add_argument("--model-threads", type=_jobs, default=None, metavar="N",
                    help="sentences the model runs at once in each worker (default: the "
                         "machine's cores shared among the workers)")
    sv.add_argument("--log-level", default="info",
                    choices=["critical", "error", "warning", "info", "debug"])
    _add_detector_options(sv)
    return parser


def cmd_train(args: argparse.Namespace) -> int:
    """Train the span model from a config file."""
    import json as _json

    try:
        from blamelex.model.train import load_config, train
    except ImportError as exc:
        _err(f"training needs the 'train' extra: pip install -e '.[train]' ({exc})")
        return EXIT_ERROR
    summary = train(load_config(args.config))
    sys.stdout.write(_json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2)
                     + "\n")
    return EXIT_CLEAN


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate a system on a split and print the metrics."""
    import json as _json

    from blamelex.corpus import read_split
    from blamelex.evaluate import (
        Span,
        VoicedSpan,
        evaluate,
        format_table,
        predict_model_only,
        predict_spans,
    )

    if args.real:
        return _eval_real(args)
    if args.risk:
        return _eval_risk(args)
    items = read_split(args.split, args.data)
    texts = [i["text"] for i in items]
    preds: list[list[Span]] | list[list[VoicedSpan]]
    if args.system == "model":
        preds = predict_model_only(args.model, texts)  # no voice: counted as own
    else:
        preds = predict_spans(_eval_detector(args), texts)
    result = evaluate(items, preds)
    result["system"] = args.system
    result["split"] = args.split
    if args.format == "json":
        sys.stdout.write(_json.dumps(result, indent=2) + "\n")
    else:
        sys.stdout.write(format_table(result, f"{args.system} on {args.split}") + "\n")
    return EXIT_CLEAN


def _eval_risk(args: argparse.Namespace) -> int:
    """eval --risk: P/R/F1 per RG finding type and the plain-note flag rate on the risk set;
    with --data-plain, also the share of the annotated corpus's notes the check flags."""
    import json as _json

    from blamelex.detector import load
    from blamelex.evaluate import evaluate_risk, format_risk_table, predict_risk, read_risk_set

    try:
        items = read_risk_set(args.risk)
    except (OSError, ValueError) as exc:
        raise CliError(f"--risk: {exc}") from None
    detector = load(model=None, threshold=args.threshold)
    result = evaluate_risk(items, predict_risk(detector, [i["text"] for i in items]))
    result["set"] = args.risk
    if args.corpus_plain:
        from blamelex.corpus import read_split

        corpus = [it for split in ("train", "dev", "test")
                  for it in read_split(split, args.data)]
        flags = predict_risk(detector, [it["text"] for it in corpus])
        result["corpus_items"] = len(corpus)
        result["corpus_flagged"] = sum(1 for f in flags if f)
    if args.format == "json":
        sys.stdout.write(_json.dumps(result, indent=2) + "\n")
    else:
        sys.stdout.write(format_risk_table(result, f"risk grading on {args.risk}") + "\n")
        if "corpus_items" in result:
            sys.stdout.write(f"annotated corpus notes flagged: {result['corpus_flagged']} of "
                             f"{result['corpus_items']}\n")
    return EXIT_CLEAN


def _eval_detector(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from blamelex.detector import load

    return load(
        threshold=args.threshold,
        model=None if args.system.startswith("lexicon") else args.model,
        screener=args.screener,
        context="no-context" not in args.system,
        proposal_min_prob=args.proposals,
        risk=False,  # the corpus is annotated for the VB categories only (eval --risk: RG)
    )


def _eval_real(args: argparse.Namespace) -> int:
    """The real-text table (`blamelex.evaluate.real_text_metrics`) for one system, per voice."""
    import json as _json

    from blamelex.evaluate import format_real_table, read_real, real_text_metrics

    if args.system == "model":
        raise CliError("--real measures a pipeline: use --system lexicon, combined or an "
                       "ablation, and --proposals P for the model's own spans")
    items = read_real(args.real)
    detector = _eval_detector(args)
    found = [[(f.start, f.end, f.voice) for f in fs]
             for fs in detector.scan_many(it["text"] for it in items)]
    rows = [(voice or "all", real_text_metrics(items, found, voice))
            for voice in (None, "own", "reported")]
    if args.format == "json":
        sys.stdout.write(_json.dumps({"system": args.system, "set": args.real,
                                      "by_voice": dict(rows)}, indent=2) + "\n")
    else:
        sys.stdout.write(f"{args.system} on {args.real} ({len(items)} items; rows: blaming "
                         "passages of that voice against all neutral passages)\n\n")
        sys.stdout.write(format_real_table(rows, first="voice"))
    return EXIT_CLEAN


def _err(msg: str) -> None:
    sys.stderr.write(f"blamelex: {msg}\n")


def _check_output(path: str, option: str = "--output") -> Path:
    """The folder ``path`` will be written in; a `CliError` naming it when it is missing."""
    target = Path(path)
    folder = target.parent
    if not folder.exists():
        raise CliError(f"output folder {folder} does not exist (for {option} {path}); "
                       "create it first")
    if not folder.is_dir():
        raise CliError(f"output folder {folder} is not a folder (for {option} {path})")
    if target.is_dir():
        raise CliError(f"{path} is a folder; {option} needs a file name, e.g. {folder / 'out'}")
    return folder


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    """stdout, or a file written atomically (temp file in the same folder, then rename)."""
    if path is None:
        yield sys.stdout
        return
    target = Path(path)
    folder = _check_output(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:  # the temporary file's name would mean nothing to the user
        raise CliError(f"cannot write {path}: output folder {folder}: "
                       f"{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _listing(label: str, names: Sequence[str], width: int = 96) -> str:
    import textwrap

    return textwrap.fill(", ".join(names), width=width, initial_indent=f"  {label}: ",
                         subsequent_indent=" " * (len(label) + 4), break_on_hyphens=False)


def _load_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The `blamelex.load` arguments of the detector options (scan, rewrite and serve)."""
    return dict(
        extra_lexicons=args.lexicon,
        extra_context_rules=args.context_rules,
        select=_csv(args.select),
        ignore=_csv(args.ignore),
        min_severity=args.min_severity,
        threshold=args.threshold,
        model=None if args.no_model else args.model,
        screener=args.screener,
        risk=not args.no_risk,
        extra_risk_rules=args.risk_rules,
        voice=args.voice,
    )


def _load_detector(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from blamelex.detector import load

    return load(**_load_kwargs(args))


def _progress(enabled: bool, iterable: Iterator[object]) -> Iterator[object]:
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return iterable
    return iter(tqdm(iterable, desc="scanning", unit="file", file=sys.stderr, leave=False))


def cmd_scan(args: argparse.Namespace) -> int:
    """Scan paths and write findings; returns the exit code."""
    from blamelex.findings import shift
    from blamelex.formats import ScanResult, get_formatter
    from blamelex.records import RecordColumns, check_columns, is_record_export, iter_records
    from blamelex.sources import DEFAULT_INCLUDE, Document, decode, iter_documents, iter_paths

    if not args.paths:
        _err("nothing to scan: give files or folders, or - to read stdin "
             "(try: blamelex scan examples/notes/)")
        return EXIT_ERROR
    if not args.text_column and (args.id_column or args.keep_column):
        _err("--id-column and --keep-column need --text-column COL, the column to scan "
             "(e.g. blamelex scan export.csv --text-column notes --id-column case_id)")
        return EXIT_ERROR
    if args.output:
        _check_output(args.output)  # before the detector loads and the scan starts
    columns = (RecordColumns(args.text_column, args.id_column, tuple(args.keep_column))
               if args.text_column else None)
    for p in args.paths:
        if not is_record_export(p):
            continue
        if columns is not None:
            if os.path.isfile(p):
                check_columns(p, columns)  # fail before any output is written
        elif not args.quiet:
            _err(f"{p}: warning: scanned as plain text; to scan one record per row, name the "
                 "text column: --text-column COL")
    detector = _load_detector(args)
    include = tuple(args.include) if args.include else DEFAULT_INCLUDE
    # Every result carries the same keys, so a CSV header fits plain files and records alike.
    blank: dict[str, Any] = dict.fromkeys(columns.keys()) if columns is not None else {}

    def documents() -> Iterator[tuple[Document, dict[str, Any]]]:
        for p in args.paths:
            if p == "-":
                data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else \
                    sys.stdin.read().encode("utf-8")
                text, warnings = decode(data)
                yield Document("<stdin>", text=text, warnings=warnings), dict(blank)
            elif columns is not None and (is_record_export(p) or os.path.isdir(p)):
                for path, problem in iter_paths([p], include, args.exclude):
                    if problem:
                        yield Document(str(path), error=problem), dict(blank)
                    elif is_record_export(path):
                        for doc, extra in iter_records(path, columns):
                            yield doc, extra or dict(blank)
                    else:
                        for doc in iter_documents([str(path)], include, args.exclude):
                            yield doc, dict(blank)
            else:
                for doc in iter_documents([p], include, args.exclude):
                    yield doc, dict(blank)

    show_progress = (not args.quiet and not args.no_progress and sys.stderr.isatty()
                     and (len(args.paths) > 1 or columns is not None
                          or any(os.path.isdir(p) for p in args.paths)))
    counts = {"scanned": 0, "skipped": 0, "failed": 0, "findings": 0, "warnings": 0}
    with _output(args.output) as out:
        formatter = get_formatter(args.format, out, lexicon=detector.component.lexicon,
                                  version=__version__, redact=args.redact)
        formatter.begin()
        docs = cast(Iterator[tuple[Document, dict[str, Any]]],
                    _progress(show_progress, documents()))
        # Unreadable documents travel with the rest (as empty text) so output keeps input order.
        pairs = ((d.text if d.ok else "", (d, extra)) for d, extra in docs)
        for (doc, extra), findings in detector.scan_pairs(pairs, args.jobs):
            if not _report(doc, extra, counts, args.quiet, formatter):
                continue
            # chunks of a large file: offsets and lines are those of the whole file
            findings = shift(findings, doc.offset)
            counts["scanned"] += int(doc.last_chunk)
            counts["findings"] += len(findings)
            formatter.write(ScanResult(doc, findings, extra))
        formatter.end()
    if not args.quiet:
        warned = f", {counts['warnings']} warning(s)" if counts["warnings"] else ""
        sys.stderr.write(
            f"blamelex: {counts['scanned']} scanned, {counts['skipped']} skipped, "
            f"{counts['failed']} failed, {counts['findings']} finding(s){warned}\n"
        )
    if counts["failed"]:
        return EXIT_ERROR
    return EXIT_FINDINGS if counts["findings"] else EXIT_CLEAN


def _report(doc, extra, counts, quiet, formatter) -> bool:  # type: ignore[no-untyped-def]
    """Count and report unreadable / skipped documents; True when the document is scannable."""
    from blamelex.formats import ScanResult

    if doc.error:
        counts["failed"] += 1
        _err(f"{doc.label}: cannot read: {doc.error}")
        formatter.write(ScanResult(doc, [], extra))
        return False
    if doc.skipped:
        counts["skipped"] += 1
        if not quiet:
            _err(f"{doc.label}: skipped: {doc.skipped}")
        formatter.write(ScanResult(doc, [], extra))
        return False
    counts["warnings"] += len(doc.warnings)
    if doc.warnings and not quiet:
        for w in doc.warnings:
            _err(f"{doc.label}: warning: {w}")
    return True


def cmd_summary(args: argparse.Namespace) -> int:
    """Print (and write, and plot) finding counts from a JSON Lines scan."""
    from blamelex.summary import format_summary, plot_summary, summarise, write_summary

    fmt = None
    if args.output:
        fmt = Path(args.output).suffix.lower().lstrip(".")
        if fmt not in ("csv", "json"):
            _err(f"{args.output}: say the format with the suffix: FILE.csv or FILE.json")
            return EXIT_ERROR
    if args.plot and Path(args.plot).suffix.lower() != ".png":
        _err(f"{args.plot}: --plot writes PNG; name the file FILE.png")
        return EXIT_ERROR
    if args.output:
        _check_output(args.output)
    if args.plot:
        _check_output(args.plot, "--plot")
    by = list(args.by)
    if args.results == "-":
        summary = summarise(sys.stdin, by, "<stdin>")
    else:
        with open(args.results, encoding="utf-8-sig") as fh:
            summary = summarise(fh, by, args.results)
    sys.stdout.write(format_summary(summary))
    if args.output and fmt:
        with _output(args.output) as out:
            write_summary(summary, out, fmt)
    if args.plot:
        plot_summary(summary, args.plot)
    return EXIT_CLEAN


def cmd_rewrite(args: argparse.Namespace) -> int:
    """Print a diff of the rewrite; apply it with --write."""
    from blamelex.records import is_record_export
    from blamelex.sources import decode, read_document

    if args.file != "-" and is_record_export(args.file):
        if not args.text_column:
            raise CliError(f"{args.file} is a record export (.csv, .jsonl, .parquet) and is never "
                           "rewritten as plain text; name the column to rewrite with "
                           f"--text-column COL (e.g. blamelex rewrite {args.file} "
                           "--text-column notes)")
        return _rewrite_records(args)
    if args.text_column or args.id_column:
        raise CliError("--text-column and --id-column apply to a record export: a FILE ending "
                       "in .csv, .jsonl or .parquet")
    if args.file == "-":
        text, _ = decode(sys.stdin.buffer.read())
        name = "<stdin>"
    else:
        doc = read_document(Path(args.file))
        if not doc.ok:
            _err(f"{args.file}: cannot read: {doc.error or doc.skipped}")
            return EXIT_ERROR
        text, name = doc.text, args.file
    detector = _load_detector(args)
    result = detector.rewrite(text)
    new_text, edits = result
    _diff(text, new_text, name)
    sys.stdout.flush()
    _report_skipped(name, text, result.skipped)
    if args.write and edits and args.file != "-":
        target = Path(args.file)
        backup = target.with_name(target.name + ".orig")
        backup.write_bytes(target.read_bytes())
        with _output(str(target)) as fh:
            fh.write(new_text)
        sys.stderr.write(f"blamelex: {len(edits)} edit(s) written to {target}; "
                         f"backup in {backup}\n")
    elif edits:
        sys.stderr.write(f"blamelex: {len(edits)} edit(s); run with --write to apply\n")
    return EXIT_FINDINGS if edits and not args.write else EXIT_CLEAN


def _report_skipped(name: str, text: str, skipped: Sequence[Any]) -> None:
    """List on stderr the findings `rewrite` left for a person to rewrite, and why."""
    if not skipped:
        return
    _err(f"{len(skipped)} finding(s) need a manual rewrite:")
    for s in skipped:
        f = s.finding
        line = text.count("\n", 0, f.start) + 1
        col = f.start - (text.rfind("\n", 0, f.start) + 1) + 1
        sys.stderr.write(f"{name}:{line}:{col}: {f.code} {f.text!r} ({s.explanation})\n")


def _diff(old: str, new: str, name: str) -> None:
    """Write a unified diff of ``old`` -> ``new`` labelled ``name`` to stdout."""
    prefix = ("", "") if os.path.isabs(name) or name.startswith("<") else ("a/", "b/")
    diff = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"{prefix[0]}{name}", tofile=f"{prefix[1]}{name}",
    )
    for line in diff:
        sys.stdout.write(line if line.endswith(("\n", "\r")) else line + "\n")


def _rewrite_records(args: argparse.Namespace) -> int:
    """rewrite for a record export: a diff per changed record of its text column; --write
    rewrites that column only (CSV and JSON Lines), keeping FILE.orig."""
    import shutil

    from blamelex.records import RecordColumns, check_columns, export_encoding, rewrite_records

    name = args.file
    if not os.path.isfile(name):
        _err(f"{name}: cannot read: {'not a file' if os.path.exists(name) else 'no such file'}")
        return EXIT_ERROR
    if args.write and name.lower().endswith(".parquet"):
        raise CliError(f"{name}: blamelex does not write Parquet files; run without --write to "
                       "see the changes, or rewrite a CSV or JSON Lines export")
    columns = RecordColumns(args.text_column, args.id_column)
    check_columns(name, columns)  # a missing column stops us before the detector loads
    detector = _load_detector(args)

    skipped: list[tuple[str, str, Any]] = []  # (record id, its text, what was skipped)

    def rewrite(text: str) -> tuple[str, int]:
        result = detector.rewrite(text)
        if result.skipped:
            skipped.append(("", text, result.skipped))
        return result.text, len(result.edits)

    target = Path(name)
    tmp: str | None = None
    out: IO[str] | None = None
    if args.write:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                       dir=target.parent)
        except OSError as exc:
            raise CliError(f"cannot write {name}: folder {target.parent}: "
                           f"{exc.strerror or exc}") from None
        out = os.fdopen(fd, "w", encoding=export_encoding(name), newline="")
    records = changed = edits = malformed = 0
    backup = target.with_name(target.name + ".orig")
    try:
        for rec in rewrite_records(name, columns, rewrite, out):
            records += 1
            if rec.warning:
                malformed += 1
                _err(f"{name}:{rec.record_id}: warning: {rec.warning}")
            elif rec.changed:
                changed += 1
                edits += rec.edits
                _diff(rec.old, rec.new, f"{name}:{rec.record_id}")
            if skipped and skipped[-1][0] == "":
                skipped[-1] = (str(rec.record_id), *skipped[-1][1:])
        sys.stdout.flush()
        for record_id, text, left in skipped:
            _report_skipped(f"{name}:{record_id}", text, left)
        if out is not None:
            out.close()
            if changed and not malformed:
                assert tmp is not None
                shutil.copymode(name, tmp)
                shutil.copyfile(name, backup)
                os.replace(tmp, name)
                tmp = None
    finally:
        if out is not None:
            out.close()
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    done = f"{edits} edit(s) in {changed} of {records} record(s)"
    if args.write and malformed:
        _err(f"{name}: not written: {malformed} malformed record(s) (see the warnings above); "
             "fix them and run again")
        return EXIT_ERROR
    if args.write and changed:
        _err(f"{done} written to {name} (column {args.text_column!r}); backup in {backup}")
    elif changed:
        _err(f"{done}; run with --write to apply")
    return EXIT_FINDINGS if changed and not args.write else EXIT_CLEAN


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service until interrupted."""
    from blamelex.serve import MISSING_EXTRA, available

    if not available():
        raise CliError(MISSING_EXTRA)
    from blamelex.serve.config import ServeConfig
    from blamelex.serve.runner import ServeError, serve

    kwargs = _load_kwargs(args)
    if kwargs["model"] is not None:
        threads = args.model_threads or max(1, (os.cpu_count() or 1) // args.workers)
        kwargs["model_threads"] = threads
    config = ServeConfig(load_kwargs=kwargs, max_body_bytes=args.max_body_bytes,
                         max_batch=args.max_batch, request_timeout=args.timeout,
                         body_timeout=args.body_timeout,
                         max_pending=args.max_pending, token_file=args.token_file,
                         log_level=args.log_level)
    try:
        return serve(config, host=args.host, port=args.port, workers=args.workers,
                     allow_remote=args.allow_remote)
    except ServeError as exc:
        raise CliError(str(exc)) from None


def cmd_explain(args: argparse.Namespace) -> int:
    """Print one entry in full."""
    from blamelex.lexicon import load_lexicon
    from blamelex.lexicon.categories import entry_for_code
    from blamelex.rephrase import plain

    if args.code.upper().startswith("RG"):
        return _explain_risk(args.code)
    lexicon = load_lexicon(extra=args.lexicon)
    entry = entry_for_code(lexicon, args.code)
    if entry is None:
        _err(f"unknown code {args.code!r}; see 'blamelex lexicon list' (and VB100, VB200 ... "
             "for the categories)")
        return EXIT_ERROR
    out = io.StringIO()
    out.write(f"{entry.code}  {entry.term}\n")
    out.write(f"category: {entry.category}    severity: {entry.severity}    "
              f"applies to: {entry.applies_to}\n\n")
    out.write(f"Why: {entry.explanation}\n\nInstead, write (tense and pronouns follow the "
              "sentence):\n")
    for s in entry.suggestions:
        out.write(f"  - {plain(s)}\n")
    if not entry.patterns:
        out.write("\nA category-level code: findings the model makes where no lexicon entry "
                  "matched.\n")
    out.write("\nExamples flagged:\n")
    for s in entry.examples_flag:
        out.write(f"  x {s}\n")
    out.write("Near misses not flagged:\n")
    for s in entry.examples_ok:
        out.write(f"  ok {s}\n")
    _write_sources(out, entry.sources)
    sys.stdout.write(out.getvalue())
    return EXIT_CLEAN


def _explain_risk(code: str) -> int:
    """explain RG101 ...: a risk-grading finding, its rules and sources."""
    from blamelex.risk import GRADES, bundled_risk_data

    data = bundled_risk_data()
    info = data.codes.get(code.upper())
    if info is None:
        _err(f"unknown code {code!r}; the risk-grading check reports {', '.join(data.codes)}")
        return EXIT_ERROR
    out = io.StringIO()
    out.write(f"{info.code}  {info.term}\ncategory: risk_grading    severity: {info.severity}\n\n")
    out.write(f"Why: {info.explanation}\n\n")
    out.write("The suggestions keep the decision with the grader: they list the indicators in the "
              "note and the grade\nthe rules point to, and ask for the reasons for the grade to "
              "be recorded. They are never\napplied by 'blamelex rewrite'.\n")
    if info.code == "RG101":
        out.write("\nRules (data/risk/rules.yaml; docs/risk.md):\n")
        for rule in data.rules:
            out.write(f"  - {rule.id}: at least {GRADES[rule.points_to]}\n")
    _write_sources(out, info.sources)
    sys.stdout.write(out.getvalue())
    return EXIT_CLEAN


def _write_sources(out: io.StringIO, sources: Sequence[Any]) -> None:
    """The "Sources:" block of `explain` (a lexicon entry's or a risk-grading finding's)."""
    out.write("\nSources:\n")
    for src in sources:
        out.write(f"  - {src.title}\n    {src.url}\n")


def cmd_lexicon(args: argparse.Namespace) -> int:
    """lexicon check / list / catalogue."""
    from blamelex import lexicon as lx

    if args.lexicon_command == "check":
        from blamelex.checks import check_files

        problems, summary = check_files(args.files)
        for p in problems:
            sys.stdout.write(p + "\n")
        sys.stdout.write(summary + "\n")
        return EXIT_ERROR if problems else EXIT_CLEAN
    if args.lexicon_command == "list":
        lexicon = lx.load_lexicon(extra=args.lexicon)
        categories = list(dict.fromkeys([*lx.CATEGORIES, *lexicon.categories()]))
        if args.category is not None and args.category not in categories:
            close = difflib.get_close_matches(args.category, categories, n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            raise CliError(f"--category: unknown category {args.category!r}{hint}\n"
                           + _listing("categories", categories))
        for e in lexicon:
            if args.category and e.category != args.category:
                continue
            sys.stdout.write(f"{e.code}  {e.severity:7s}  {e.category:24s}  {e.term}\n")
        return EXIT_CLEAN
    if args.lexicon_command == "catalogue":
        from blamelex.checks import catalogue

        sys.stdout.write(catalogue(lx.load_lexicon(extra=args.lexicon)))
        return EXIT_CLEAN
    _err("say what to do: blamelex lexicon check|list|catalogue (see --help)")
    return EXIT_ERROR


class _NotRaised(Exception):
    """Stands for an error class whose module was never imported: nothing raised it."""


def _raised(module: str, name: str) -> type[BaseException]:
    """The error class ``name`` of ``module`` if a command imported that module, else
    `_NotRaised` (so ``main`` can catch the lexicon's and the model's errors without importing
    them up front)."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else _NotRaised


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``blamelex`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"scan": cmd_scan, "rewrite": cmd_rewrite, "explain": cmd_explain,
                "lexicon": cmd_lexicon, "eval": cmd_eval, "train": cmd_train,
                "summary": cmd_summary, "serve": cmd_serve}
    if args.command not in handlers:
        parser.print_help()
        return EXIT_ERROR
    try:
        return handlers[args.command](args)
    except _raised("blamelex.yamldata", "DataError") as exc:  # lexicon, categories, rules
        _err(str(exc))
        return EXIT_ERROR
    except _raised("blamelex.model.runtime", "ModelError") as exc:
        _err(f"model: {exc}")
        return EXIT_ERROR
    except SelectionError as exc:
        _err(str(exc))
        return EXIT_ERROR
    except (RecordError, SummaryError, CliError) as exc:
        _err(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
    except OSError as exc:
        _err(f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        return EXIT_ERROR


def entry() -> None:
    """The ``blamelex`` console script and ``python -m blamelex``: `main`, then exit.

    Before exiting, every object still alive is moved out of the garbage collector's reach
    (`gc.freeze`): the interpreter's shutdown then skips its collection passes over them, which
    took 0.6 s on the development host whenever torch is installed beside spaCy (thinc imports
    it), longer than all of blamelex's own start-up (docs/benchmarks.md, "Cold start"). Output
    is flushed and files closed as before; only cyclic garbage is left to the operating system,
    which reclaims the process's memory at exit anyway. Called in-process (tests, notebooks),
    `main` does not freeze anything.
    """
    import gc

    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
