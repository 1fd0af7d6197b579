"""`python -m rag_oracle.server [OPTIONS]`: the same as `rag-oracle serve`."""

from rag_oracle.cli.errors import run_standalone
from rag_oracle.cli.serve import serve

if __name__ == "__main__":
    run_standalone(serve)
