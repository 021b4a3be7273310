"""Shared helpers for the training scripts in models/train/.

Every script trains a scikit-learn model on float32 features, converts it to ONNX with
skl2onnx, checks that onnxruntime reproduces scikit-learn's own predictions on the held-out
rows, and writes models/<name>/<version>/{model.onnx, model.json, holdout.json}.

Histogram convention (model.json `training`): `edges` are the *inner* cut points only
(deduplicated, ascending), so there are len(edges) + 1 bins:
    bin 0 = (-inf, edges[0]], bin i = (edges[i-1], edges[i]], bin last = (edges[-1], +inf)
i.e. the bin of a value v is the number of edges strictly less than v.
`fractions[i]` is the fraction of training rows that fall in bin i (they sum to 1).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Callable, Sequence

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
import sklearn.base
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType

MODELS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# A constant, so that re-running a script gives byte-identical files.
TRAINED_AT = "2025-01-01T00:00:00.000Z"

# Opsets onnxruntime (node 1.2x/1.3x and Python) supports.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}

HOLDOUT_ROWS = 200
HIST_BINS = 10


# ---------------------------------------------------------------- numbers


def f32(x: Any) -> float:
    """The shortest decimal that parses back to the same float32 (as a Python float)."""
    v = np.float32(x)
    if not np.isfinite(v):
        raise ValueError(f"non-finite value {x!r}")
    return float(np.format_float_positional(v, unique=True, trim="-"))


def f32_or_int(x: Any, integer: bool) -> float | int:
    return int(round(float(x))) if integer else f32(x)


def rounded(x: float, digits: int = 6) -> float:
    return float(round(float(x), digits))


# ---------------------------------------------------------------- histograms


def histogram(values: np.ndarray, bins: int = HIST_BINS) -> dict[str, list[float]]:
    """Decile histogram of `values` (see the module docstring for the convention)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    qs = np.quantile(v, [i / bins for i in range(1, bins)])
    edges: list[float] = []
    for q in qs:
        e = f32(q)
        if not edges or e > edges[-1]:
            edges.append(e)
    # the bin of v = number of edges strictly below v  ->  searchsorted(..., side="left")
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), v, side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
    fractions = [rounded(c / len(v), 6) for c in counts]
    # make the rounded fractions sum to exactly 1 by adjusting the largest bin
    drift = rounded(1.0 - sum(fractions), 6)
    if drift != 0.0:
        k = int(np.argmax(counts))
        fractions[k] = rounded(fractions[k] + drift, 6)
    return {"edges": edges, "fractions": fractions}


# ---------------------------------------------------------------- ONNX


def convert(model: Any, n_features: int, zipmap: bool = False, name: str = "") -> onnx.ModelProto:
    """skl2onnx conversion with one float32 input `float_input` of shape [None, n_features]."""
    options = {id(model): {"zipmap": False}} if not zipmap else None
    # only classifiers have a zipmap option (IsolationForest and regressors have none)
    if not sklearn.base.is_classifier(model):
        options = None
    onx = to_onnx(
        model,
        initial_types=[("float_input", FloatTensorType([None, n_features]))],
        target_opset=TARGET_OPSET,
        options=options,
    )
    if name:
        onx.graph.name = name
    # skl2onnx may list an opset twice and in set order (varies with PYTHONHASHSEED):
    # keep one entry per domain, sorted, so the file is byte-for-byte reproducible
    opsets: dict[str, int] = {}
    for op in onx.opset_import:
        opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    del onx.opset_import[:]
    for domain in sorted(opsets):
        onx.opset_import.add(domain=domain, version=opsets[domain])
    onnx.checker.check_model(onx)
    return onx


def _type_name(ort_type: str) -> str:
    return {
        "tensor(float)": "float32",
        "tensor(double)": "float64",
        "tensor(int64)": "int64",
        "tensor(int32)": "int32",
        "tensor(string)": "string",
    }.get(ort_type, ort_type)


def _shape(shape: Sequence[Any]) -> list[int | None]:
    return [d if isinstance(d, int) else None for d in shape]


