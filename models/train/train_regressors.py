"""Regressors for electric-car trips, on deterministic synthetic data.

Writes models/car-range/1 (GradientBoostingRegressor, 60 trees of depth 3: the remaining range in
km, one value per record; ONNX output `variable` float32 [N, 1]) and models/trip-forecast/1
(RandomForestRegressor, 20 trees of depth 8, two targets: the energy a trip takes in kWh and its
duration in minutes; ONNX output `variable` float32 [N, 2], named by model.json `columns`).

Data: 20,000 rows each. Consumption (kWh / 100 km) grows with the square of the distance from
50 km/h, with cold weather (below 15 °C), air conditioning and payload; the range is the battery
charge over consumption. A trip's energy is consumption over its distance plus climbing; its
duration is distance over speed plus stops that grow with distance. Gaussian noise on both.
"""

from __future__ import annotations

import numpy as np
import onnx
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.model_selection import train_test_split

import common

SEED = 20250103
N_ROWS = 20_000
BATTERY_KWH = 75.0

RANGE_FEATURES = ["batterySoc", "avgSpeedKmh", "ambientTempC", "hvacOn", "payloadKg"]
TRIP_FEATURES = ["distanceKm", "avgSpeedKmh", "ambientTempC", "elevationGainM", "payloadKg"]
TRIP_TARGETS = ["energyKwh", "durationMin"]


def consumption(rng: np.random.Generator, speed: np.ndarray, ambient: np.ndarray, hvac: np.ndarray, payload: np.ndarray) -> np.ndarray:
    n = len(speed)
    return 14 + 0.0016 * (speed - 50) ** 2 + 0.08 * np.maximum(0, 15 - ambient) + 1.5 * hvac + 0.002 * payload + rng.normal(0, 0.6, n)


def range_data(seed: int = SEED, n: int = N_ROWS) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    soc = np.round(rng.uniform(5, 100, n), 1)
    speed = np.round(np.clip(rng.normal(70, 25, n), 10, 160), 1)
    ambient = np.round(rng.normal(12, 9, n), 1)
    hvac = (rng.random(n) < 0.4).astype(np.int64)
    payload = np.round(rng.uniform(70, 500, n), 0)
    km = soc / 100 * BATTERY_KWH / consumption(rng, speed, ambient, hvac, payload) * 100
    X = np.column_stack([soc, speed, ambient, hvac, payload]).astype(np.float32)
    return X, km.astype(np.float32)


def trip_data(seed: int = SEED + 1, n: int = N_ROWS) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    distance = np.round(rng.lognormal(3.0, 0.9, n).clip(1, 600), 1)
    speed = np.round(np.clip(rng.normal(60, 22, n), 10, 150), 1)
    ambient = np.round(rng.normal(12, 9, n), 1)
    elevation = np.round(rng.gamma(1.5, 120, n), 0)
    payload = np.round(rng.uniform(70, 500, n), 0)
    hvac = (ambient > 24).astype(float)
    energy = consumption(rng, speed, ambient, hvac, payload) * distance / 100 + (1500 + payload) * 9.81 * elevation / 3.6e6 / 0.85
    duration = distance / speed * 60 + 0.04 * distance * rng.uniform(0.5, 1.5, n) + rng.normal(0, 1.5, n).clip(-3, None)
    X = np.column_stack([distance, speed, ambient, elevation, payload]).astype(np.float32)
    y = np.column_stack([energy, duration]).astype(np.float32)
    return X, y


def schema(title: str, props: dict[str, dict], features: list[str]) -> dict:
    return common.input_schema(title, props, features)


