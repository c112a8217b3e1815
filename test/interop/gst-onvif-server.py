#!/usr/bin/python3
"""GStreamer's ONVIF RTSP server (RTSPOnvifServer) as a real peer for back-channel and replay tests.

Run it with /usr/bin/python3 (the python3 first on PATH may lack `gi`). It binds
127.0.0.1 on a free port, prints `PORT <n>` once listening, and runs until SIGTERM,
SIGINT or until its stdin (a pipe) closes.

  gst-onvif-server.py [--backchannel-out FILE] [--codec PCMU|PCMA|AAC]

Mounts:
  /backchannel  H.264 video (the camera's stream) and, when DESCRIBE carries
                `Require: www.onvif.org/ver20/backchannel`, an a=sendonly audio track
                whose RTP (G.711 payload 0 or 8 at 8 kHz, or AAC-LC 16 kHz mono as
                RFC 3640 AAC-hbr) is decoded to raw S16LE mono
                8 kHz and written to FILE (unbuffered). `UNPREPARED` is printed when a
                media is torn down, i.e. FILE is complete.
  /replay       ONVIF replay (RTSPOnvifMediaFactory.set_replay_support): accepts
                `Require: onvif-replay`, answers `Rate-Control`, and every RTP packet carries
                the replay header extension (0xABAC) written by gst-plugins-bad's
                rtponviftimestamp. The source is live (videotestsrc): a `Range: clock=` start
                is not sought to; instead the extension's clock starts there (the
                GstOnvifTimestamp event's ntp-offset), as a recorder replaying from that
                instant would stamp it. The element's `cseq` is the PLAY's CSeq.
"""

import argparse
import datetime
import os
import sys

from gst_common import serve  # first: it sets the GI versions (Gst, GstRtsp, GstRtspServer 1.0)
from gi.repository import Gst, GstRtsp, GstRtspServer  # noqa: E402

VIDEO = ('videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1 '
         '! x264enc tune=zerolatency speed-preset=ultrafast bitrate=500 key-int-max=15 '
         '! rtph264pay name=pay0 pt=96 config-interval=-1')

CODECS = {
    # name -> (RTP caps, depayloader ! decoder)
    'PCMU': ('payload=0, clock-rate=8000, encoding-name=PCMU', 'rtppcmudepay ! mulawdec'),
    'PCMA': ('payload=8, clock-rate=8000, encoding-name=PCMA', 'rtppcmadepay ! alawdec'),
    # AAC-LC 16 kHz mono (AudioSpecificConfig 1408), RFC 3640 AAC-hbr.
    'AAC': ('payload=96, clock-rate=16000, encoding-name=MPEG4-GENERIC, streamtype=(string)5, '
            'mode=(string)AAC-hbr, config=(string)1408, sizelength=(string)13, '
            'indexlength=(string)3, indexdeltalength=(string)3',
            'rtpmp4gdepay ! avdec_aac ! audioconvert ! audioresample'),
}


def backchannel_launch(codec, out):
    caps, decode = CODECS[codec]
    # The sink must not wait for preroll (async=false), or the media never prepares
    # (gst_rtsp_onvif_media_factory_set_backchannel_launch).
    return (f'( capsfilter caps="application/x-rtp, media=audio, {caps}" name=depay_backchannel '
            f'! {decode} ! audio/x-raw,format=S16LE,rate=8000,channels=1 '
            f'! filesink location="{out}" buffer-mode=unbuffered async=false sync=false )')


REPLAY = ('videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 '
          '! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 '
          '! rtph264pay pt=96 config-interval=-1 ! rtponviftimestamp name=pay0')

NTP_EPOCH = datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc)


def not_seekable_probe(_pad, info):
    """A live source cannot seek: fail SEEKING queries so a PLAY with Range is not sought."""
    query = info.get_query()
    if query is not None and query.type == Gst.QueryType.SEEKING:
        return Gst.PadProbeReturn.DROP
    return Gst.PadProbeReturn.OK


