"""Sessions: a lesson's worker that outlives the app, and the worker on another machine.

link.py (one byte stream: a version greeting, tagged and bounded frames, a heartbeat)
-> codec.py (sandbox events <-> frames, validated and sanitised on the way in) ->
ring.py (the host's sequence-numbered ring buffer and each cell's latest state) ->
host.py (the session host: owns a SandboxClient, serves one attached app) and
client.py (the app's side: the SandboxClient API over a link). places.py says where
sockets and session files live; transport.py opens a link to a local host (starting it
when needed) or through the system ``ssh``. Stdlib only; nothing here imports textual,
rich or torch.
"""
