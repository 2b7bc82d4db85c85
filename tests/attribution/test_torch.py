"""PyTorch attribution methods: TRAK, TracIn, grad_dot, grad_cos (unit tests).

Torch is optional: without it these tests are skipped with a visible reason,
except on CI (``CI=true``), where the test extra installs torch and they must run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scrutiny.attribution import applicable_methods, attribute
from scrutiny.attribution._registry import METHODS, Method, load_builtin
from scrutiny.attribution._result import AttributionResult
from scrutiny.exceptions import (
    DataValidationError,
    InvalidParameterError,
    MissingDependencyError,
)

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None  # type: ignore[assignment]

ON_CI = os.environ.get("CI") == "true"
requires_torch = pytest.mark.skipif(
    torch is None and not ON_CI,
    reason="torch is not installed: pip install 'scrutiny[torch]' (these tests run on CI)",
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: small kernels on a shared 2-core machine run faster that way."""
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------------------
# tests that need no torch


def _run_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return out.stdout.strip()


def test_registration_does_not_import_torch():
    code = (
        "import sys\n"
        "from scrutiny.attribution._registry import METHODS, load_builtin\n"
        "load_builtin()\n"
        "print(sorted(m for m in ('trak','tracin','grad_dot','grad_cos') if m in METHODS),"
        " 'torch' in sys.modules)\n"
    )
    assert _run_python(code) == "['grad_cos', 'grad_dot', 'tracin', 'trak'] False"


def test_methods_register_without_torch_installed():
    # sys.modules["torch"] = None makes every "import torch" fail, as if it were not installed
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "from scrutiny.attribution._registry import METHODS, load_builtin\n"
        "load_builtin()\n"
        "print(METHODS['trak'].applies(object()))\n"
    )
    assert "needs a torch.nn.Module" in _run_python(code)


def test_torch_missing_raises_missing_dependency(monkeypatch):
    load_builtin()
    monkeypatch.setitem(sys.modules, "torch", None)
    for name in [m for m in sys.modules if m.startswith("scrutiny.attribution.torch")]:
        monkeypatch.delitem(sys.modules, name)
    x = np.zeros((4, 2))
    y = np.zeros(4, dtype=int)
    for method in ("trak", "tracin", "grad_dot", "grad_cos"):
        with pytest.raises(MissingDependencyError, match=r"pip install 'scrutiny\[torch\]'"):
            METHODS[method].run(object(), x, y, x, y)
    with pytest.raises(MissingDependencyError, match=r"scrutiny\[torch\]"):
        __import__("scrutiny.attribution.torch")


def test_random_forest_given_to_trak_names_methods_that_apply(monkeypatch):
    from sklearn.ensemble import RandomForestClassifier

    load_builtin()
    monkeypatch.setitem(METHODS, "fake_any", Method(
        name="fake_any", run=lambda *a, **k: AttributionResult("fake_any"),
        applies=lambda model: None, summary="test stub that applies to every model"))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    usable = applicable_methods(rf)
    assert "trak" not in usable
    with pytest.raises(InvalidParameterError, match=r"torch\.nn\.Module") as err:
        attribute(rf, x, y, x[:3], y[:3], method="trak")
    message = str(err.value)
    assert "Methods that apply" in message
    for name in usable:
        assert repr(name) in message


