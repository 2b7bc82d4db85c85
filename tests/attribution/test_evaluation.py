"""Evaluation of attributions: LDS, leave-one-out correlation, mislabel AUC, top-k Spearman."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import roc_auc_score

from scrutiny.attribution.evaluation import (
    lds,
    lds_per_query,
    loo_correlation,
    mislabel_auc,
    spearman_topk,
)
from scrutiny.exceptions import DataValidationError, InvalidParameterError


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(5, 40))
    masks = rng.random((30, 40)) < 0.5
    noisy = masks @ scores.T + rng.normal(scale=2.0, size=(30, 5))
    return scores, masks, noisy


def test_lds_matches_scipy_spearman_per_query(problem):
    scores, masks, outputs = problem
    expected = [spearmanr(masks @ scores[q], outputs[:, q]).statistic for q in range(5)]
    np.testing.assert_allclose(lds_per_query(scores, masks, outputs), expected, rtol=1e-12)
    assert lds(scores, masks, outputs) == pytest.approx(np.mean(expected), rel=1e-12)


def test_lds_is_one_for_an_additive_model_and_zero_mean_for_noise(problem):
    scores, masks, _ = problem
    assert lds(scores, masks, masks @ scores.T) == pytest.approx(1.0)
    assert lds(-scores, masks, masks @ scores.T) == pytest.approx(-1.0)  # sign matters
    rng = np.random.default_rng(1)
    noise = [lds(scores, masks, rng.normal(size=(30, 5))) for _ in range(50)]
    assert abs(np.mean(noise)) < 0.05


def test_lds_accepts_index_lists(problem):
    scores, masks, outputs = problem
    index_lists = [np.flatnonzero(m) for m in masks]
    assert lds(scores, index_lists, outputs) == lds(scores, masks, outputs)
    assert lds(scores, list(masks), outputs) == lds(scores, masks, outputs)


def test_lds_skips_constant_queries(problem):
    scores, masks, outputs = problem
    outputs = outputs.copy()
    outputs[:, 0] = 1.0
    per_query = lds_per_query(scores, masks, outputs)
    assert np.isnan(per_query[0])
    assert lds(scores, masks, outputs) == pytest.approx(np.nanmean(per_query))
    with pytest.raises(DataValidationError, match="constant"):
        lds(scores, masks, np.ones_like(outputs))


def test_lds_bad_shapes(problem):
    scores, masks, outputs = problem
    with pytest.raises(DataValidationError, match=r"\(n_subsets, n_query\)"):
        lds(scores, masks, outputs.T)
    with pytest.raises(DataValidationError, match="subsets"):
        lds(scores, masks[:, :10], outputs)
    with pytest.raises(DataValidationError, match="outside"):
        lds(scores, [[0, 1, 99]] * 30, outputs)
    with pytest.raises(InvalidParameterError, match="at least 3 subsets"):
        lds(scores, masks[:2], outputs[:2])
    with pytest.raises(DataValidationError, match="2-D"):
        lds(np.zeros((2, 3, 4)), masks, outputs)


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_loo_correlation_matches_scipy(method, problem):
    scores = problem[0]
    rng = np.random.default_rng(3)
    effects = scores + rng.normal(size=scores.shape)
    corr = spearmanr if method == "spearman" else pearsonr
    expected = np.mean([corr(scores[q], effects[q]).statistic for q in range(5)])
    assert loo_correlation(scores, effects, method=method) == pytest.approx(expected)


def test_loo_correlation_ignores_nan_columns(problem):
    scores = problem[0]
    effects = scores.copy()
    effects[:, :10] = np.nan  # not retrained
    effects[:, 10:] += np.random.default_rng(0).normal(size=(5, 30))
    expected = np.mean([spearmanr(scores[q, 10:], effects[q, 10:]).statistic for q in range(5)])
    assert loo_correlation(scores, effects) == pytest.approx(expected)
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        loo_correlation(scores, effects, method="kendall")
    with pytest.raises(DataValidationError, match="shape"):
        loo_correlation(scores, effects[:, :5])


def test_mislabel_auc_matches_sklearn():
    rng = np.random.default_rng(0)
    flipped = rng.random(200) < 0.1
    self_scores = rng.normal(size=200) + 1.5 * flipped
    self_scores[:20] = np.round(self_scores[:20])  # some ties
    assert mislabel_auc(self_scores, flipped) == pytest.approx(
        roc_auc_score(flipped, self_scores))
    assert mislabel_auc([1, 2, 3, 4], [False, False, True, True]) == 1.0
    assert mislabel_auc([4, 3, 2, 1], [False, False, True, True]) == 0.0
    with pytest.raises(DataValidationError, match="both"):
        mislabel_auc([1, 2], [True, True])
    with pytest.raises(DataValidationError, match="values"):
        mislabel_auc([1, 2, 3], [True, False])


def test_spearman_topk(problem):
    scores = problem[0]
    assert spearman_topk(scores, 3 * scores + 1, k=10) == pytest.approx(1.0)
    assert spearman_topk(scores, -scores, k=None) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    other = scores + rng.normal(scale=0.5, size=scores.shape)
    top = np.argsort(-np.abs(scores), axis=1)[:, :10]
    expected = np.mean([spearmanr(scores[q, top[q]], other[q, top[q]]).statistic
                        for q in range(5)])
    assert spearman_topk(scores, other, k=10) == pytest.approx(expected)
    assert spearman_topk(scores, other, k=1000) == pytest.approx(
        spearman_topk(scores, other, k=None))
    with pytest.raises(InvalidParameterError, match="'k' parameter"):
        spearman_topk(scores, other, k=2)
    with pytest.raises(DataValidationError, match="shape"):
        spearman_topk(scores, other[:2])
