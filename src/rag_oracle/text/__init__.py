"""The shared text layer: sentences, the lexical analyzer, quantities, citation markers and what
gets embedded for a passage.

A leaf package: every stage may import it, and it imports no stage (only `rag_oracle.types`
and `rag_oracle.errors` are allowed, and it needs neither today). Keeping the analyzer here is
what lets BM25 indexing, the extractive generator's word overlap, citation verification,
conflict detection, related questions and follow-up rewriting tokenise a word the same way.
"""
