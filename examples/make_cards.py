"""Write a Hugging Face Hub model card from the demo audit, and a dataset card for UCI Adult.

Run: python examples/make_cards.py [--out DIR]

The demo audit trains a logistic regression on the bundled Adult data and audits it (about
ten seconds). The model card is filled in from that audit record; the dataset card from a
profile of the data. Both are checked offline and their completeness scores printed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from scrutiny.audit._demo import run_demo
from scrutiny.cards import dataset_card_from_data, model_card_from_audit, validate_card
from scrutiny.datasets import ADULT_SENSITIVE, adult_path

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--out", type=Path, default=None, help="folder for the cards")
args = parser.parse_args()

with tempfile.TemporaryDirectory(prefix="scrutiny-cards-") as tmp:
    out = args.out or Path(tmp)
    audit_dir = Path(tmp) / "audit"
    run_demo(audit_dir)  # writes audit.json, report.html, ... and model.skops

    # 1. The model card, from the audit record alone
    card = model_card_from_audit(
        audit_dir,
        model_id="adult-income-lr",
        metadata={"license": "apache-2.0", "language": ["en"], "tags": ["inclusive"]},
        dataset_id="scrutiny/adult-demo",
        dataset_name="UCI Adult (bundled with scrutiny)",
        dataset_split="test",
    )
    report = validate_card(card)
    print(f"Model card from the audit: completeness {report.completeness:.0%}, "
          f"metadata {'valid' if report.ok else 'INVALID'}")
    print("  still to fill in:", ", ".join(report.placeholders))

    # 2. What only the team can say: fill some sections by hand
    card.how_to_get_started = (
        "```python\nimport skops.io as sio\n\n"
        "model = sio.load('model.skops', trusted=sio.get_untrusted_types(file='model.skops'))\n"
        "```"
    )
    card.training.data = (
        "The UCI Adult training split bundled with scrutiny (1994 US census extract); see its "
        "dataset card."
    )
    card.training.hyperparameters = (
        "Logistic regression (scikit-learn, `max_iter=1000`) on standardised numeric "
        "features and one-hot encoded categories."
    )
    card.contact = "The demo's model owner."
    report = validate_card(card)
    print(f"After filling four sections by hand: completeness {report.completeness:.0%}")
    md = card.save(out / "model" / "README.md")
    card.save(out / "model" / "card.html")

    # 3. The dataset card, from a profile of the data
    dcard = dataset_card_from_data(
        adult_path(), label="income", sensitive_features=list(ADULT_SENSITIVE),
        name="UCI Adult", metadata={"license": "cc-by-4.0"},
    )
    dreport = validate_card(dcard)
    print(f"Dataset card from the data: completeness {dreport.completeness:.0%}, "
          f"metadata {'valid' if dreport.ok else 'INVALID'}")
    dmd = dcard.save(out / "dataset" / "README.md")
    dcard.save(out / "dataset" / "card.html")

    if args.out:
        print(f"Wrote {md}, {dmd} and their card.html views")
    else:
        print("(pass --out DIR to keep the cards)")
