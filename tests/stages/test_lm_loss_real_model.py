"""LM loss with a real pretrained LM (SmolLM2-135M-Instruct from `make models`), as CCI4.0 scores with Qwen2.5-3B.

A handful of documents only: real prose must get a lower loss than word salad and symbol soup, which a
stand-in trained on the sample itself could not show honestly.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from curate.engine.pipeline import run_in_memory
from curate.stages.lm_loss import LMLoss, LMLossParams

pytestmark = pytest.mark.slow

PROSE = [
    ("The kernel schedules processes by priority. A process waiting for input sleeps until the data arrives, "
     "and then it is put back on the run queue."),
    "Python lists keep their order. Appending adds an item at the end, and slicing returns a new list.",
]
JUNK = [
    "cheap cheap buy now click best deal deal free win click now cheap free best",
    "#@! %% ^^ ~~ ## @@ !! $$ && ** (( )) ## %% @@ !! ^^ ~~ $$",
]


def test_real_lm_ranks_prose_below_junk(real_model):
    unit = pa.table({"id": ["p1", "p2", "j1", "j2"], "text": PROSE + JUNK})
    stage = LMLoss(LMLossParams(model=real_model, window=128, context=16, batch_tokens=1024))
    kept, rejected = run_in_memory([("lm_loss", stage)], [unit])
    assert rejected is None
    loss = dict(zip(kept.column("id").to_pylist(), kept.column("lm_loss").to_pylist()))
    assert max(loss["p1"], loss["p2"]) < min(loss["j1"], loss["j2"]), loss