def clock_start_ns(range_value):
    """`clock=20261201T100000Z-` (RFC 2326 §3.7) -> nanoseconds since 1900 (NTP epoch)."""
    start = range_value[len('clock='):].split('-')[0]
    whole, _, frac = start.rstrip('Z').partition('.')
    dt = datetime.datetime.strptime(whole, '%Y%m%dT%H%M%S').replace(tzinfo=datetime.timezone.utc)
    seconds = int((dt - NTP_EPOCH).total_seconds())
    return seconds * 10**9 + int((frac or '0').ljust(9, '0')[:9])


class Replay:
    """One replay media: the pending clock start, applied before the next buffer."""

    def __init__(self, media):
        self.stamper = media.get_element().get_by_name('pay0')
        self.pending = None
        pad = self.stamper.get_static_pad('sink')
        pad.add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, self.on_data)
        for i in range(media.n_streams()):
            media.get_stream(i).get_srcpad().add_probe(Gst.PadProbeType.QUERY_UPSTREAM, not_seekable_probe)

    def on_data(self, pad, _info):
        # In the streaming thread, which holds the stream lock: sending the serialized event
        # from the RTSP thread instead would wait for it while the media is blocked.
        ns, self.pending = self.pending, None
        if ns is not None:
            st = Gst.Structure.new_from_string(
                f'GstOnvifTimestamp, ntp-offset=(guint64){ns}, discont=(boolean)true')
            pad.send_event(Gst.Event.new_custom(Gst.EventType.CUSTOM_DOWNSTREAM, st))
        return Gst.PadProbeReturn.OK


REPLAYS = {}


def on_replay_configure(_factory, media):
    replay = Replay(media)
    REPLAYS[replay.stamper] = replay


def on_pre_play(_client, ctx):
    stamper = ctx.media.get_element().get_by_name('pay0') if ctx.media is not None else None
    replay = REPLAYS.get(stamper)
    if replay is not None:
        _, cseq = ctx.request.get_header(GstRtsp.RTSPHeaderField.CSEQ, 0)
        _, rng = ctx.request.get_header(GstRtsp.RTSPHeaderField.RANGE, 0)
        _, rate_control = ctx.request.get_header(GstRtsp.RTSPHeaderField.RATE_CONTROL, 0)
        _, immediate = ctx.request.get_header_by_name('Immediate', 0)
        _, require = ctx.request.get_header(GstRtsp.RTSPHeaderField.REQUIRE, 0)
        print(f'PLAY require={require} range={rng} rate-control={rate_control} immediate={immediate}', flush=True)
        if cseq:
            replay.stamper.set_property('cseq', int(cseq))
        if rng and rng.startswith('clock='):
            replay.pending = clock_start_ns(rng)
    return GstRtsp.RTSPStatusCode.OK


def main():
    p = argparse.ArgumentParser(description='GStreamer ONVIF RTSP server with a back-channel (127.0.0.1, free port)')
    p.add_argument('--backchannel-out', default=os.devnull, help='raw S16LE 8 kHz mono file for what the client sends')
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
        # Live: a PLAY with `Range: npt=0.000-` (what clients send) must not seek it; a
        # failing seek of the back-channel's part answers 503.
        for i in range(media.n_streams()):
            pad = media.get_stream(i).get_srcpad()
            if pad is not None:
                pad.add_probe(Gst.PadProbeType.QUERY_UPSTREAM, not_seekable_probe)

    factory.connect('media-configure', on_media_configure)
    server.get_mount_points().add_factory('/backchannel', factory)

    replay = GstRtspServer.RTSPOnvifMediaFactory()
    replay.set_launch(f'( {REPLAY} )')
    replay.set_replay_support(True)
    replay.set_shared(False)
    replay.set_media_gtype(GstRtspServer.RTSPOnvifMedia)
    replay.connect('media-configure', on_replay_configure)
    server.get_mount_points().add_factory('/replay', replay)
    server.connect('client-connected', lambda _s, client: client.connect('pre-play-request', on_pre_play))

    return serve(server)


if __name__ == '__main__':
    sys.exit(main())
