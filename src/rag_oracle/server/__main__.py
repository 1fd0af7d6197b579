"""`python -m rag_oracle.server [OPTIONS]`: the same as `rag-oracle serve`."""

from rag_oracle.cli_serve import run_standalone, serve

if __name__ == "__main__":
    run_standalone(serve)