@requires_torch
@pytest.mark.parametrize("budget", [1, 40, 2**22])
@pytest.mark.parametrize("with_train_scales", [False, True])
def test_factored_scorer_equals_the_sum_over_members_and_layers(monkeypatch, budget,
                                                                with_train_scales):
    """Side-by-side products of members (in groups bounded by the budget) change nothing."""
    from scrutiny.attribution.torch import _scorers

    rng = np.random.default_rng(0)
    n_q, n_t, dims = 7, 11, [(5, 4), (4, 3)]
    shared_a = (rng.normal(size=(n_q, 5)), rng.normal(size=(n_t, 5)))
    members, q_scales, t_scales = [], [], []
    for _ in range(4):
        layers = []
        for layer, (d_a, d_d) in enumerate(dims):
            aq, at = shared_a if layer == 0 else (rng.normal(size=(n_q, d_a)),
                                                  rng.normal(size=(n_t, d_a)))
            layers.append((aq, rng.normal(size=(n_q, d_d)), at, rng.normal(size=(n_t, d_d))))
        members.append(layers)
        q_scales.append(rng.random(n_q))
        t_scales.append(rng.random(n_t) if with_train_scales else None)
    expected = np.zeros((n_q, n_t))
    for layers, qs, ts in zip(members, q_scales, t_scales, strict=True):
        for aq, dq, at, dt in layers:
            expected += qs[:, None] * (dq @ dt.T) * (aq @ at.T) * (1 if ts is None else ts)
    monkeypatch.setattr(_scorers, "CONCAT_BUDGET", budget)
    scorer = _scorers.FactoredScorer(members, q_scales, t_scales, train_chunk=5)
    assert scorer.shared_inputs == [True, False]
    np.testing.assert_allclose(scorer.full(), expected, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------
# fixtures


def _mlp(d_in: int = 5, hidden: int = 8, n_out: int = 3, seed: int = 0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(d_in, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, n_out)
    )


def _fit(model, x, y, *, steps: int = 60, lr: float = 0.05, wd: float = 0.0,
         checkpoints: bool = False):
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
    opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=wd)
    saved = []
    for step in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
        if checkpoints and (step + 1) % (steps // 3) == 0:
            saved.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    return saved if checkpoints else model


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    xq = rng.normal(size=(7, 5)).astype(np.float32)
    yq = (xq[:, 0] + 0.5 * xq[:, 1] > 0).astype(int) + (xq[:, 2] > 1).astype(int)
    model = _fit(_mlp(), x, y)
    return model, x, y, xq, yq


def _per_sample_grads(model, x, y, fn):
    """Oracle: one autograd backward per example, flattened parameter gradients."""
    rows = []
    for i in range(len(x)):
        model.zero_grad()
        out = model(torch.as_tensor(x[i:i + 1], dtype=torch.float32))
        fn(out, torch.as_tensor(y[i:i + 1])).sum().backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy().copy())
    model.zero_grad()
    return np.asarray(rows, dtype=np.float64)


def _ce(out, y):
    return torch.nn.functional.cross_entropy(out, y, reduction="none")


def _margin(out, y):
    mask = torch.nn.functional.one_hot(y, out.shape[-1]).bool()
    return (out * mask).sum(-1) - out.masked_fill(mask, float("-inf")).logsumexp(-1)


# ---------------------------------------------------------------------------
# projectors


@requires_torch
@pytest.mark.parametrize("kind", ["gaussian", "rademacher"])
def test_projector_preserves_inner_products(kind):
    from scrutiny.attribution.torch import make_projector

    gen = torch.Generator().manual_seed(0)
    g = torch.randn(12, 600, generator=gen)
    proj = make_projector(kind, 600, 4096, seed=1)
    pg = proj.project(g, model_id=0)
    exact = g @ g.T
    approx = pg @ pg.T
    norms = g.norm(dim=1)
    rel = (approx - exact).abs() / torch.outer(norms, norms)
    assert pg.shape == (12, 4096)
    assert float(rel.max()) < 0.1  # JL: error ~ 1/sqrt(k) = 0.016 per entry
    assert float((approx.diagonal() / exact.diagonal() - 1).abs().max()) < 0.1


