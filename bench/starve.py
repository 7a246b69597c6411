#!/usr/bin/env python3
"""Honest latency under abuse: how long an honest request waits while one address hammers the server.

usage: bench/starve.py ARCADED CONNS REQUEST PIPELINE [SERVER OPTION...]

Starts ARCADED on a fresh database with a board of 100 ranked players (50 matches of one round,
played over the protocol), then opens CONNS connections from 127.0.0.2, each sending REQUEST
(e.g. 't100\\n') PIPELINE times per write and reading the answers, as fast as it can. Meanwhile, from
127.0.0.1, one `a2` every 50 ms for 5 s on a fresh connection; prints the median, p90 and max time to
its answer, the server's CPU seconds and the attack answers served. Loopback addresses only.
"""
import os, re, socket, statistics, subprocess, sys, tempfile, threading, time

binary, conns, request, pipeline = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
request = request.encode().decode('unicode_escape').encode()
tmp = tempfile.mkdtemp(prefix='arcade-starve-')
log = open(os.path.join(tmp, 'log'), 'w')
server = subprocess.Popen([binary, '--port', '0', '--db', os.path.join(tmp, 'arcade.db')] + sys.argv[5:], stderr=log)
first = ''
while 'listening' not in first:
    time.sleep(0.05)
    first = open(os.path.join(tmp, 'log')).readline()
port = int(re.search(r':(\d+) ', first).group(1))

def dial(source):
    s = socket.socket()
    s.bind((source, 0))
    s.connect(('127.0.0.1', port))
    s.settimeout(30)
    return s

def recv_n(s, n):
    b = b''
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError('server closed')
        b += d
    return b

for i in range(50):
    a, b = dial('127.0.0.1'), dial('127.0.0.1')
    for s, name in ((a, b'pa%02d' % i), (b, b'pb%02d' % i)):
        s.sendall(b'H\x04' + name)
        recv_n(s, 6)
    a.sendall(b'P'); recv_n(a, 1)
    b.sendall(b'P'); recv_n(b, 6); recv_n(a, 6)
    a.sendall(b'2'); b.sendall(b'1'); recv_n(a, 3); recv_n(b, 3)
    a.close(); b.close()
time.sleep(1.2)     # the once-a-second fold: the board is settled

stop = threading.Event()
served = [0]
end = b'.\n' if request[:1] in (b't', b'r') else b'\n'

def attack():
    s = dial('127.0.0.2')
    try:
        while not stop.is_set():
            s.sendall(request * pipeline)
            n = 0
            while n < pipeline:
                d = s.recv(1 << 20)
                if not d:
                    return
                n += d.count(end)
            served[0] += pipeline
    except OSError:
        pass
    finally:
        s.close()

def cpu():
    f = open(f'/proc/{server.pid}/stat').read().split(')')[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')

threads = [threading.Thread(target=attack, daemon=True) for _ in range(conns)]
for t in threads:
    t.start()
time.sleep(0.5)
cpu0, waits, stop_at = cpu(), [], time.time() + 5
while time.time() < stop_at:
    h = dial('127.0.0.1')
    t0 = time.time()
    h.sendall(b'a2\n')
    assert recv_n(h, 3) == b'd4\n'
    waits.append(time.time() - t0)
    h.close()
    time.sleep(0.05)
used = cpu() - cpu0
stop.set()
server.terminate()
server.wait()
waits.sort()
print(f'{conns} connections from 127.0.0.2 pipelining {pipeline} x {request!r}: honest a2 median '
      f'{statistics.median(waits) * 1000:.1f} ms, p90 {waits[int(len(waits) * 0.9)] * 1000:.1f} ms, max '
      f'{waits[-1] * 1000:.1f} ms ({len(waits)} requests); server CPU {used:.1f} s in 5 s; '
      f'{served[0]} attack answers')
