"""py-spy record of a server while a load runs, reduced to its top frames.

``--profile`` runs each profiled load a second time, after the measured one, so the
sampling never slows a figure that is reported as a measurement.
"""

import collections
import os
import shutil
import subprocess
import sys


def executable():
    candidate = os.path.join(os.path.dirname(sys.executable), 'py-spy')
    return candidate if os.path.exists(candidate) else shutil.which('py-spy')


class Recorder:
    """``py-spy record --subprocesses`` of the arbiter (so every worker).

    With ``gil`` only samples of threads holding the GIL count: Python CPU
    time, what bounds the requests a worker serves. Without it, threads
    waiting in C (a database round trip, hashlib, a write) count too.
    """

    def __init__(self, pid, out_path, rate=200, gil=False):
        self.out_path = out_path
        argv = [executable(), 'record', '--pid', str(pid), '--subprocesses',
                '--nonblocking', '--nolineno', '--rate', str(rate),
                '--format', 'raw', '--output', out_path]
        if gil:
            argv.append('--gil')
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)

    def stop(self):
        """SIGINT makes py-spy write what it has; returns the summary."""
        self.proc.send_signal(2)
        try:
            _out, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _out, err = self.proc.communicate()
        if not os.path.exists(self.out_path):
            return {'error': err.decode('utf-8', 'replace')[-500:]}
        return summarize(self.out_path)


def _frames(stack):
    """Frames of one collapsed stack, without py-spy's process/thread roots."""
    return [f for f in stack.split(';')
            if not f.startswith(('process ', 'thread '))]


def _short(frame):
    # 'read (gunicorn/http/body.py)' with site-packages paths cut short.
    for marker in ('site-packages/', 'lib/python3.11/', 'lib/python3.12/'):
        if marker in frame:
            head, _sep, tail = frame.partition('(')
            return head + '(' + tail.split(marker, 1)[1]
    return frame


def summarize(path, top=15):
    """Top leaf (self) frames and top inclusive frames, as % of samples."""
    leaf = collections.Counter()
    inclusive = collections.Counter()
    total = 0
    with open(path) as raw:
        for line in raw:
            stack, _sep, count = line.rstrip('\n').rpartition(' ')
            if not stack:
                continue
            count = int(count)
            frames = [_short(f) for f in _frames(stack)]
            if not frames:
                continue
            total += count
            leaf[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count

    def pct(counter):
        return [[frame, round(100.0 * n / total, 1)]
                for frame, n in counter.most_common(top)]
    return {'samples': total, 'self_pct': pct(leaf),
            'inclusive_pct': pct(inclusive), 'raw': path}
