"""Build-time work: manifest → function configs, requirements installed once per content hash,
code snapshots a deployed version runs from, and the watcher that redeploys on change."""
