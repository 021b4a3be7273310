"""Re-check every committed model against its held-out fixture with onnxruntime.

For each models/<name>/<version>/: loads model.onnx, checks that its inputs/outputs match
model.json, that `records` and `features` in holdout.json agree, that every record passes the
numeric bounds of inputSchema, and that ONNX reproduces the stored scikit-learn predictions
(labels exactly, probabilities / scores within 1e-5). Prints the tensor names and shapes.

    python models/train/verify.py
"""

from __future__ import annotations

import glob
import json
import os

import numpy as np

import common


def main() -> None:
    failures = 0
    for path in sorted(glob.glob(os.path.join(common.MODELS_DIR, "*", "*", "model.onnx"))):
        d = os.path.dirname(path)
        rel = os.path.relpath(d, common.MODELS_DIR)
        meta = json.load(open(os.path.join(d, "model.json")))
        hold = json.load(open(os.path.join(d, "holdout.json")))
        onnx_bytes = open(path, "rb").read()
        ins, outs = common.io_description(onnx_bytes)
        print(f"{rel}: {meta['algorithm']}, model.onnx {len(onnx_bytes):,} B, metrics {meta['metrics']}")
        for t in ins:
            print(f"  input  {t['name']:14s} {t['type']:8s} {t['shape']}")
        for t in outs:
            print(f"  output {t['name']:14s} {t['type']:8s} {t['shape']}")
        try:
            described = [{k: v for k, v in o.items() if k != "columns"} for o in meta["outputs"]]
            assert ins == meta["inputs"] and outs == described, "model.json inputs/outputs differ from the ONNX file"
            feats = meta["features"]
            assert ins[0]["shape"][1] == len(feats)
            X = np.asarray(hold["features"], dtype=np.float32)
            X_rec = np.asarray([[r[f] for f in feats] for r in hold["records"]], dtype=np.float32)
            assert np.array_equal(X, X_rec), "records and features disagree"
            common.sanity_schema(meta["inputSchema"], hold["records"])
            for name, h in meta["training"]["features"].items():
                assert abs(sum(h["fractions"]) - 1) < 1e-9 and len(h["fractions"]) == len(h["edges"]) + 1, name
            res = common.run_onnx(onnx_bytes, X)
            if "values" in hold:
                common.check_regression_parity(rel, np.asarray(hold["values"]), res["variable"])
            elif "probabilities" in hold:
                common.check_parity(rel, np.asarray(hold["labels"]), res["label"], np.asarray(hold["probabilities"]), res["probabilities"])
            else:
                common.check_parity(rel, np.asarray(hold["labels"]), res["label"], np.asarray(hold["scores"]), res["scores"])
        except (AssertionError, SystemExit) as e:
            failures += 1
            print(f"  FAILED: {e}")
    if failures:
        raise SystemExit(f"{failures} model(s) failed")
    print("all models match their fixtures")


if __name__ == "__main__":
    main()
