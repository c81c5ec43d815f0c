"""Trains a real (small) model and saves it where Vertex AI expects it: $AIP_MODEL_DIR.

Uses only Debian's python3-sklearn and its bundled iris data, so it runs offline. Writes
model.joblib (the scikit-learn model, as Vertex's sklearn prediction containers load it) and
metrics.json next to it.
"""
import argparse
import json
import os

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--c", type=float, default=1.0)
    parser.add_argument("--model_dir", default=os.environ.get("AIP_MODEL_DIR", ""))
    args = parser.parse_args()
    if not args.model_dir:
        raise SystemExit("no model folder: set AIP_MODEL_DIR (baseOutputDirectory) or --model_dir")

    x, y = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    model = LogisticRegression(max_iter=args.max_iter, C=args.c).fit(x_train, y_train)
    accuracy = float(model.score(x_test, y_test))
    print(f"trained LogisticRegression(max_iter={args.max_iter}, C={args.c}): test accuracy {accuracy:.3f}", flush=True)

    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
    with open(os.path.join(args.model_dir, "metrics.json"), "w") as f:
        json.dump({"accuracy": accuracy}, f)
    print(f"saved model.joblib and metrics.json to {args.model_dir}", flush=True)


if __name__ == "__main__":
    main()
