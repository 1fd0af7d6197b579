"""Fetch throughput of `pubmed fetch` (ingest/eutils.py) against the loopback E-utilities server.

The server (rag_oracle/testing/eutils_server.py) answers in microseconds, so what this measures is the
client: the rate limit NCBI documents (3 requests a second without an API key, 10 with one), batches
of 200, XML parsing and the batch files written. Throughput against NCBI itself is bounded by the same
limits and by NCBI's answer times (seconds for a batch of 200 at busy hours), so read these as ceilings.
Each fault run adds 429s, a 500 and a truncated batch to show the cost of retries.

    python benchmarks/pubmed_fetch.py                 # 3,000 records at 3/s and 10/s, then with faults
    python benchmarks/pubmed_fetch.py --records 1000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rag_oracle.ingest.eutils import EutilsClient, fetch
from rag_oracle.testing.eutils_server import EutilsServer, fixture_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3000)
    args = parser.parse_args()
    records = fixture_records(args.records)
    print(f"== pubmed fetch throughput: {args.records} fixture records, batches of 200 ==")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    with tempfile.TemporaryDirectory() as tmp, EutilsServer(records) as server:
        for label, rate, faults in (
            ("no key (3 requests/s)", 3.0, {}),
            ("API key (10 requests/s)", 10.0, {}),
            ("no key, 2x429 + 500 + truncated", 3.0, {"efetch": ["429", "429", "500", "truncate"]}),
        ):
            server.faults = {k: list(v) for k, v in faults.items()}
            client = EutilsClient(server.url, email="bench@example.org", api_key="", per_second=rate, backoff=1.0)
            t = time.perf_counter()
            report = fetch(client, "all[sb]", Path(tmp) / label.replace(" ", "_"), max_records=args.records)
            seconds = time.perf_counter() - t
            print(
                f"  {label:<34} {len(report.pmids) / seconds:7.1f} records/s   {seconds:6.2f} s   "
                f"{report.requests} requests ({report.retries} retried)   {report.requests / seconds:.2f} requests/s"
            )


if __name__ == "__main__":
    main()
