#!/usr/bin/env python3
"""Trains the fraud model Nzila scores every remittance with (issue 26), offline, on a synthetic data set made here.

    python3 -m pip install scikit-learn==1.5.2 numpy   # once
    python3 ops/fraud/train.py                          # writes ReferenceData/fraud/model.json and ops/fraud/heldout.csv

The data set (documented in ops/fraud/README.md) is members' sending histories: normal diaspora patterns (a few
transfers a month to one to three regular recipients from known devices, amounts around what a family needs) with
three injected fraud patterns: account takeover after a device change, mule fan-out, and structuring under the
reporting threshold. Each transfer becomes the features `FraudFeatures` computes in Swift from the same inputs.
A scikit-learn GradientBoostingClassifier is trained on 75% and evaluated on the rest; its trees are exported as
plain JSON that Swift evaluates (no Python at run time), and a sample of the held-out set with Python's scores is
written for the test that checks Swift agrees on every one to 1e-9.
"""
import csv
import json
import math
import os
import random

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import precision_score, recall_score, roc_auc_score

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FEATURES = [
    "amount_cad", "log_amount", "transfers_1h", "transfers_24h", "amount_24h_cad", "new_device", "new_device_large",
    "under_threshold_24h", "recipients_24h", "new_recipient", "minutes_since_last",
]
HOUR = 3_600_000
THRESHOLD_MINOR = 1_000_000  # 10,000 CAD: the large cash transaction / EFT reporting threshold


def features(transfer, history, known_devices, known_recipients):
    """The same features as Sources/Compliance/Rules/FraudModel.swift `FraudFeatures.make`, from the same inputs."""
    at, amount, device, recipient = transfer
    earlier = [h for h in history if h[0] <= at]
    last_hour = [h for h in earlier if h[0] > at - HOUR]
    day = [h for h in earlier if h[0] > at - 24 * HOUR]
    new_device = 1.0 if device is not None and device not in known_devices else 0.0
    recipients = {h[3] for h in day if h[3] is not None}
    if recipient is not None:
        recipients.add(recipient)
    last = max((h[0] for h in earlier), default=None)
    return [
        amount / 100.0,
        math.log1p(amount / 100.0),
        float(len(last_hour) + 1),
        float(len(day) + 1),
        (sum(h[1] for h in day) + amount) / 100.0,
        new_device,
        new_device * (1.0 if amount >= 100_000 else 0.0),
        float(sum(1 for h in day if h[1] < THRESHOLD_MINOR) + (1 if amount < THRESHOLD_MINOR else 0)),
        float(len(recipients)),
        1.0 if recipient is not None and recipient not in known_recipients else 0.0,
        min((at - last) / 60_000.0, 43_200.0) if last is not None else 43_200.0,
    ]


