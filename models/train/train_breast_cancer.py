"""Breast-cancer classifier on scikit-learn's bundled Wisconsin diagnostic data set (real data).

Writes models/breast-cancer/1 (StandardScaler + LogisticRegression).

Data: load_breast_cancer() (569 tumours, 30 features computed from digitised images of fine
needle aspirates; bundled with scikit-learn, nothing is downloaded). Classes follow the data
set: 0 = malignant, 1 = benign. Feature names are the data set's names in its order, written
in camelCase ("mean radius" -> "meanRadius", "worst concave points" -> "worstConcavePoints").
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import common

SEED = 20250103


def camel(name: str) -> str:
    words = name.split()
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])


def main() -> None:
    data = load_breast_cancer()
    features = [camel(n) for n in data.feature_names]
    assert len(features) == 30 and len(set(features)) == 30
    labels = [str(n) for n in data.target_names]  # ['malignant', 'benign']
    X = data.data.astype(np.float32)
    y = data.target.astype(np.int64)
    print(f"breast-cancer: {len(y)} rows, classes {dict(zip(labels, np.bincount(y).tolist()))}")

    # 200 test rows so that the whole test set is the held-out fixture
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=common.HOLDOUT_ROWS, random_state=SEED, stratify=y)
    assert X_train.dtype == np.float32

    est = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(C=0.5, max_iter=5000))])
    est.fit(X_train, y_train)
    y_pred = est.predict(X_test)
    p_test = est.predict_proba(X_test)
    metrics = common.classifier_metrics(y_test, y_pred, p_test[:, 1], len(y_train))
    print(f"  metrics (positive class = 1 'benign'): {metrics}")

    onx = common.convert(est, len(features), name="breast_cancer_v1")
    out = common.run_onnx(onx.SerializeToString(), X_test)
    common.check_parity("breast-cancer v1 holdout (= test set)", y_pred, out["label"], p_test, out["probabilities"])

    rows, recs = common.records(features, X_test, set())
    props = {
        f: common.number_prop(0, None, description=orig) for f, orig in zip(features, data.feature_names)
    }
    sch = common.input_schema("breast mass measurements (Wisconsin diagnostic)", props, features)
    common.sanity_schema(sch, recs)
    meta = {
        "description": "Breast-cancer diagnosis (standardised logistic regression) on the 30 Wisconsin diagnostic features; label 0 = malignant, 1 = benign.",
        "algorithm": "LogisticRegression",
        "features": features,
        "labels": labels,
        "inputSchema": sch,
        "metrics": metrics,
        "training": common.training_histograms(features, X_train, est.predict_proba(X_train)[:, 1]),
    }
    holdout = {
        "features": rows,
        "records": recs,
        "labels": [int(v) for v in y_pred],
        "probabilities": [[float(a), float(b)] for a, b in p_test],
    }
    common.write_version("breast-cancer", "1", onx, meta, holdout)


if __name__ == "__main__":
    main()
