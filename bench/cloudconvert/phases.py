#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where the time of one bench run went: each module's duration from the
execution document (scenarioctl --json execution ID), and convert_file
split into three phases at the edges of its blocking sync-host wait, as
the fake server's journal records it (the time it answered and how long
it took):

  upload    from the module's start to the first sync GET: creating the
            job and streaming the file to the storage host
  job       the sync GETs: the fake hashing and "converting" the file
  download  from the last sync answer to the module's end: the download
            GET streamed into a blob, and the blob committed

    phases.py EXECUTION_JSON FAKE_BASE_URL
"""

import datetime
import json
import sys
import urllib.request


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main(execution_path, base):
    with open(execution_path) as f:
        execution = json.load(f)
    ops = execution["operations_list"]
    print("modules: " + "  ".join("%s %.2f s" % (op["module"], op["duration_ms"] / 1000)
                                  for op in ops))
    with urllib.request.urlopen(base + "/__admin/journal", timeout=30) as response:
        journal = [json.loads(line) for line in response.read().decode().splitlines()
                   if line.strip()]
    convert = next((op for op in ops if op["module"] == "cloudconvert.convert_file"), None)
    syncs = [e for e in journal if e["surface"] == "sync"]
    if not (convert and syncs):
        return
    start = instant(convert["started_at"])
    end = start + convert["duration_ms"] / 1000
    wait_start = instant(syncs[0]["time"]) - syncs[0]["duration_ms"] / 1000
    wait_end = instant(syncs[-1]["time"])
    print("convert_file: upload %.2f s  job %.2f s  download %.2f s"
          % (wait_start - start, wait_end - wait_start, end - wait_end))
    print("requests: %d API, %d sync, %d storage"
          % tuple(sum(e["surface"] == s for e in journal) for s in ("api", "sync", "storage")))

if __name__ == "__main__":
    main(*sys.argv[1:3])