@requires_torch
def test_projector_fixed_seed_fixed_matrix(monkeypatch):
    from scrutiny.attribution.torch import GaussianProjector, RademacherProjector, _projectors

    g = torch.randn(3, 9000, generator=torch.Generator().manual_seed(0))
    for cls in (GaussianProjector, RademacherProjector):
        a = cls(9000, 64, seed=5).project(g, 0)
        assert torch.equal(a, cls(9000, 64, seed=5).project(g, 0))
        assert not torch.equal(a, cls(9000, 64, seed=6).project(g, 0))
        assert not torch.equal(a, cls(9000, 64, seed=5).project(g, 1))  # per model id
        # block-by-block generation (large models) gives the same projection as the cache
        monkeypatch.setattr(_projectors, "MAX_CACHED", 10)
        b = cls(9000, 64, seed=5).project(g, 0)
        monkeypatch.undo()
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-3)  # float32 sums, other order
    bits = RademacherProjector(100, 16, seed=0).matrix(0) * 4
    assert set(bits.unique().tolist()) == {-1.0, 1.0}


@requires_torch
@pytest.mark.parametrize(("factored", "layout"), [(False, "identity"), (None, "linear_factors")])
def test_identity_projector_is_no_projection(toy, factored, layout):
    from scrutiny.attribution.torch import IdentityProjector

    g = torch.randn(4, 7)
    assert IdentityProjector(7).project(g, 3) is g
    model, x, y, xq, yq = toy
    got = attribute(model, x, y, xq, yq, method="grad_dot", projector="identity",
                    materialize=True, factored=factored)
    gt = _per_sample_grads(model, x, y, _ce)
    gq = _per_sample_grads(model, xq, yq, _ce)
    np.testing.assert_allclose(got.scores, gq @ gt.T, rtol=1e-4, atol=1e-6)
    assert got.params["projector"]["kind"] == layout


class _SharedLayerNet(torch.nn.Module if torch is not None else object):  # type: ignore[misc]
    """One linear layer applied twice: its gradient is not a single outer product."""

    def __init__(self):
        super().__init__()
        self.inner = torch.nn.Linear(5, 5)
        self.head = torch.nn.Linear(5, 3)

    def forward(self, x):
        return self.head(torch.tanh(self.inner(torch.tanh(self.inner(x)))))


@requires_torch
def test_factored_form_falls_back_when_it_does_not_apply(toy):
    _, x, y, xq, yq = toy
    torch.manual_seed(0)
    normed = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.LayerNorm(8),
                                 torch.nn.Linear(8, 3))
    for model in (normed, _SharedLayerNet()):
        res = attribute(model, x, y, xq, yq, method="grad_dot", materialize=True)
        assert res.params["projector"]["kind"] == "identity"
        exact = _per_sample_grads(model, xq, yq, _ce) @ _per_sample_grads(model, x, y, _ce).T
        np.testing.assert_allclose(res.scores, exact, rtol=1e-4, atol=1e-6)
        with pytest.raises(InvalidParameterError, match="factored=True cannot be used"):
            attribute(model, x, y, xq, yq, method="grad_dot", factored=True)
    with pytest.raises(InvalidParameterError, match="factored"):
        attribute(normed, x, y, xq, yq, method="trak", factored=True)


@requires_torch
def test_auto_projector_projects_only_large_models(toy):
    model, x, y, xq, yq = toy
    n_params = sum(p.numel() for p in model.parameters())
    small = attribute(model, x, y, xq, yq, method="grad_dot", proj_dim=n_params, factored=False)
    big = attribute(model, x, y, xq, yq, method="grad_dot", proj_dim=n_params - 1,
                    factored=False)
    assert small.params["projector"]["kind"] == "identity"
    assert big.params["projector"]["kind"] == "gaussian"
    assert any("randomly projected" in n for n in big.notes)


# ---------------------------------------------------------------------------
# scores


