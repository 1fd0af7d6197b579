"""Ingestion stage: loaders (PDF, PubMed XML, JATS XML, Markdown, text, JSONL), chunking, the ingest pipeline."""
