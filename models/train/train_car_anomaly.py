"""Anomaly detector for connected-car telemetry aggregated per car over a 1-minute window.

Writes models/car-anomaly/1 (IsolationForest, 60 trees of at most 256 samples).

Data: 24,000 one-minute windows of normal driving in three regimes (parked/idling, city,
highway) with correlated signals (rpm follows speed, engine temperature and vibration
follow load, the alternator keeps the battery up while the engine runs), plus 2 % injected
faults of four kinds: overheating, battery/alternator failure, a leaking tyre and excess
vibration (wheel imbalance, engine misfire). The forest is fitted without the labels; the
injected-fault labels are used only to report metrics.

ONNX outputs: `label` int64 [N] (1 = normal, -1 = anomaly) and `scores` float32 [N, 1]
(scikit-learn's decision_function: negative = anomalous, 0 = the decision threshold).
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

import common

SEED = 20250102
N_ROWS = 24_000
ANOMALY_RATE = 0.02

FEATURES = ["avgSpeedKmh", "maxEngineTempC", "avgRpm", "minBatteryV", "avgTirePressureKpa", "vibrationRms"]


def generate(seed: int = SEED, n: int = N_ROWS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns X (float32), y (1 normal / -1 anomaly) and the fault kind (0 = none, 1..4)."""
    rng = np.random.default_rng(seed)
    regime = rng.choice(3, size=n, p=[0.15, 0.55, 0.30])  # 0 idle, 1 city, 2 highway
    speed = np.select(
        [regime == 0, regime == 1, regime == 2],
        [rng.uniform(0, 4, n), np.clip(rng.normal(38, 12, n), 5, 80), np.clip(rng.normal(108, 14, n), 70, 160)],
    )
    gear_ratio = rng.normal(28, 3, n)  # rpm per km/h in the selected gear
    rpm = np.where(regime == 0, rng.normal(820, 60, n), 900 + speed * gear_ratio * rng.uniform(0.7, 1.0, n))
    rpm = np.clip(rpm, 600, 6500)
    ambient = rng.normal(15, 8, n)
    load = speed / 160 + (rpm - 800) / 8000
    engine_temp = 88 + 6 * load + 0.12 * (ambient - 15) + rng.normal(0, 1.8, n)
    battery = np.clip(rng.normal(13.9, 0.18, n) - 0.6 * (regime == 0) * rng.random(n), 12.4, 14.6)
    tyre = rng.normal(232, 7, n) + 0.35 * (ambient - 15) + 0.03 * speed  # warm tyres read higher
    vibration = 0.15 + 0.0045 * speed + 0.00004 * rpm + np.abs(rng.normal(0, 0.05, n))

    # inject faults
    kind = np.zeros(n, dtype=np.int64)
    is_anom = rng.random(n) < ANOMALY_RATE
    kind[is_anom] = rng.integers(1, 5, size=int(is_anom.sum()))
    m = kind == 1  # overheating: coolant loss / failed fan
    engine_temp[m] = rng.uniform(110, 140, m.sum())
    m = kind == 2  # battery / alternator failure: voltage sags under load
    battery[m] = rng.uniform(8.0, 11.6, m.sum())
    m = kind == 3  # slow tyre leak
    tyre[m] = rng.uniform(120, 195, m.sum())
    m = kind == 4  # excess vibration: wheel imbalance, misfire
    vibration[m] = vibration[m] * rng.uniform(2.5, 6.0, m.sum()) + rng.uniform(0.3, 1.0, m.sum())

    X = np.column_stack(
        [
            np.round(speed, 1),
            np.round(engine_temp, 1),
            np.round(rpm, 0),
            np.round(battery, 2),
            np.round(tyre, 1),
            np.round(vibration, 3),
        ]
    ).astype(np.float32)
    y = np.where(kind > 0, -1, 1).astype(np.int64)
    return X, y, kind


def schema() -> dict:
    P = common.number_prop
    return common.input_schema(
        "connected-car telemetry, one car over a 1-minute window",
        {
            "avgSpeedKmh": P(0, 300, description="mean speed over the window"),
            "maxEngineTempC": P(-40, 200, description="highest coolant temperature"),
            "avgRpm": P(0, 10000, description="mean engine revolutions per minute"),
            "minBatteryV": P(0, 30, description="lowest battery voltage"),
            "avgTirePressureKpa": P(0, 600, description="mean tyre pressure over the four tyres"),
            "vibrationRms": P(0, 50, description="RMS of the chassis accelerometer, in g"),
        },
        FEATURES,
    )


def main() -> None:
    X, y, kind = generate()
    print(f"car-anomaly: {len(y)} rows, anomaly rate {(y == -1).mean():.4f}")
    X_train, X_test, y_train, y_test, k_train, k_test = train_test_split(
        X, y, kind, test_size=0.25, random_state=SEED, stratify=kind
    )
    assert X_train.dtype == np.float32

    est = IsolationForest(n_estimators=60, max_samples=256, contamination=ANOMALY_RATE, random_state=SEED)
    est.fit(X_train)

    y_pred = est.predict(X_test)
    s_test = est.decision_function(X_test)
    # anomaly (-1) is the positive class; lower score = more anomalous
    metrics = {
        "accuracy": common.rounded(accuracy_score(y_test, y_pred), 4),
        "rocAuc": common.rounded(roc_auc_score(y_test == -1, -s_test), 4),
        "precision": common.rounded(precision_score(y_test, y_pred, pos_label=-1, zero_division=0), 4),
        "recall": common.rounded(recall_score(y_test, y_pred, pos_label=-1, zero_division=0), 4),
        "trainRows": int(len(y_train)),
        "testRows": int(len(y_test)),
    }
    print(f"  metrics: {metrics}")
    for k, name in enumerate(["none", "overheating", "battery", "tyre leak", "vibration"]):
        m = k_test == k
        print(f"    {name:12s} n={m.sum():5d} flagged={np.mean(y_pred[m] == -1):.3f}")

    onx = common.convert(est, len(FEATURES), name="car_anomaly_v1")
    onnx_bytes = onx.SerializeToString()

    rng = np.random.default_rng(SEED + 1)
    hold_idx = common.pick_holdout(rng, len(y_test), np.flatnonzero(y_test == -1))
    X_hold = X_test[hold_idx]
    sk_lab = est.predict(X_hold)
    sk_score = est.decision_function(X_hold)
    out = common.run_onnx(onnx_bytes, X_hold)
    common.check_parity("car-anomaly v1 holdout", sk_lab, out["label"], sk_score, out["scores"])
    out_t = common.run_onnx(onnx_bytes, X_test)
    common.check_parity("car-anomaly v1 full test set", y_pred, out_t["label"], s_test, out_t["scores"])

    rows, recs = common.records(FEATURES, X_hold, set())
    sch = schema()
    common.sanity_schema(sch, recs)
    common.sanity_schema(sch, common.records(FEATURES, X, set())[1])
    meta = {
        "description": "Isolation-forest anomaly detector for 1-minute connected-car telemetry windows; label -1 = anomaly, 1 = normal, score < 0 = anomalous.",
        "algorithm": "IsolationForest",
        "features": FEATURES,
        "labels": {"-1": "anomaly", "1": "normal"},
        "inputSchema": sch,
        "metrics": metrics,
        "training": common.training_histograms(FEATURES, X_train, est.decision_function(X_train)),
    }
    holdout = {
        "features": rows,
        "records": recs,
        "labels": [int(v) for v in sk_lab],
        "scores": [float(v) for v in sk_score],
    }
    common.write_version("car-anomaly", "1", onx, meta, holdout)


if __name__ == "__main__":
    main()
