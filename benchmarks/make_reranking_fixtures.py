"""Writes the PCA-whitening fixtures under Tests/VectorSearchTests/Fixtures (whitening_*.npy).

Reference: scikit-learn's PCA(n_components=D, whiten=True) fitted on `whitening_database`,
applied to `whitening_queries`, then L2-normalized row by row (Jégou and Chum 2012), and the
explained variances (eigenvalues of the covariance with the n - 1 denominator), checked
against numpy's eigh of the same covariance.

Run: .venv/bin/python benchmarks/make_reranking_fixtures.py
"""
import pathlib

import numpy as np
from sklearn.decomposition import PCA

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/VectorSearchTests/Fixtures"
DIMENSION = 6

rng = np.random.default_rng(14)
# Anisotropic, correlated data with well-separated variances, so every component is well defined.
scales = np.geomspace(4.0, 0.25, 12)
mixing = np.linalg.qr(rng.standard_normal((12, 12)))[0]
database = (rng.standard_normal((300, 12)) * scales) @ mixing.T + 0.5
queries = (rng.standard_normal((20, 12)) * scales) @ mixing.T + 0.5
database = database.astype(np.float32)
queries = queries.astype(np.float32)

pca = PCA(n_components=DIMENSION, whiten=True, svd_solver="full").fit(database.astype(np.float64))
whitened = pca.transform(queries.astype(np.float64))
whitened /= np.linalg.norm(whitened, axis=1, keepdims=True)
covariance = np.cov(database.astype(np.float64), rowvar=False)
eigenvalues = np.linalg.eigh(covariance)[0][::-1][:DIMENSION]
assert np.allclose(eigenvalues, pca.explained_variance_, rtol=1e-10), "numpy and scikit-learn disagree"

np.save(OUT / "whitening_database.npy", database)
np.save(OUT / "whitening_queries.npy", queries)
np.save(OUT / "whitening_expected.npy", whitened.astype(np.float32))
np.save(OUT / "whitening_eigenvalues.npy", pca.explained_variance_.astype(np.float32))
print(f"wrote whitening fixtures to {OUT}: {DIMENSION} of {database.shape[1]} dimensions,"
      f" eigenvalues {np.round(pca.explained_variance_, 4).tolist()}")
