"""Numerical kernels written once against the array namespace ``xp``.

Every function takes NumPy or CuPy arrays and returns arrays of the same
namespace, so the CPU and GPU share one implementation. They are tested on
NumPy against scikit-learn and run on CuPy by the GPU backend.
"""
