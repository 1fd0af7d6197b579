"""`python -m rag_oracle.cli [ARGS]`: the same as `rag-oracle [ARGS]`."""

from rag_oracle.cli import main

if __name__ == "__main__":
    main()
