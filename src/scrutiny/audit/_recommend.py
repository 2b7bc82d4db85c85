"""From the use context to fairness criteria, each with a plain-language rationale.

The recommendation follows the Aequitas fairness tree (representation or
errors; punitive or assistive; how far the intervention reaches; among whom
equity matters most) and adds the allocation versus quality-of-service framing,
the costlier error, and the team's trust in labels and base rates. It lists
what it did not recommend, and why. It recommends; the team decides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scrutiny.audit._config import Context

#: criterion -> the metrics whose disparities express it
CRITERION_METRICS: dict[str, tuple[str, ...]] = {
    "equal_selection_parity": ("selection_count",),
    "demographic_parity": ("selection_rate",),
    "fp_gs_parity": ("false_positives_per_person",),
    "fdr_parity": ("false_discovery_rate",),
    "fpr_parity": ("false_positive_rate",),
    "recall_parity": ("true_positive_rate",),
    "fn_gs_parity": ("false_negatives_per_person",),
    "for_parity": ("false_omission_rate",),
    "fnr_parity": ("false_negative_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "predictive_parity": ("precision",),
    "accuracy_parity": ("error_rate", "balanced_accuracy"),
    "calibration_parity": ("ece", "brier"),
    "auc_parity": ("roc_auc",),
}

CRITERION_LABELS: dict[str, str] = {
    "equal_selection_parity": "Equal selection parity",
    "demographic_parity": "Demographic parity",
    "fp_gs_parity": "False positives per person parity",
    "fdr_parity": "False discovery rate parity",
    "fpr_parity": "False positive rate parity",
    "recall_parity": "Recall parity (equal opportunity)",
    "fn_gs_parity": "False negatives per person parity",
    "for_parity": "False omission rate parity",
    "fnr_parity": "False negative rate parity",
    "equalized_odds": "Equalized odds",
    "predictive_parity": "Predictive parity",
    "accuracy_parity": "Accuracy parity",
    "calibration_parity": "Calibration within groups",
    "auc_parity": "Ranking quality parity (ROC AUC)",
}

#: what each tree criterion compares, in plain words (used to say why it was left out)
CRITERION_QUESTION: dict[str, str] = {
    "equal_selection_parity": "compares the number of people selected in each group",
    "demographic_parity": "compares the share of each group that is selected",
    "fp_gs_parity": "compares people wrongly flagged per person in each group, whatever "
    "their outcome (a punitive intervention, equity among everyone)",
    "fdr_parity": "compares the share wrongly flagged among the people flagged (a punitive "
    "intervention, equity among those intervened on)",
    "fpr_parity": "compares the share wrongly flagged among people who did not warrant the "
    "intervention (a punitive intervention)",
    "recall_parity": "compares the share of people in need who are found (an assistive "
    "intervention that can reach only a few)",
    "fn_gs_parity": "compares people wrongly left without help per person in each group "
    "(an assistive intervention, equity among everyone)",
    "for_parity": "compares the share who needed help among the people left without it (an "
    "assistive intervention)",
    "fnr_parity": "compares the share missed among the people in need (an assistive "
    "intervention)",
    "equalized_odds": "compares both error rates at once",
    "predictive_parity": "compares precision, the share of flagged people who are positive",
    "accuracy_parity": "compares overall error rates",
    "calibration_parity": "compares whether scores mean the same in every group",
    "auc_parity": "compares how well the scores rank people in every group",
}

#: metrics always shown as context: group sizes, decisions, outcomes
CONTEXT_METRICS = ("count", "selection_rate", "base_rate")
SCORE_ONLY = frozenset({"ece", "brier", "roc_auc"})


@dataclass(frozen=True)
class Item:
    """One criterion, recommended or not, with the reason in plain language."""

    criterion: str
    label: str
    metrics: tuple[str, ...]
    role: str  # "primary", "supporting" or "not_recommended"
    rationale: str


@dataclass
class Recommendation:
    """Recommended criteria (primary first), the ones left out, and caveats."""

    recommended: list[Item] = field(default_factory=list)
    not_recommended: list[Item] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)

    @property
    def criteria(self) -> list[str]:
        """Names of the recommended criteria, primary first."""
        return [i.criterion for i in self.recommended]

    def metrics(self, *, has_score: bool = True) -> list[str]:
        """Metric names to compute: context metrics, then those of every recommended criterion."""
        out = list(CONTEXT_METRICS)
        for item in self.recommended:
            for m in item.metrics:
                if m not in out and (has_score or m not in SCORE_ONLY):
                    out.append(m)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form, stored in the audit record."""
        return {
            "path": list(self.path),
            "recommended": [_item_dict(i) for i in self.recommended],
            "not_recommended": [_item_dict(i) for i in self.not_recommended],
            "caveats": list(self.caveats),
        }


