"""The chapter's first section, MNIST: the data's sizes, class counts and first digits."""
from __future__ import annotations

from gpuclf.chapter.context import Context


def step_data(ctx: Context) -> dict:
    """Sizes, class counts and the first digits."""
    ctx.arrays["digits"] = ctx.host(ctx.data.X_train[:100])
    ctx.arrays["digit_labels"] = ctx.data.y_train[:100]
    return ctx.data.summary()