@requires_torch
@pytest.mark.parametrize(("projector", "proj_dim"), [("identity", 2048), ("gaussian", 16)])
def test_trak_matches_formula(toy, projector, proj_dim):
    # identity: 75 features > 60 rows (dual n x n form); gaussian: 16 < 60 (primal k x k form)
    from scrutiny.attribution.torch import GaussianProjector

    model, x, y, xq, yq = toy
    res = attribute(model, x, y, xq, yq, method="trak", projector=projector, proj_dim=proj_dim,
                    damping=0.5, materialize=True)
    phi = _per_sample_grads(model, x, y, _margin)
    phi_q = _per_sample_grads(model, xq, yq, _margin)
    if projector == "gaussian":
        proj = GaussianProjector(75, proj_dim, seed=0).matrix(0).double().numpy()
        phi, phi_q = phi @ proj, phi_q @ proj
    xtx = phi.T @ phi
    lam = 0.5 * np.trace(xtx) / min(len(x), xtx.shape[0])  # mean non-zero eigenvalue
    with torch.no_grad():
        p = torch.softmax(model(torch.as_tensor(x)), -1).numpy()[np.arange(len(y)), y]
    expected = phi_q @ np.linalg.solve(xtx + lam * np.eye(len(xtx)), phi.T) * (1 - p)
    np.testing.assert_allclose(res.scores, expected, rtol=2e-3, atol=1e-5)
    assert res.params["damping_abs"][0] == pytest.approx(lam, rel=1e-4)


@requires_torch
def test_scores_linear_in_query_gradient():
    from scrutiny.attribution.torch import LinearScorer

    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(50, 6)).astype(np.float32) for _ in range(2)]
    w1 = [rng.normal(size=(4, 6)).astype(np.float32) for _ in range(2)]
    w2 = [rng.normal(size=(4, 6)).astype(np.float32) for _ in range(2)]
    col = rng.random(50)

    def scores(ws):
        return LinearScorer(ws, feats, col_scale=col, train_chunk=7, query_chunk=3).full()

    combo = [2.0 * a - 3.0 * b for a, b in zip(w1, w2, strict=True)]
    np.testing.assert_allclose(scores(combo), 2.0 * scores(w1) - 3.0 * scores(w2),
                               rtol=1e-4, atol=1e-4)


@requires_torch
@pytest.mark.parametrize("factored", [False, None])
def test_tracin_is_learning_rate_weighted_sum_over_checkpoints(toy, tmp_path, factored):
    _, x, y, xq, yq = toy
    template = _mlp()
    ckpts = _fit(_mlp(), x, y, steps=30, checkpoints=True)
    lrs = [0.3, 0.2, 0.1]
    res = attribute(template, x, y, xq, yq, method="tracin", checkpoints=ckpts,
                    learning_rates=lrs, projector="identity", materialize=True,
                    factored=factored)
    expected = 0.0
    for lr, state in zip(lrs, ckpts, strict=True):
        m = _mlp()
        m.load_state_dict(state)
        expected = expected + lr * _per_sample_grads(m, xq, yq, _ce) @ _per_sample_grads(
            m, x, y, _ce).T
    np.testing.assert_allclose(res.scores, expected, rtol=1e-4, atol=1e-6)
    assert res.params["learning_rates"] == lrs
    # checkpoints as files, with the learning rate stored inside (Captum's layout)
    paths = []
    for i, (lr, state) in enumerate(zip(lrs, ckpts, strict=True)):
        path = tmp_path / f"ckpt_{i}.pt"
        torch.save({"model_state_dict": state, "learning_rate": lr}, path)
        paths.append(str(path))
    from_files = attribute(template, x, y, xq, yq, method="tracin", checkpoints=paths,
                           projector="identity", materialize=True, factored=factored)
    np.testing.assert_allclose(from_files.scores, res.scores, rtol=1e-6)
    # the template module is not modified
    assert torch.equal(template[0].weight, _mlp()[0].weight)
    unweighted = attribute(template, x, y, xq, yq, method="tracin", checkpoints=ckpts,
                           projector="identity")
    assert any("No learning rates" in n for n in unweighted.notes)


