"""Writes test/ml/fixtures/zipmap-classifier.onnx: a LogisticRegression on fraud@2's seven features,
exported with skl2onnx's default ZipMap on (its probabilities are a sequence of maps, not a tensor).
The registry must refuse such a file with the reason; test/serving/version-status.test.ts drops it
into a served folder. Deterministic: same rows (fraud/2/holdout.json), same solver, fixed opsets.
"""

import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from skl2onnx import to_onnx

from common import MODELS_DIR, TARGET_OPSET

ROOT = os.path.abspath(os.path.join(MODELS_DIR, ".."))

with open(os.path.join(MODELS_DIR, "fraud", "2", "holdout.json")) as f:
    holdout = json.load(f)
x = np.array(holdout["features"], dtype=np.float32)
y = np.array(holdout["labels"])
model = LogisticRegression(max_iter=1000).fit(x, y)
onx = to_onnx(model, x[:1], target_opset=TARGET_OPSET)
outputs = [(o.name, o.type.WhichOneof("value")) for o in onx.graph.output]
assert any(kind != "tensor_type" for _, kind in outputs), outputs
path = os.path.join(ROOT, "test", "ml", "fixtures", "zipmap-classifier.onnx")
with open(path, "wb") as f:
    f.write(onx.SerializeToString())
print(path, outputs)