def _item_dict(item: Item) -> dict[str, Any]:
    d = asdict(item)
    d["metrics"] = list(item.metrics)
    return d


class _Builder:
    def __init__(self) -> None:
        self.rec = Recommendation()

    def add(self, criterion: str, role: str, rationale: str) -> None:
        if criterion in self.rec.criteria:
            return
        # a criterion is listed once: recommending it withdraws an earlier rejection
        self.rec.not_recommended = [
            i for i in self.rec.not_recommended if i.criterion != criterion
        ]
        self.rec.recommended.append(
            Item(criterion, CRITERION_LABELS[criterion], CRITERION_METRICS[criterion], role,
                 rationale)
        )

    def reject(self, criterion: str, reason: str) -> None:
        if criterion in self.rec.criteria or any(
            i.criterion == criterion for i in self.rec.not_recommended
        ):
            return
        self.rec.not_recommended.append(
            Item(criterion, CRITERION_LABELS[criterion], CRITERION_METRICS[criterion],
                 "not_recommended", reason)
        )


def recommend(context: Context) -> Recommendation:
    """Recommend fairness criteria and metrics for a use context.

    Parameters
    ----------
    context : Context
        The answers of the scoping step (``scrutiny init``).

    Returns
    -------
    Recommendation
        Primary and supporting criteria with rationales, the criteria not
        recommended with reasons, caveats, and the path taken through the
        fairness tree.

    Examples
    --------
    >>> from scrutiny.audit import Context, recommend
    >>> ctx = Context(decision="pre-trial detention", affected="defendants",
    ...               framing="allocation", fairness_goal="errors",
    ...               intervention="punitive", concern="not_in_need", labels_trusted=True)
    >>> recommend(ctx).criteria[0]
    'fpr_parity'
    """
    b = _Builder()
    path = b.rec.path
    goal = context.fairness_goal
    if goal == "unsure":
        goal = "errors" if context.framing != "quality_of_service" else "quality"
        path.append(
            "fairness goal not chosen: following the errors branch"
            if goal == "errors" else "fairness goal not chosen: quality-of-service framing"
        )
    if goal == "representation":
        _representation(b, context)
    elif goal == "errors":
        _errors(b, context)
    if context.framing in ("quality_of_service", "both") or goal == "quality":
        path.append(f"framing: {context.framing}")
        b.add(
            "accuracy_parity", "primary" if goal == "quality" else "supporting",
            "You said the model's quality of service matters: some people may simply get "
            "worse predictions. Error rate and balanced accuracy per group show who the model "
            "serves worse, whatever the decision it feeds.",
        )
        b.add(
            "calibration_parity", "supporting",
            "For quality of service, a score should mean the same for everyone: a 70 % risk "
            "should come true about 70 % of the time in every group (needs scores).",
        )
        b.add(
            "auc_parity", "supporting",
            "ROC AUC per group shows whether the model ranks people equally well in every "
            "group (needs scores).",
        )
    _costlier_error(b, context)
    _trust(b, context)
    _reject_rest(b, context)
    return b.rec


def _representation(b: _Builder, c: Context) -> None:
    b.rec.path.append("goal: representation (who is selected)")
    if c.representation == "equal_numbers":
        b.rec.path.append("equal numbers from each group")
        b.add(
            "equal_selection_parity", "primary",
            "You want the same number of people selected from each group, so the number "
            "selected per group is compared directly.",
        )
        b.reject(
            "demographic_parity",
            "You asked for equal numbers, not numbers proportional to group size.",
        )
    else:
        b.rec.path.append("proportional to group size")
        b.add(
            "demographic_parity", "primary",
            "You want each group selected in proportion to its size, so selection rates "
            "(the share of each group selected) should be similar.",
        )
        b.reject(
            "equal_selection_parity",
            "You asked for selection proportional to group size, not equal numbers.",
        )