@requires_torch
@pytest.mark.parametrize("factored", [False, None])
def test_grad_cos_is_cosine(toy, factored):
    model, x, y, xq, yq = toy
    res = attribute(model, x, y, xq, yq, method="grad_cos", projector="identity",
                    materialize=True, factored=factored)
    gt = _per_sample_grads(model, x, y, _ce)
    gq = _per_sample_grads(model, xq, yq, _ce)
    cos = (gq / np.linalg.norm(gq, axis=1, keepdims=True)) @ (
        gt / np.linalg.norm(gt, axis=1, keepdims=True)).T
    np.testing.assert_allclose(res.scores, cos, rtol=1e-4, atol=1e-5)
    assert np.abs(res.scores).max() <= 1 + 1e-5


@requires_torch
def test_fixed_seed_gives_fixed_result(toy):
    model, x, y, xq, yq = toy
    run = lambda seed: attribute(model, x, y, xq, yq, method="trak", proj_dim=16,  # noqa: E731
                                 random_state=seed, materialize=True)
    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.allclose(a.scores, c.scores)
    assert a.seed == 3
    assert a.params["projector"] == {"kind": "gaussian", "n_params": 75, "proj_dim": 16,
                                     "seed": 3, "block_rows": 4096}


@requires_torch
def test_topk_equals_argsort_of_full_matrix(toy):
    model, x, y, xq, yq = toy
    opts = {"method": "trak", "proj_dim": 32, "train_chunk": 7, "query_chunk": 3}
    full = attribute(model, x, y, xq, yq, materialize=True, **opts)
    top = attribute(model, x, y, xq, yq, top_k=10, **opts)
    assert top.scores is None
    assert top.top_indices.shape == (len(xq), 10)
    for q in range(len(xq)):
        by_magnitude = np.argsort(-np.abs(full.scores[q]), kind="stable")[:10]
        expected = by_magnitude[np.argsort(-full.scores[q, by_magnitude], kind="stable")]
        np.testing.assert_array_equal(top.top_indices[q], expected)
        np.testing.assert_allclose(top.top_scores[q], full.scores[q, expected], rtol=1e-5)
    assert top.top(0, k=3) == [(int(i), float(s)) for i, s in zip(
        top.top_indices[0][top.top_scores[0] > 0][:3], top.top_scores[0][top.top_scores[0] > 0][
            :3], strict=True)]
    assert top.to_dict(top_k=2)["queries"][0]["helpful"]
    big_k = attribute(model, x, y, xq, yq, top_k=1000, **opts)
    assert big_k.top_indices.shape == (len(xq), len(x))


@requires_torch
def test_ensemble_of_models_averages_members(toy):
    _, x, y, xq, yq = toy
    models = [_fit(_mlp(seed=s), x, y) for s in range(3)]
    ens = attribute(models, x, y, xq, yq, method="grad_dot", projector="identity",
                    materialize=True)
    singles = [attribute(m, x, y, xq, yq, method="grad_dot", projector="identity",
                         materialize=True).scores for m in models]
    np.testing.assert_allclose(ens.scores, np.mean(singles, axis=0), rtol=1e-4, atol=1e-6)
    assert ens.params["n_members"] == 3
    trak = attribute(models, x, y, xq, yq, method="trak", proj_dim=32, materialize=True)
    assert any("quality is low" in n for n in trak.notes)


# ---------------------------------------------------------------------------
# persisted lifecycle