def io_description(onnx_bytes: bytes) -> tuple[list[dict], list[dict]]:
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    ins = [{"name": i.name, "type": _type_name(i.type), "shape": _shape(i.shape)} for i in sess.get_inputs()]
    outs = [{"name": o.name, "type": _type_name(o.type), "shape": _shape(o.shape)} for o in sess.get_outputs()]
    return ins, outs


def run_onnx(onnx_bytes: bytes, X: np.ndarray) -> dict[str, np.ndarray]:
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    res = sess.run(None, {"float_input": np.ascontiguousarray(X, dtype=np.float32)})
    return dict(zip(names, res))


def framework() -> str:
    return f"scikit-learn {sklearn.__version__} / skl2onnx {skl2onnx.__version__}"


# ---------------------------------------------------------------- fixtures / metadata


def records(features: list[str], X: np.ndarray, integer: set[str]) -> tuple[list[list], list[dict]]:
    rows: list[list] = []
    recs: list[dict] = []
    for r in X:
        vals = [f32_or_int(v, f in integer) for f, v in zip(features, r)]
        rows.append(vals)
        recs.append(dict(zip(features, vals)))
    return rows, recs


def check_parity(
    label: str,
    sk_labels: np.ndarray,
    onnx_labels: np.ndarray,
    sk_values: np.ndarray,
    onnx_values: np.ndarray,
    tol: float = 1e-5,
) -> float:
    sk_labels = np.asarray(sk_labels).ravel()
    onnx_labels = np.asarray(onnx_labels).ravel()
    mismatches = int(np.sum(sk_labels != onnx_labels))
    diff = float(np.max(np.abs(np.asarray(sk_values, dtype=np.float64).reshape(onnx_values.shape) - onnx_values)))
    print(f"  [{label}] label mismatches: {mismatches} / {len(sk_labels)}, max |sklearn - onnx| = {diff:.3e}")
    if mismatches or diff > tol:
        raise SystemExit(f"{label}: ONNX does not match scikit-learn (mismatches={mismatches}, maxdiff={diff})")
    return diff


def write_version(
    name: str,
    version: str,
    onx: onnx.ModelProto,
    meta: dict[str, Any],
    holdout: dict[str, Any],
) -> str:
    out_dir = os.path.join(MODELS_DIR, name, version)
    os.makedirs(out_dir, exist_ok=True)
    onnx_bytes = onx.SerializeToString()
    ins, outs = io_description(onnx_bytes)
    # model.json may name the k values of each row of an [N, k] output (a multi-output regressor)
    for o in outs:
        if o["name"] in meta.get("columns", {}):
            o["columns"] = meta["columns"][o["name"]]
    ordered = {
        "name": name,
        "version": version,
        "description": meta["description"],
        "algorithm": meta["algorithm"],
        "framework": framework(),
        "features": meta["features"],
        "inputs": ins,
        "outputs": outs,
        **({"kind": meta["kind"]} if "kind" in meta else {}),
        **({"labels": meta["labels"]} if "labels" in meta else {}),
        "inputSchema": meta["inputSchema"],
        "metrics": meta["metrics"],
        "training": meta["training"],
        "trainedAt": TRAINED_AT,
    }
    with open(os.path.join(out_dir, "model.onnx"), "wb") as fh:
        fh.write(onnx_bytes)
    with open(os.path.join(out_dir, "model.json"), "w") as fh:
        json.dump(ordered, fh, indent=2, allow_nan=False)
        fh.write("\n")
    with open(os.path.join(out_dir, "holdout.json"), "w") as fh:
        # one row per line: readable diffs, small files
        fh.write("{\n")
        keys = list(holdout.keys())
        for ki, k in enumerate(keys):
            fh.write(f'  "{k}": [\n')
            rows = holdout[k]
            for ri, row in enumerate(rows):
                sep = "," if ri < len(rows) - 1 else ""
                fh.write("    " + json.dumps(row, separators=(",", ":"), allow_nan=False) + sep + "\n")
            fh.write("  ]" + ("," if ki < len(keys) - 1 else "") + "\n")
        fh.write("}\n")
    sizes = {f: os.path.getsize(os.path.join(out_dir, f)) for f in ("model.onnx", "model.json", "holdout.json")}
    print(f"  wrote {os.path.relpath(out_dir, os.path.dirname(MODELS_DIR))}: " + ", ".join(f"{k} {v:,} B" for k, v in sizes.items()))
    print(f"  inputs:  {ins}")
    print(f"  outputs: {outs}")
    return out_dir


