"""The private fit on CUDA: skipped where there is no GPU (CI never has one)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from tabgan import Synthesizer
from tabgan.privacy.dp_training import clipped_gradient_sum, per_sample_gradients

from .conftest import TINY
from .test_privacy import DECLARED, table

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def test_private_fit_on_cuda_is_reproducible_and_within_budget():
    params = {**TINY, "device": "cuda", "epsilon": 1.0, "random_state": 0}
    a = Synthesizer(**params).fit(table(), metadata=DECLARED)
    b = Synthesizer(**params).fit(table(), metadata=DECLARED)
    assert a.device_.type == "cuda" and a.epsilon_ <= 1.0
    pd.testing.assert_frame_equal(a.sample(200, random_state=1), b.sample(200, random_state=1))


def test_ghost_clipping_matches_torch_func_on_cuda():
    from .test_privacy_training import make_trainer

    trainer = make_trainer(gp_weight=10.0)
    cuda = torch.device("cuda")
    trainer.D.to(cuda)
    trainer.D.power_iteration()
    with torch.no_grad():
        real, fake, mixed, masks = trainer.private_batch()
    batch = (real.to(cuda), fake.to(cuda), mixed.to(cuda),
             tuple(None if m is None else [t.to(cuda) for t in m] for m in masks))
    kw = dict(loss="wgan-gp", smooth=1.0, gp_weight=10.0)
    per_row = per_sample_gradients(trainer.D, *batch, **kw)
    ref = torch.stack([g.reshape(len(real), -1).norm(dim=1) for g in per_row], 1).norm(dim=1)
    _, norms, _ = clipped_gradient_sum(trainer.D, *batch, max_grad_norm=1.0, **kw)
    torch.testing.assert_close(norms, ref, rtol=1e-3, atol=1e-5)