@requires_torch
def test_resume_after_interruption_gives_identical_scores(toy, tmp_path, monkeypatch):
    from scrutiny.attribution.torch import MemmapStore, _gradients

    _, x, y, xq, yq = toy
    models = [_fit(_mlp(seed=s), x, y) for s in range(2)]
    opts = {"method": "trak", "proj_dim": 16, "batch_size": 8, "materialize": True}
    reference = attribute(models, x, y, xq, yq, **opts)  # in memory, uninterrupted

    real = _gradients.PerSampleGradients.per_sample
    calls = {"n": 0}

    def crashing(self, model, xb, yb):
        calls["n"] += 1
        if calls["n"] > 10:
            raise KeyboardInterrupt
        return real(self, model, xb, yb)

    monkeypatch.setattr(_gradients.PerSampleGradients, "per_sample", crashing)
    store = tmp_path / "features"
    with pytest.raises(KeyboardInterrupt):
        attribute(models, x, y, xq, yq, store_dir=store, **opts)
    store = store / "trak"
    done = MemmapStore(store).steps_done()
    # member 0: 8 train chunks (60 rows / 8) and 1 query chunk; member 1: 1 train chunk,
    # then the crash (the inverses are finalised once every member is featurised)
    assert len(done) == 8 + 1 + 1
    assert not any("finalized" in step for step in done)
    assert (store / "meta.json").exists()

    calls["n"] = -10**9  # no more crashes; count the work left
    resumed = attribute(models, x, y, xq, yq, store_dir=store.parent, **opts)
    total_chunks = 2 * (8 + 1)  # 2 members x (8 train chunks + 1 query chunk)
    assert calls["n"] + 10**9 == total_chunks - 10  # finished chunks were not recomputed
    np.testing.assert_array_equal(resumed.scores, reference.scores)
    assert resumed.params["store_dir"] == str(store)
    assert isinstance(resumed.scores, np.memmap)

    # a finished run reloads everything: no gradient is computed again
    calls["n"] = -10**9
    again = attribute(models, x, y, xq, yq, store_dir=store.parent, **opts)
    assert calls["n"] == -10**9
    np.testing.assert_array_equal(again.scores, reference.scores)


@requires_torch
def test_store_refuses_features_of_another_run(toy, tmp_path):
    model, x, y, xq, yq = toy
    attribute(model, x, y, xq, yq, method="trak", store_dir=tmp_path, proj_dim=16)
    with pytest.raises(InvalidParameterError, match=r"different run.*projector"):
        attribute(model, x, y, xq, yq, method="trak", store_dir=tmp_path, proj_dim=8)
    with pytest.raises(InvalidParameterError, match=r"different run.*train_digest"):
        attribute(model, x[:-1], y[:-1], xq, yq, method="trak", store_dir=tmp_path,
                  proj_dim=16)
    # each method has its own sub-folder
    res = attribute(model, x, y, xq, yq, method="grad_dot", store_dir=tmp_path)
    assert res.params["store_dir"] == str(tmp_path / "grad_dot")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grad_dot", "trak"]


@requires_torch
def test_memmap_store_layout(tmp_path):
    from scrutiny.attribution.torch import MemmapStore

    store = MemmapStore(tmp_path)
    store.prepare({"method": "x"})
    arr = store.array("member_000/features", (3, 2), "float32")
    arr[:] = 7
    store.mark_done("member_000/chunk_000000")
    assert np.load(tmp_path / "member_000" / "features.npy").sum() == 42
    # a crash in the middle of writing a log line leaves a partial line: it is ignored
    with (tmp_path / "progress.log").open("a") as fh:
        fh.write("member_000/chunk_0000")
    assert MemmapStore(tmp_path).steps_done() == ["member_000/chunk_000000"]


# ---------------------------------------------------------------------------
# sign convention, checked by retraining


