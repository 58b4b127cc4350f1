"""Hot reload: time from saving a function's code to ``skylet up`` serving the new code.

A copy of the bench hello world is served by ``skylet up`` (reload on, the default); each sample
rewrites the handler file with a new version number, then invokes it as fast as the loop allows
until the new version answers. Budget (issue 3): p50 ≤ 300 ms.
"""

from __future__ import annotations

import http.client
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import FUNCTIONS, percentile, skylet_up, table

SAMPLES = 30
HANDLER = 'def handler(event, context):\n    return {{"statusCode": 200, "body": "v{n}"}}\n'


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(FUNCTIONS, project, ignore=shutil.ignore_patterns("__pycache__"))
        times = []
        with skylet_up(project) as port:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            time.sleep(0.5)  # the watcher is in place
            for n in range(1, SAMPLES + 1):
                started = time.perf_counter()
                (project / "hello.py").write_text(HANDLER.format(n=n))
                while True:
                    conn.request("POST", "/2015-03-31/functions/hello/invocations", body=b"{}")
                    body = conn.getresponse().read()
                    if f'"v{n}"'.encode() in body:
                        break
                times.append((time.perf_counter() - started) * 1000)
                time.sleep(0.2)
    table(
        "hot reload: file saved → new code serving",
        [("skylet up (watchfiles, code snapshots)", SAMPLES, percentile(times, 50),
          percentile(times, 99), "budget p50 <= 300 ms")],
    )  # fmt: skip


if __name__ == "__main__":
    main()