def member(rng, index):
    """One member's transfers over about 60 days: (at ms, amount minor, device, recipient, label)."""
    start = 1_767_225_600_000 + rng.randrange(0, 30 * 24) * HOUR  # 2026-01-01 onwards
    devices = [f"m{index}-phone"] + ([f"m{index}-tablet"] if rng.random() < 0.3 else [])
    recipients = [f"m{index}-r{k}" for k in range(rng.randint(1, 3))]
    events = []
    t = start
    for _ in range(rng.randint(3, 9)):
        t += rng.randint(3, 12) * 24 * HOUR + rng.randrange(0, 24) * HOUR
        amount = int(rng.lognormvariate(math.log(350), 0.6) * 100)
        amount = max(2_000, min(amount, 600_000))
        events.append((t, amount, rng.choice(devices), rng.choice(recipients), 0))
        if rng.random() < 0.08:  # a second send the same day (school fees, an emergency)
            events.append((t + rng.randint(1, 6) * HOUR, int(amount * rng.uniform(0.3, 1.5)), rng.choice(devices), rng.choice(recipients), 0))
    kind = rng.random()
    t += rng.randint(2, 10) * 24 * HOUR
    if kind < 0.05:  # account takeover: a new device, then large sends to new recipients in quick succession
        device = f"ato-{index}"
        for k in range(rng.randint(1, 4)):
            events.append((t + k * rng.randint(3, 40) * 60_000, rng.randint(150_000, 900_000), device, f"ato-{index}-r{k}", 1))
    elif kind < 0.09:  # mule fan-out: many recipients within hours, moderate amounts
        for k in range(rng.randint(5, 12)):
            events.append((t + k * rng.randint(5, 50) * 60_000, rng.randint(20_000, 150_000), rng.choice(devices), f"mule-{index}-r{k}", 1))
    elif kind < 0.13:  # structuring: several sends each under the threshold, together over it, within a day
        total = 0
        k = 0
        while total < THRESHOLD_MINOR + rng.randint(0, 400_000):
            amount = rng.randint(250_000, 990_000)
            events.append((t + k * rng.randint(20, 300) * 60_000, amount, rng.choice(devices), rng.choice(recipients), 1))
            total += amount
            k += 1
    events.sort(key=lambda e: e[0])
    rows = []
    history = []
    known_devices = set()
    known_recipients = set()
    for at, amount, device, recipient, label in events:
        rows.append((features((at, amount, device, recipient), history, known_devices, known_recipients), label))
        history.append((at, amount, device, recipient))
        known_devices.add(device)
        known_recipients.add(recipient)
    return rows


def tree_json(tree):
    t = tree.tree_
    return {
        "feature": [int(f) for f in t.feature],
        "threshold": [float(x) for x in t.threshold],
        "left": [int(c) for c in t.children_left],
        "right": [int(c) for c in t.children_right],
        "value": [float(v[0][0]) for v in t.value],
        # Training samples under each node: the Swift side weighs leaves by them to explain a score.
        "weight": [float(w) for w in t.weighted_n_node_samples],
    }


def main():
    rng = random.Random(20261208)
    rows = []
    for index in range(6_000):
        rows += member(rng, index)
    X = np.array([r[0] for r in rows], dtype=np.float64)
    y = np.array([r[1] for r in rows])
    order = np.random.RandomState(7).permutation(len(rows))
    cut = int(len(rows) * 0.75)
    train, test = order[:cut], order[cut:]
    model = GradientBoostingClassifier(n_estimators=80, max_depth=3, learning_rate=0.1, subsample=1.0, random_state=7)
    model.fit(X[train], y[train])
    scores = model.predict_proba(X[test])[:, 1]
    predicted = scores >= 0.5
    report = {
        "rows": len(rows), "fraud_share": round(float(y.mean()), 4), "held_out": int(len(test)),
        "precision_at_0_5": round(float(precision_score(y[test], predicted)), 4),
        "recall_at_0_5": round(float(recall_score(y[test], predicted)), 4),
        "roc_auc": round(float(roc_auc_score(y[test], scores)), 4),
    }
    init_raw = float(model._raw_predict_init(X[test][:1])[0, 0])
    exported = {
        "format": "nzila-gbt-v1",
        "trained_by": "ops/fraud/train.py (scikit-learn 1.5.2 GradientBoostingClassifier, log-loss)",
        "features": FEATURES, "init_raw": init_raw, "learning_rate": model.learning_rate,
        "trees": [tree_json(stage[0]) for stage in model.estimators_],
        "report": report,
    }
    os.makedirs(os.path.join(ROOT, "ReferenceData", "fraud"), exist_ok=True)
    with open(os.path.join(ROOT, "ReferenceData", "fraud", "model.json"), "w") as out:
        json.dump(exported, out, separators=(",", ":"))
    # Every held-out score to 17 significant digits, with its features, for the agreement test.
    with open(os.path.join(ROOT, "ops", "fraud", "heldout.csv"), "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FEATURES + ["label", "python_score"])
        for i, row in enumerate(test):
            writer.writerow([repr(float(x)) for x in X[row]] + [int(y[row]), repr(float(scores[i]))])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