@requires_torch
def test_sign_convention_matches_leave_one_out_retraining():
    """scores > 0 <=> removing the example raises the query's loss (L2 logistic regression)."""
    from scrutiny.attribution.evaluation import loo_correlation

    rng = np.random.default_rng(1)
    n, d, wd = 40, 3, 0.05
    x = rng.normal(size=(n, d)).astype(np.float64)
    y = (x @ np.array([1.5, -1.0, 0.5]) + 0.8 * rng.normal(size=n) > 0).astype(int)
    xq = rng.normal(size=(4, d))
    yq = (xq @ np.array([1.5, -1.0, 0.5]) > 0).astype(int)

    def fit(keep):
        torch.manual_seed(0)
        m = torch.nn.Linear(d, 2).double()
        xt, yt = torch.as_tensor(x[keep]), torch.as_tensor(y[keep])
        opt = torch.optim.LBFGS(m.parameters(), lr=1, max_iter=500, tolerance_grad=1e-12,
                                tolerance_change=1e-14, history_size=50)

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(m(xt), yt, reduction="sum") + 0.5 * wd * (
                m.weight ** 2).sum() * n
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return m

    def query_losses(m):
        with torch.no_grad():
            return _ce(m(torch.as_tensor(xq)), torch.as_tensor(yq)).numpy()

    full = fit(np.ones(n, bool))
    base = query_losses(full)
    effects = np.empty((len(xq), n))
    for i in range(n):
        keep = np.ones(n, bool)
        keep[i] = False
        effects[:, i] = query_losses(fit(keep)) - base  # loss rise when i is removed

    for method, floor in (("trak", 0.9), ("grad_dot", 0.8), ("tracin", 0.8)):  # 0.99, 0.97, 0.97
        res = attribute(full, x, y, xq, yq, method=method, projector="identity",
                        materialize=True)
        corr = loo_correlation(res.scores, effects)
        print(f"{method}: Spearman with leave-one-out retraining = {corr:.3f}")
        assert corr > floor, (method, corr)
        # the most helpful example really helps; the most harmful one really hurts
        for q in range(len(xq)):
            assert effects[q, np.argmax(res.scores[q])] > 0, method
            assert effects[q, np.argmin(res.scores[q])] < 0, method


# ---------------------------------------------------------------------------
# bad input


