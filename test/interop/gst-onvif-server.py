#!/usr/bin/python3
"""GStreamer's ONVIF RTSP server (RTSPOnvifServer) as a real peer for back-channel tests.

Run it with /usr/bin/python3 (the python3 first on PATH may lack `gi`). It binds
127.0.0.1 on a free port, prints `PORT <n>` once listening, and runs until SIGTERM,
SIGINT or until its stdin (a pipe) closes.

  gst-onvif-server.py --backchannel-out FILE [--codec PCMU|PCMA]

Mounts:
  /backchannel  H.264 video (the camera's stream) and, when DESCRIBE carries
                `Require: www.onvif.org/ver20/backchannel`, an a=sendonly audio track
                whose RTP (G.711, payload 0 or 8, 8 kHz) is decoded to raw S16LE mono
                8 kHz and written to FILE (unbuffered). `UNPREPARED` is printed when a
                media is torn down, i.e. FILE is complete.
"""

import argparse
import os
import signal
import stat
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

VIDEO = ('videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1 '
         '! x264enc tune=zerolatency speed-preset=ultrafast bitrate=500 key-int-max=15 '
         '! rtph264pay name=pay0 pt=96 config-interval=-1')

CODECS = {
    # encoding name -> (static payload type, depayloader, decoder)
    'PCMU': (0, 'rtppcmudepay', 'mulawdec'),
    'PCMA': (8, 'rtppcmadepay', 'alawdec'),
}


def backchannel_launch(codec, out):
    pt, depay, dec = CODECS[codec]
    # The sink must not wait for preroll (async=false), or the media never prepares
    # (gst_rtsp_onvif_media_factory_set_backchannel_launch).
    return (f'( capsfilter caps="application/x-rtp, media=audio, payload={pt}, clock-rate=8000, '
            f'encoding-name={codec}" name=depay_backchannel ! {depay} ! {dec} '
            f'! audio/x-raw,format=S16LE,rate=8000,channels=1 '
            f'! filesink location="{out}" buffer-mode=unbuffered async=false sync=false )')


def main():
    p = argparse.ArgumentParser(description='GStreamer ONVIF RTSP server with a back-channel (127.0.0.1, free port)')
    p.add_argument('--backchannel-out', required=True, help='raw S16LE 8 kHz mono file for what the client sends')
    p.add_argument('--codec', choices=sorted(CODECS), default='PCMU')
    args = p.parse_args()
    Gst.init(None)

    server = GstRtspServer.RTSPOnvifServer()
    server.set_address('127.0.0.1')
    server.set_service('0')

    factory = GstRtspServer.RTSPOnvifMediaFactory()
    factory.set_launch(f'( {VIDEO} )')
    factory.set_backchannel_launch(backchannel_launch(args.codec, args.backchannel_out))
    factory.set_shared(False)
    factory.set_media_gtype(GstRtspServer.RTSPOnvifMedia)

    def on_unprepared(_media):
        print('UNPREPARED', flush=True)

    def on_media_configure(_factory, media):
        media.connect('unprepared', on_unprepared)

    factory.connect('media-configure', on_media_configure)
    server.get_mount_points().add_factory('/backchannel', factory)

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


if __name__ == '__main__':
    sys.exit(main())
