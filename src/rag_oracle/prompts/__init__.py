"""The released prompt templates, shipped as package data: `<id>/v<N>.yaml` and `lock.json`.

Nothing to import here: `rag_oracle.generate.prompts` finds this folder through
`importlib.resources` (or RAG_ORACLE_PROMPTS_DIR when set). In a checkout the repository's
`prompts/` is a symlink to this folder, so `prompts/answer/v2.yaml` is the file to copy when
writing a new version.
"""
