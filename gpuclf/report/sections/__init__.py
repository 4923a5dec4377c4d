"""The report's sections, one module per section of the chapter (as :mod:`gpuclf.chapter`): each step's
words and tables (``HTML``) and its figures (``PLOTS``), gathered here in chapter order."""
from gpuclf.report.html_page import esc, table
from gpuclf.report.sections import (
    binary,
    denoise,
    error_analysis,
    exercises,
    knn_plus,
    mnist,
    multiclass,
    multilabel,
    timing,
)

_SECTIONS = (mnist, binary, multiclass, error_analysis, multilabel, denoise, exercises, knn_plus)

#: Each step's paragraphs and tables: ``STEP_HTML[step](figures, doc) -> html``.
STEP_HTML = {step: html for section in _SECTIONS for step, html in section.HTML.items()}
#: Every figure, in the order the report shows them; ``step`` "run" is the timing section.
PLOTS = tuple(plot for section in (*_SECTIONS, timing) for plot in section.PLOTS)


def step_html(step: str, figures: dict, doc: dict) -> str:
    """The paragraphs and tables of one step; a step this version does not know gets its raw figures."""
    if isinstance(figures.get("skipped"), str):
        return f"<p class=note>Skipped: {esc(figures['skipped'])}.</p>"
    try:
        return STEP_HTML[step](figures, doc)
    except (KeyError, TypeError, ValueError):
        # Results from another gpuclf version: show what is there rather than fail.
        return table(["Figure", "Value"], [[k, str(v)] for k, v in figures.items()])


__all__ = ["PLOTS", "STEP_HTML", "step_html"]
