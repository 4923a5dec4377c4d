"""The multilabel section of the report: the KNN's two labels and their F1."""
from __future__ import annotations

from gpuclf.report.html_page import table
from gpuclf.report.words import paragraph, pct


def _step_multilabel(f, doc) -> str:
    large, odd = (f.get("some_digit_prediction") or [None, None])[:2]
    return paragraph("A KNN predicts two labels per image at once: 'large' (7, 8 or 9) and 'odd'.",
              f"For 'some digit' it says large = {large}, odd = {odd}.",
              f"Averaging the two labels' F1 scores gives {pct(f.get('f1_macro'))} (macro, both labels weigh "
              f"the same) and {pct(f.get('f1_weighted'))} (weighted by how many images carry each label).") \
        + table(["Average", "F1"], [["macro", pct(f.get("f1_macro"))], ["weighted", pct(f.get("f1_weighted"))]])


HTML = {"multilabel": _step_multilabel}
PLOTS = ()