def check_regression_parity(label: str, sk_values: np.ndarray, onnx_values: np.ndarray, rel_tol: float = 1e-4) -> float:
    """Regressors: ONNX sums its trees in float32, scikit-learn in float64 (7e-5 km apart on a 60-tree GBR whose start value is 250 km), so the bound is relative to the value."""
    sk = np.asarray(sk_values, dtype=np.float64).reshape(onnx_values.shape)
    rel = np.abs(sk - onnx_values) / np.maximum(1.0, np.abs(sk))
    worst = float(np.max(rel))
    print(f"  [{label}] max |sklearn - onnx| / max(1, |sklearn|) = {worst:.3e}")
    if worst > rel_tol:
        raise SystemExit(f"{label}: ONNX does not match scikit-learn (max relative difference {worst})")
    return worst


def regressor_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_train: int) -> dict[str, Any]:
    from sklearn.metrics import mean_absolute_error, r2_score

    return {
        "r2": rounded(r2_score(y_true, y_pred), 4),
        "mae": rounded(mean_absolute_error(y_true, y_pred), 4),
        "trainRows": int(n_train),
        "testRows": int(len(y_true)),
    }


def classifier_metrics(y_true: np.ndarray, y_pred: np.ndarray, p_pos: np.ndarray, n_train: int) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

    return {
        "accuracy": rounded(accuracy_score(y_true, y_pred), 4),
        "rocAuc": rounded(roc_auc_score(y_true, p_pos), 4),
        "precision": rounded(precision_score(y_true, y_pred, zero_division=0), 4),
        "recall": rounded(recall_score(y_true, y_pred, zero_division=0), 4),
        "trainRows": int(n_train),
        "testRows": int(len(y_true)),
    }


def training_histograms(features: list[str], X_train: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    return {
        "features": {f: histogram(X_train[:, j]) for j, f in enumerate(features)},
        "outputs": {"score": histogram(score)},
    }


def number_prop(minimum: float | None = None, maximum: float | None = None, integer: bool = False, description: str = "") -> dict:
    p: dict[str, Any] = {"type": "integer" if integer else "number"}
    if minimum is not None:
        p["minimum"] = minimum
    if maximum is not None:
        p["maximum"] = maximum
    if description:
        p["description"] = description
    return p


def input_schema(title: str, props: dict[str, dict], features: list[str]) -> dict:
    assert list(props.keys()) == features
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": title,
        "type": "object",
        "required": list(features),
        "properties": props,
    }


def pick_holdout(rng: np.random.Generator, n_test: int, must_include: np.ndarray, n: int = HOLDOUT_ROWS) -> np.ndarray:
    """`n` test-row indices: all of `must_include` (capped at n/4) plus random others, in test order."""
    must = np.asarray(must_include, dtype=np.int64)
    cap = n // 4
    if len(must) > cap:
        must = rng.choice(must, size=cap, replace=False)
    rest_pool = np.setdiff1d(np.arange(n_test), must)
    rest = rng.choice(rest_pool, size=n - len(must), replace=False)
    return np.sort(np.concatenate([must, rest]))


def sanity_schema(schema: dict, recs: list[dict]) -> None:
    """Cheap check that every record satisfies the numeric bounds of the schema."""
    for r in recs:
        for k in schema["required"]:
            p = schema["properties"][k]
            v = r[k]
            assert isinstance(v, (int, float)) and math.isfinite(v), (k, v)
            if p["type"] == "integer":
                assert float(v).is_integer(), (k, v)
            if "minimum" in p:
                assert v >= p["minimum"], (k, v, p)
            if "maximum" in p:
                assert v <= p["maximum"], (k, v, p)