def _errors(b: _Builder, c: Context) -> None:
    path = b.rec.path
    path.append("goal: errors (who is wrongly decided)")
    if c.intervention == "punitive":
        path.append("punitive intervention")
        concern = c.concern
        if concern not in PUNITIVE_CONCERNS:
            _concern_default(b, c, "people for whom intervention is not warranted")
        if concern == "everyone":
            path.append("equity among everyone, whatever their outcome")
            b.add(
                "fp_gs_parity", "primary",
                "The intervention is punitive and you care about everyone in a group, so the "
                "number of people wrongly punished per person in the group is compared.",
            )
        elif concern == "intervened":
            path.append("equity among people who are intervened on")
            b.add(
                "fdr_parity", "primary",
                "The intervention is punitive and you care about the people it is applied to, "
                "so among those flagged, the share wrongly flagged (false discovery rate) is "
                "compared.",
            )
        else:
            path.append("equity among people for whom intervention is not warranted")
            b.add(
                "fpr_parity", "primary",
                "The intervention is punitive, so the worst error is punishing someone who "
                "did not warrant it. Among people who do not warrant it, the share wrongly "
                "flagged (false positive rate) should be similar across groups.",
            )
    else:
        path.append("assistive intervention")
        if c.intervention_reach is None:
            b.rec.caveats.append(
                "You have not said whether the help can reach most of the people who need it "
                "or only a small fraction; the recommendation assumes most. If only a small "
                "fraction can be helped, recall parity is the usual choice."
            )
        if c.intervention_reach == "small_fraction":
            path.append("the intervention reaches only a small fraction of those in need")
            b.add(
                "recall_parity", "primary",
                "The help is assistive and scarce, so what matters is that people who need it "
                "are found at similar rates in every group (true positive rate, also called "
                "recall or equal opportunity).",
            )
        else:
            path.append("the intervention can reach most of those in need")
            concern = c.concern
            if concern not in ASSISTIVE_CONCERNS:
                _concern_default(b, c, "people with actual need")
            if concern == "everyone":
                path.append("equity among everyone, whatever their need")
                b.add(
                    "fn_gs_parity", "primary",
                    "The help is assistive and you care about everyone in a group, so the "
                    "number of people wrongly left without help per person is compared.",
                )
            elif concern == "not_intervened":
                path.append("equity among people who do not receive help")
                b.add(
                    "for_parity", "primary",
                    "The help is assistive and you care about the people left without it, so "
                    "among them the share who actually needed it (false omission rate) is "
                    "compared.",
                )
            else:
                path.append("equity among people with actual need")
                b.add(
                    "fnr_parity", "primary",
                    "The help is assistive, so the worst error is missing someone in need. "
                    "Among people in need, the share missed (false negative rate) should be "
                    "similar across groups.",
                )


#: the Aequitas question "among whom does predictive equity matter most?", per intervention
PUNITIVE_CONCERNS = ("everyone", "intervened", "not_in_need")
ASSISTIVE_CONCERNS = ("everyone", "not_intervened", "in_need")


def _concern_default(b: _Builder, c: Context, assumed: str) -> None:
    if c.concern is None:
        b.rec.caveats.append(
            "You have not said among whom equal errors matter most; the recommendation "
            f"assumes {assumed}. Answer `concern` to choose."
        )
    else:
        allowed = PUNITIVE_CONCERNS if c.intervention == "punitive" else ASSISTIVE_CONCERNS
        b.rec.caveats.append(
            f"The concern {c.concern!r} does not apply to "
            f"{'an' if c.intervention == 'assistive' else 'a'} {c.intervention} intervention "
            f"(expected one of {', '.join(allowed)}); the recommendation assumes {assumed}."
        )