class _ArgmaxNet(torch.nn.Module if torch is not None else object):  # type: ignore[misc]
    """Logits rebuilt from a hard argmax: no gradient reaches the parameters."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(5, 3)

    def forward(self, x):
        hard = (self.lin(x).argmax(-1, keepdim=True) == torch.arange(3)).float()
        return hard * 5.0


@requires_torch
def test_non_differentiable_model_names_a_method_that_applies(toy):
    _, x, y, xq, yq = toy
    load_builtin()
    with pytest.raises(InvalidParameterError, match="not differentiable") as err:
        attribute(_ArgmaxNet(), x, y, xq, yq, method="trak")
    message = str(err.value)
    gradient_free = [n for n, m in METHODS.items()
                     if n not in ("trak", "tracin", "grad_dot", "grad_cos")
                     and m.applies(None) is None]
    assert gradient_free, "some registered method works on embeddings without gradients"
    assert any(repr(name) in message for name in gradient_free)

    frozen = _mlp()
    for p in frozen.parameters():
        p.requires_grad_(False)
    with pytest.raises(InvalidParameterError, match="no trainable floating-point"):
        attribute(frozen, x, y, xq, yq, method="grad_dot")


@requires_torch
def test_bad_options_and_data(toy):
    model, x, y, xq, yq = toy
    with pytest.raises(InvalidParameterError, match=r"Unknown option.*'proj_dimm'.*proj_dim"):
        attribute(model, x, y, xq, yq, method="trak", proj_dimm=8)
    with pytest.raises(InvalidParameterError, match="learning_rates"):
        attribute(model, x, y, xq, yq, method="trak", learning_rates=0.1)
    with pytest.raises(InvalidParameterError, match="'proj_dim' parameter"):
        attribute(model, x, y, xq, yq, method="trak", proj_dim=0)
    with pytest.raises(InvalidParameterError, match="projector"):
        attribute(model, x, y, xq, yq, method="trak", projector="sparse")
    with pytest.raises(InvalidParameterError, match="loss"):
        attribute(model, x, y, xq, yq, method="grad_dot", loss="hinge")
    with pytest.raises(DataValidationError, match="class indices in"):
        attribute(model, x, y + 5, xq, yq, method="grad_dot")
    with pytest.raises(DataValidationError, match="rows"):
        attribute(model, x, y[:-1], xq, yq, method="grad_dot")
    with pytest.raises(DataValidationError, match="X_query"):
        attribute(model, x, y, xq[:, :3], yq, method="grad_dot")
    with pytest.raises(InvalidParameterError, match="one per checkpoint"):
        attribute(model, x, y, xq, yq, method="tracin", checkpoints=[model.state_dict()],
                  learning_rates=[0.1, 0.2])
    with pytest.raises(InvalidParameterError, match="lacks the trainable parameters"):
        attribute(model, x, y, xq, yq, method="tracin", checkpoints=[{}])


@requires_torch
def test_regression_with_mse_and_tensor_inputs():
    torch.manual_seed(0)
    x = torch.randn(30, 4)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0]) + 0.1 * torch.randn(30)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        ((model(x)[:, 0] - y) ** 2).mean().backward()
        opt.step()
    res = attribute(model, x, y, x[:5], y[:5], method="trak", loss="mse", materialize=True)
    assert res.params["output"] == "neg_mse"
    assert res.scores.shape == (5, 30)
    # self-influence of a training point on itself is positive (it helped itself)
    assert np.all(np.diagonal(res.scores[:, :5]) > 0)


# ---------------------------------------------------------------------------
# self-influence (label issues): the diagonal, without the n x n matrix


@requires_torch
@pytest.mark.parametrize(("kind", "opts"), [
    ("trak", {"proj_dim": 2048}),                          # dual (n x n) form: 60 rows < 75
    ("trak", {"proj_dim": 16}),                            # primal (k x k) form
    ("grad_dot", {}),                                      # exact linear-layer factors
    ("grad_dot", {"factored": False, "projector": "gaussian", "proj_dim": 32}),
    ("tracin", {"learning_rates": [0.3, 0.1]}),
])
def test_self_influence_is_the_diagonal_of_the_score_matrix(toy, kind, opts):
    from scrutiny.attribution.torch._pipeline import self_influence

    model, x, y, _, _ = toy
    if kind == "tracin":
        opts = {**opts, "checkpoints": _fit(_mlp(), x, y, steps=30, checkpoints=True)[:2]}
        model = _mlp()
    models = [model, _fit(_mlp(seed=1), x, y)] if kind == "trak" else model
    full = attribute(models, x, y, x, y, method=kind, materialize=True, **opts)
    res = self_influence(kind, models, x, y, **opts)
    assert res.scores.shape == (1, len(x))
    np.testing.assert_allclose(res.scores[0], np.diagonal(full.scores), rtol=1e-4, atol=1e-6)
    assert res.extras["proba"].shape == (len(x), 3)
    np.testing.assert_allclose(res.extras["proba"].sum(1), 1.0, rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("factored", [False, None])
def test_queries_ride_along_with_the_training_rows(toy, monkeypatch, factored):
    """One gradient pass per model when training rows and queries fit one batch."""
    from scrutiny.attribution.torch import _gradients

    model, x, y, xq, yq = toy
    name = "per_sample" if factored is False else "factors"
    cls = _gradients.PerSampleGradients if factored is False else _gradients.LinearFactors
    real = getattr(cls, name)
    calls = []

    def counting(self, member, xb, yb):
        calls.append(xb.shape[0])
        return real(self, member, xb, yb)

    monkeypatch.setattr(cls, name, counting)
    models = [model, _fit(_mlp(seed=1), x, y)]
    res = attribute(models, x, y, xq, yq, method="grad_dot", materialize=True,
                    factored=factored)
    # (the factored form is first checked against autograd on 3 rows, once per module)
    assert [c for c in calls if c != 3] == [len(x) + len(xq)] * 2
    monkeypatch.undo()
    one_by_one = attribute(models, x, y, xq, yq, method="grad_dot", materialize=True,
                           factored=factored, batch_size=7)  # no packing: 60 rows = 9 chunks
    np.testing.assert_allclose(res.scores, one_by_one.scores, rtol=1e-5, atol=1e-7)
