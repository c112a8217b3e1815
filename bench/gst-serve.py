#!/usr/bin/python3
"""GStreamer's RTSP server serving one H.264 MP4 to many readers, for bench/serve.ts.

Run it with /usr/bin/python3 (the python3 first on PATH may lack `gi`). One SHARED media
factory on /bench, so every reader is fed from one pipeline, as rtspkit's server does:

  ( filesrc location=FILE ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )

The sinks sync on the pipeline clock, so the file plays in real time. It is not looped:
the benchmark makes the file longer than a run. Binds 127.0.0.1 on a free port, prints
`PORT <n>`, and runs until SIGTERM/SIGINT or until its stdin (a pipe) closes.

  gst-serve.py FILE
"""

import os
import sys

# The GI versions, main loop, signals, stdin lifeline and `PORT <n>` line the interop peers share.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'interop'))
from gst_common import serve  # noqa: E402  (first: it sets the GI versions)
from gi.repository import Gst, GstRtsp, GstRtspServer  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print('usage: gst-serve.py FILE', file=sys.stderr)
        return 2
    file = os.path.abspath(sys.argv[1])
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service('0')
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f'( filesrc location="{file}" ! qtdemux ! h264parse '
                       '! rtph264pay name=pay0 pt=96 config-interval=-1 )')
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    server.get_mount_points().add_factory('/bench', factory)
    return serve(server)


if __name__ == '__main__':
    sys.exit(main())
