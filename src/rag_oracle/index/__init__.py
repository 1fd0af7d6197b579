"""Index stage: the on-disk index directory (FAISS + BM25 + chunk store + manifest)."""
