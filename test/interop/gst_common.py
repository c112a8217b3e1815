"""What every GStreamer peer script here shares: attach the RTSP server, print `PORT <n>`,
run the GLib main loop until SIGTERM, SIGINT or the end of stdin; and the GI versions
(Gst, GstRtsp, GstRtspServer 1.0) they all load.

Imported by test/interop/gst-rtsp-server.py, gst-onvif-server.py and bench/gst-serve.py
(the bench puts this folder on sys.path). Run them with /usr/bin/python3.
"""

import os
import signal
import stat
import sys

import gi

# Before any `from gi.repository import` of the scripts: they import this module first.
gi.require_version('Gst', '1.0')
gi.require_version('GstRtsp', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib  # noqa: E402


def serve(server):
    """Attach `server` (an RTSPServer bound to port 0), print `PORT <n>` and run until told
    to stop. Returns the process exit code: 1 when the server cannot attach, else 0."""
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print('cannot attach the RTSP server', file=sys.stderr)
        return 1

    def quit_loop(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, quit_loop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, quit_loop)

    def on_stdin(fd, condition):
        if condition & (GLib.IO_HUP | GLib.IO_ERR):
            return quit_loop()
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b''
        if not data:
            return quit_loop()
        return GLib.SOURCE_CONTINUE

    # Only a pipe or socket on stdin is a lifeline (a spawning test: Node's stdio pipes are
    # socketpairs); /dev/null or a terminal is not.
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT,
                              GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    except (OSError, ValueError):
        pass

    print(f'PORT {server.get_bound_port()}', flush=True)
    loop.run()
    return 0
