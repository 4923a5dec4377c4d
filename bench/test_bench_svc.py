"""The multiclass step's SVC parts, timed through the backend directly.

``step_multiclass`` fits an SVC (one-vs-one) on the first 2,000 rows and a
one-vs-rest SVC on the first 1,000 (the book's slices, independent of
``--bench-size``), then predicts the test set with each.
"""


def _svc(role: str, n_field: str):
    def fit_predict(ctx) -> dict:
        b, cfg = ctx.backend, ctx.config
        n = min(getattr(cfg, n_field), len(ctx.data.y_train))
        model = b.estimator(role, random_state=cfg.random_state).fit(ctx.X_train[:n], ctx.y_train[:n])
        return {"test_accuracy": float(b.metrics.accuracy_score(ctx.y_test, model.predict(ctx.X_test))),
                "n_fit": n}
    return fit_predict


def test_svc_fit_predict(bench):
    bench.run("multiclass:svc", _svc("svc", "svc_train_size"), lambda r: r, roles=("svc",))


def test_ovr_svc_fit_predict(bench):
    bench.run("multiclass:ovr_svc", _svc("ovr_svc", "ovr_train_size"), lambda r: r, roles=("ovr_svc",))
