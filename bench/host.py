"""Readings of this machine from /proc for bench/run.py: how busy other work keeps its CPUs, and
the memory (RSS) of the gunicorn workers measured.
"""

import threading
import time
from pathlib import Path


def other_work(seconds=5.0):
    """The share of the machine's CPUs busy over `seconds` while this benchmark runs nothing:
    the load other work puts on the machine at the moment."""

    def times():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields[:8]), idle

    total, idle = times()
    time.sleep(seconds)
    total2, idle2 = times()
    return 1 - (idle2 - idle) / max(total2 - total, 1)


def worker_pids(master):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler(threading.Thread):
    def __init__(self, master):
        super().__init__(daemon=True)
        self.master, self.peak, self.stop = master, 0.0, threading.Event()

    def run(self):
        while not self.stop.wait(0.5):
            for pid in worker_pids(self.master):
                self.peak = max(self.peak, rss_mb(pid))