def _costlier_error(b: _Builder, c: Context) -> None:
    who = f" ({c.costlier_error_for})" if c.costlier_error_for else ""
    if c.costlier_error == "false_positive":
        b.rec.path.append("false positives cost more")
        b.add("fpr_parity", "supporting",
              f"You said false positives are the costlier error{who}: compare who is wrongly "
              "flagged.")
    elif c.costlier_error == "false_negative":
        b.rec.path.append("false negatives cost more")
        b.add("fnr_parity", "supporting",
              f"You said false negatives are the costlier error{who}: compare who is wrongly "
              "missed.")
    elif c.costlier_error == "equal":
        b.rec.path.append("both errors cost the same")
        b.add("equalized_odds", "supporting",
              "You said both errors cost about the same, so both error rates are compared "
              "together (equalized odds: the larger of the two gaps).")
    else:
        b.rec.caveats.append(
            "You have not said which error is costlier. Deciding it, with the people affected, "
            "changes which gap matters most."
        )


def _trust(b: _Builder, c: Context) -> None:
    if not c.labels_trusted:
        if c.fairness_goal == "representation":
            b.rec.caveats.append(
                "You do not trust the recorded outcomes for every group. The representation "
                "criterion does not use them, but every error-based metric (true and false "
                "positive rates, precision...) does: read those gaps as possibly reflecting "
                "biased labels rather than the model."
            )
        else:
            b.rec.caveats.append(
                "You do not trust the recorded outcomes for every group. Every error-based "
                "metric (true and false positive rates, precision...) measures agreement with "
                "those outcomes, so its gaps may reflect biased labels rather than the model. "
                "Selection rates do not depend on the labels: they are shown as a label-free "
                "check."
            )
            b.add("demographic_parity", "supporting",
                  "Your outcome labels may be biased, so the share of each group selected, "
                  "which does not depend on labels, is compared as a check.")
    if not c.base_rates_trusted:
        b.rec.caveats.append(
            "You do not trust the observed base rates (for example because of unequal "
            "testing or policing). Predictive parity and calibration inherit that distortion."
        )


def _reject_rest(b: _Builder, c: Context) -> None:
    errors_goal = c.fairness_goal == "errors" or (
        c.fairness_goal == "unsure" and c.framing != "quality_of_service"
    )
    if c.fairness_goal == "representation":
        one_error = "your goal is about who is selected, not about errors."
    elif c.costlier_error == "unsure":
        one_error = ("the fairness tree singles out one error for your context (answer that "
                     "both errors cost the same if they do).")
    else:
        one_error = "your context singles out one error."
    reasons = {
        "predictive_parity": (
            "Predictive parity depends on base rates you said you do not trust."
            if not c.base_rates_trusted
            else "Predictive parity compares precision, which depends on the outcome labels; "
            "your goal is about who is selected."
            if c.fairness_goal == "representation"
            else "Predictive parity (equal precision) cannot hold together with equal error rates "
            "when base rates differ between groups, except for a perfect model; your context "
            "points to error-rate criteria instead."
        ),
        "demographic_parity": (
            "Equal selection rates ignore differences in actual outcomes; with trusted labels "
            "and an errors-based goal, forcing them equal would add errors for some group."
            if errors_goal
            else "Equal selection rates say nothing about how well the model serves each "
            "group, which is what your quality-of-service framing asks about."
        ),
        "equalized_odds": "Equalized odds weighs both errors equally; " + one_error,
        "equal_selection_parity": "You did not ask for equal numbers selected per group.",
        "accuracy_parity": (
            "Overall error rates mix false positives and false negatives, which harm people "
            "differently in an allocation; they are shown for quality-of-service framings."
        ),
        "calibration_parity": (
            "Calibration matters when scores are read as probabilities; your framing is about "
            "the decisions made, not the scores."
        ),
        "auc_parity": "ROC AUC ignores the decision threshold actually used.",
    }
    for crit in CRITERION_METRICS:
        if crit in b.rec.criteria:
            continue
        if crit in reasons:
            b.reject(crit, reasons[crit])
        else:
            b.reject(
                crit,
                f"It {CRITERION_QUESTION[crit]}: a different question from the one your "
                "answers lead to in the fairness tree.",
            )