def car_range() -> None:
    X, y = range_data()
    print(f"car-range: {len(y)} rows, range {y.min():.0f}..{y.max():.0f} km")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=SEED)
    est = GradientBoostingRegressor(n_estimators=60, max_depth=3, learning_rate=0.15, random_state=SEED)
    est.fit(X_train, y_train)
    y_pred = est.predict(X_test)
    metrics = common.regressor_metrics(y_test, y_pred, len(y_train))
    print(f"  metrics: {metrics}")

    onx = common.convert(est, len(RANGE_FEATURES), name="car_range_v1")
    onnx_bytes = onx.SerializeToString()
    rng = np.random.default_rng(SEED + 2)
    hold = np.sort(rng.choice(len(y_test), size=common.HOLDOUT_ROWS, replace=False))
    X_hold = X_test[hold]
    sk = est.predict(X_hold)
    common.check_regression_parity("car-range v1 holdout", sk, common.run_onnx(onnx_bytes, X_hold)["variable"])
    common.check_regression_parity("car-range v1 full test set", y_pred, common.run_onnx(onnx_bytes, X_test)["variable"])

    integer = {"hvacOn"}
    rows, recs = common.records(RANGE_FEATURES, X_hold, integer)
    P = common.number_prop
    sch = schema(
        "an electric car's state, for its remaining range",
        {
            "batterySoc": P(0, 100, description="battery state of charge, %"),
            "avgSpeedKmh": P(0, 250, description="expected average speed"),
            "ambientTempC": P(-50, 60, description="outside temperature"),
            "hvacOn": P(0, 1, integer=True, description="air conditioning or heating on"),
            "payloadKg": P(0, 2000, description="passengers and luggage"),
        },
        RANGE_FEATURES,
    )
    common.sanity_schema(sch, recs)
    meta = {
        "description": "Remaining range of an electric car in km (GradientBoostingRegressor); one value per record.",
        "algorithm": "GradientBoostingRegressor",
        "features": RANGE_FEATURES,
        "kind": "regressor",
        "inputSchema": sch,
        "metrics": metrics,
        "training": common.training_histograms(RANGE_FEATURES, X_train, est.predict(X_train)),
    }
    common.write_version("car-range", "1", onx, meta, {"features": rows, "records": recs, "values": [float(v) for v in sk]})


def trip_forecast() -> None:
    X, y = trip_data()
    print(f"trip-forecast: {len(y)} rows, targets {TRIP_TARGETS}")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=SEED)
    est = RandomForestRegressor(n_estimators=20, max_depth=8, min_samples_leaf=5, random_state=SEED, n_jobs=1)
    est.fit(X_train, y_train)
    y_pred = est.predict(X_test)
    metrics = {t: common.regressor_metrics(y_test[:, k], y_pred[:, k], len(y_train)) for k, t in enumerate(TRIP_TARGETS)}
    print(f"  metrics: {metrics}")

    onx = common.convert(est, len(TRIP_FEATURES), name="trip_forecast_v1")
    # skl2onnx declares [N, 1] for a multi-target forest; the tensor it computes is [N, 2]
    onx.graph.output[0].type.tensor_type.shape.dim[1].dim_value = len(TRIP_TARGETS)
    onnx.checker.check_model(onx)
    onnx_bytes = onx.SerializeToString()
    rng = np.random.default_rng(SEED + 3)
    hold = np.sort(rng.choice(len(y_test), size=common.HOLDOUT_ROWS, replace=False))
    X_hold = X_test[hold]
    sk = est.predict(X_hold)
    common.check_regression_parity("trip-forecast v1 holdout", sk, common.run_onnx(onnx_bytes, X_hold)["variable"])
    common.check_regression_parity("trip-forecast v1 full test set", y_pred, common.run_onnx(onnx_bytes, X_test)["variable"])

    rows, recs = common.records(TRIP_FEATURES, X_hold, set())
    P = common.number_prop
    sch = schema(
        "a planned electric-car trip",
        {
            "distanceKm": P(0, 2000, description="route length"),
            "avgSpeedKmh": P(1, 250, description="expected average speed"),
            "ambientTempC": P(-50, 60, description="outside temperature"),
            "elevationGainM": P(0, 10000, description="total climb along the route"),
            "payloadKg": P(0, 2000, description="passengers and luggage"),
        },
        TRIP_FEATURES,
    )
    common.sanity_schema(sch, recs)
    meta = {
        "description": "Energy (kWh) and duration (min) of an electric-car trip (RandomForestRegressor, two targets).",
        "algorithm": "RandomForestRegressor",
        "features": TRIP_FEATURES,
        "kind": "tensors",
        "columns": {"variable": TRIP_TARGETS},
        "inputSchema": sch,
        "metrics": metrics,
        "training": {"features": {f: common.histogram(X_train[:, j]) for j, f in enumerate(TRIP_FEATURES)}},
    }
    common.write_version("trip-forecast", "1", onx, meta, {"features": rows, "records": recs, "values": [[float(a), float(b)] for a, b in sk]})


def main() -> None:
    car_range()
    trip_forecast()


if __name__ == "__main__":
    main()
