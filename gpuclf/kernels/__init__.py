"""Numerical kernels written once against the array namespace ``xp``.

Every function takes NumPy or CuPy arrays and returns arrays of the same
namespace, so the CPU and GPU share one implementation. They are tested on
NumPy against scikit-learn and run on CuPy by the GPU backend.

Each module is one kernel family, imported by name (``from gpuclf.kernels import neighbors``); this
package imports none of them, so that loading one kernel does not load them all.
"""
__all__ = ["chunk_runs", "chunking", "cuda", "distance_bounds", "exact_distances", "folds", "images", "knn_cost",
           "knn_merge", "linear", "metrics", "neighbors", "pca", "preprocessing", "pruned_neighbors", "scoring",
           "sgd_step", "shifted_neighbors", "topk"]
