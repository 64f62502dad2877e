"""Print nginx's master PID and its worker PIDs as JSON (minbase images have no ps)."""

import json
import os

with open("/run/nginx.pid", encoding="ascii") as f:
    master = int(f.read())
workers = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            ppid = next(int(line.split()[1]) for line in f if line.startswith("PPid:"))
    except (OSError, StopIteration):
        continue  # gone meanwhile
    if ppid == master:
        workers.append(int(pid))
print(json.dumps({"master": master, "workers": sorted(workers)}))
