"""The vectors the capability router searches: rows (a capability's description and examples,
or a labelled query) grouped by the capability that owns them, searched exactly with numpy
for small sets and through an approximate HNSW index (faiss; inner product of unit vectors)
beyond a size threshold. The index is built lazily on the first search that needs it and
extended in place when rows are added."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]

EXACT_BELOW = 4096  # rows: below this a numpy scan is as fast as the approximate index


class Rows:
    """Unit vectors with the index of the capability owning each, sorted by owner, so one
    capability's rows are contiguous (`span(caps)` finds them without a scan)."""

    def __init__(self, dim: int, exact_below: int = EXACT_BELOW) -> None:
        self.vectors: Matrix = np.zeros((0, dim), dtype=np.float32)
        self.owners: Ints = np.zeros(0, dtype=np.int64)
        self.exact_below = exact_below
        self._hnsw: Any = None

    def __len__(self) -> int:
        return int(self.owners.shape[0])

    def extend(self, vectors: Matrix, owners: Ints) -> None:
        """Add rows; owners must not be below the current last owner (new capabilities go last)."""
        order = np.argsort(owners, kind="stable")
        vectors, owners = vectors[order].astype(np.float32), owners[order].astype(np.int64)
        if len(self) and owners.size and owners[0] < self.owners[-1]:
            raise ValueError("rows must be added for capabilities after the existing ones")
        self.vectors = np.concatenate([self.vectors, vectors])
        self.owners = np.concatenate([self.owners, owners])
        if self._hnsw is not None and owners.size:
            _add(self._hnsw, vectors)  # faiss numbers rows in the order they are added

    def span(self, caps: Ints) -> tuple[Ints, Ints]:
        """The rows owned by `caps` (sorted capability indices), and each row's position in
        `caps`."""
        lo = np.searchsorted(self.owners, caps, side="left")
        hi = np.searchsorted(self.owners, caps, side="right")
        counts = hi - lo
        if not counts.sum():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        column = np.repeat(np.arange(caps.size, dtype=np.int64), counts)
        offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(counts) - counts, counts
        )
        return (np.repeat(lo, counts) + offsets).astype(np.int64), column

    @property
    def approximate(self) -> bool:
        return len(self) >= self.exact_below

    def nearest(self, query: Matrix, count: int) -> Ints:
        """The rows nearest one query (exact below the threshold, HNSW above)."""
        count = min(count, len(self))
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        if not self.approximate:
            sims = self.vectors @ query
            top = np.argpartition(-sims, count - 1)[:count] if count < sims.size else None
            return np.arange(sims.size, dtype=np.int64) if top is None else top.astype(np.int64)
        index = self._index()
        index.hnsw.efSearch = max(64, count)
        _, rows = index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), count)
        return np.asarray(rows[0][rows[0] >= 0], dtype=np.int64)

    def _index(self) -> Any:
        if self._hnsw is None:
            import faiss

            index = faiss.IndexHNSWFlat(self.vectors.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 128
            _add(index, self.vectors)
            self._hnsw = index
        return self._hnsw


def _add(index: Any, vectors: Matrix) -> None:
    """Add rows on one thread: the graph, hence every decision, is the same on every build."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    finally:
        faiss.omp_set_num_threads(threads)
