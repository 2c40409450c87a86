"""The sample sheet of a retrieval run (after the thesis's figure 4.6): each row is a query's
render and the three best crops with their cosine; failures first, then successes.

Figures made from real photos are written outside git (./artifacts/ is ignored).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from alphabet.render import render
from model.embed import TFEmbedder
from model.gallery import Dataset
from model.retrieval import Ranking

ROWS = 12


def draw(
    embedder: TFEmbedder,
    queries: list[str],
    ranking: Ranking,
    ds: Dataset,
    images: list[npt.NDArray[np.uint8]],
    path: Path,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(ranking.rank, kind="stable")[::-1]
    fails = [int(i) for i in order if ranking.rank[i] > 1][: ROWS // 2]
    rng = np.random.default_rng(0)
    goods = [int(i) for i in np.flatnonzero(ranking.rank == 1)]
    picks = fails + [int(i) for i in rng.permutation(goods)[: ROWS - len(fails)]]
    fig, axes = plt.subplots(len(picks), 4, figsize=(10, 1.1 * len(picks) + 0.5), squeeze=False)
    for row, qi in enumerate(picks):
        axes[row][0].imshow(render(queries[qi]), cmap="gray")
        axes[row][0].set_title(f"query {queries[qi]} (rank {min(ranking.rank[qi], 999)})",
                               fontsize=7)  # fmt: skip
        for col in range(3):
            ax = axes[row][col + 1]
            if col < ranking.top.shape[1]:
                g = int(ranking.top[qi, col])
                ax.imshow(cv2.cvtColor(images[g], cv2.COLOR_BGR2RGB))
                ok = ds.texts[g] == queries[qi]
                ax.set_title(f"{ds.texts[g]}  {ranking.top_scores[qi, col]:.3f}", fontsize=7,
                             color="green" if ok else "red")  # fmt: skip
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(f"{ds.folder.name}: {embedder.version}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
