"""Payment-fraud classifier on a deterministic synthetic transactions data set.

Writes models/fraud/1 (StandardScaler + LogisticRegression) and models/fraud/2
(GradientBoostingClassifier, 80 trees of depth 3).

Data: 40,000 card transactions, about 2.5 % fraud. The fraud label is drawn from a latent
risk that mixes linear and non-linear signals (night hours, brand-new cards, bursts of
transactions, risky merchants, large amounts, far from home, abroad, and their
interactions) plus Gaussian noise, so the classes overlap and a tree model has something
to gain over a linear one.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import common

SEED = 20250101
N_ROWS = 40_000
TARGET_FRAUD_RATE = 0.025

FEATURES = ["amount", "hour", "merchantRisk", "distanceFromHomeKm", "txCountLastHour", "foreign", "cardAgeDays"]
INTEGER = {"hour", "txCountLastHour", "foreign", "cardAgeDays"}
LABELS = ["legit", "fraud"]

# share of transactions per hour of day (people shop in the day and evening)
HOUR_WEIGHTS = np.array(
    [0.8, 0.5, 0.35, 0.3, 0.3, 0.45, 1.0, 2.0, 3.2, 4.0, 4.6, 5.2,
     6.0, 5.6, 5.0, 4.8, 5.0, 5.6, 6.2, 5.8, 4.8, 3.6, 2.4, 1.4]
)


def generate(seed: int = SEED, n: int = N_ROWS) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    foreign = (rng.random(n) < 0.06).astype(np.int64)
    amount = np.round(np.clip(rng.lognormal(mean=3.5, sigma=1.05, size=n), 0.5, 25_000), 2)
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    merchant_risk = np.round(rng.beta(2.0, 9.0, size=n), 3)
    local_km = rng.lognormal(mean=1.4, sigma=1.1, size=n)
    abroad_km = rng.lognormal(mean=6.6, sigma=0.7, size=n)
    distance = np.round(np.where(foreign == 1, abroad_km, local_km), 1)
    tx_count = rng.poisson(0.7, size=n)
    card_age = np.clip(np.round(rng.gamma(shape=1.4, scale=550.0, size=n)), 0, 5000).astype(np.int64)

    night = ((hour >= 0) & (hour <= 5)).astype(float)
    new_card = (card_age < 30).astype(float)
    burst = np.minimum(tx_count, 8).astype(float)
    latent = 2.8 * (
        0.75 * (np.log(amount) - 3.5)
        + 0.35 * np.maximum(np.log(amount) - 5.5, 0) ** 2  # very large amounts
        + 1.4 * night
        + 3.0 * (merchant_risk - 0.18)
        + 0.25 * np.log1p(distance)
        + 0.6 * foreign
        + 0.45 * burst
        + 0.5 * (tx_count >= 4)  # bursts of card testing
        + 1.5 * new_card
        + 0.9 * night * foreign
        + 0.8 * new_card * (merchant_risk > 0.3)
    ) + rng.normal(0.0, 1.0, size=n)  # what the features do not explain
    # intercept chosen (deterministically, by bisection) so that the mean fraud probability hits the target
    lo, hi = -20.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(latent + mid)))) > TARGET_FRAUD_RATE:
            hi = mid
        else:
            lo = mid
    p = 1 / (1 + np.exp(-(latent + lo)))
    y = (rng.random(n) < p).astype(np.int64)

    X = np.column_stack([amount, hour, merchant_risk, distance, tx_count, foreign, card_age]).astype(np.float32)
    return X, y


def schema() -> dict:
    P = common.number_prop
    return common.input_schema(
        "card transaction",
        {
            "amount": P(0, None, description="transaction amount in the card's currency"),
            "hour": P(0, 23, integer=True, description="local hour of day"),
            "merchantRisk": P(0, 1, description="merchant risk score"),
            "distanceFromHomeKm": P(0, None, description="distance from the card holder's home"),
            "txCountLastHour": P(0, None, integer=True, description="transactions on this card in the last hour"),
            "foreign": P(0, 1, integer=True, description="1 if the transaction is abroad"),
            "cardAgeDays": P(0, None, integer=True, description="days since the card was issued"),
        },
        FEATURES,
    )


def main() -> None:
    X, y = generate()
    print(f"fraud: {len(y)} rows, fraud rate {y.mean():.4f}")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=SEED % 2**32, stratify=y)
    assert X_train.dtype == np.float32

    rng = np.random.default_rng(SEED + 1)
    hold_idx = common.pick_holdout(rng, len(y_test), np.flatnonzero(y_test == 1))
    X_hold = X_test[hold_idx]

    models = {
        "1": (
            "LogisticRegression",
            Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(C=1.0, max_iter=2000))]),
            "Payment-fraud classifier (standardised logistic regression) on 7 transaction features; label 1 = fraud.",
        ),
        "2": (
            "GradientBoostingClassifier",
            GradientBoostingClassifier(n_estimators=80, max_depth=3, learning_rate=0.1, subsample=1.0, random_state=SEED),
            "Payment-fraud classifier (gradient-boosted trees, 80 trees of depth 3) on 7 transaction features; label 1 = fraud.",
        ),
    }
    for version, (algo, est, desc) in models.items():
        print(f"fraud v{version}: {algo}")
        est.fit(X_train, y_train)
        p_test = est.predict_proba(X_test)[:, 1]
        y_pred = est.predict(X_test)
        metrics = common.classifier_metrics(y_test, y_pred, p_test, len(y_train))
        print(f"  metrics: {metrics}")

        onx = common.convert(est, len(FEATURES), name=f"fraud_v{version}")
        onnx_bytes = onx.SerializeToString()

        sk_lab = est.predict(X_hold)
        sk_prob = est.predict_proba(X_hold)
        out = common.run_onnx(onnx_bytes, X_hold)
        common.check_parity(f"fraud v{version} holdout", sk_lab, out["label"], sk_prob, out["probabilities"])
        out_t = common.run_onnx(onnx_bytes, X_test)
        common.check_parity(f"fraud v{version} full test set", y_pred, out_t["label"], est.predict_proba(X_test), out_t["probabilities"])

        rows, recs = common.records(FEATURES, X_hold, INTEGER)
        sch = schema()
        common.sanity_schema(sch, recs)
        meta = {
            "description": desc,
            "algorithm": algo,
            "features": FEATURES,
            "labels": LABELS,
            "inputSchema": sch,
            "metrics": metrics,
            "training": common.training_histograms(FEATURES, X_train, est.predict_proba(X_train)[:, 1]),
        }
        holdout = {
            "features": rows,
            "records": recs,
            "labels": [int(v) for v in sk_lab],
            "probabilities": [[float(a), float(b)] for a, b in sk_prob],
        }
        common.write_version("fraud", version, onx, meta, holdout)


if __name__ == "__main__":
    main()
