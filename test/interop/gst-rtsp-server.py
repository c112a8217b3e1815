#!/usr/bin/python3
"""GStreamer RTSP server used as a real peer by the interop tests.

Run it with /usr/bin/python3 (the python3 first on PATH may lack `gi`). It binds
127.0.0.1 on a free port, prints `PORT <n>` once listening and runs until SIGTERM,
SIGINT or until its stdin closes, when stdin is a pipe (so it dies with the test process
that spawned it).

  gst-rtsp-server.py [--user U --password P] [--protocols tcp|udp|all]
                     [--session-timeout SECONDS] [--extra NAME=LAUNCH ...] [--unshared]
                     [--multicast FIRST-LAST:PORTMIN-PORTMAX [--multicast-iface IFACE]]
                     [--address ADDRESS]

Mounts (see MOUNTS below; add one there or with --extra): /h264, /h264aac, /aac.
Every payloader must be named pay0, pay1, ... (GstRtspServer's convention).
"""

import argparse
import sys

from gst_common import serve  # first: it sets the GI versions (Gst, GstRtsp, GstRtspServer 1.0)
from gi.repository import Gst, GstRtsp, GstRtspServer  # noqa: E402

VIDEO = ('videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 '
         '! x264enc tune=zerolatency speed-preset=ultrafast bitrate=2000 key-int-max=30 '
         '! rtph264pay name=pay0 pt=96 config-interval=-1')


def audio(pay):
    # avenc_aac + rtpmp4gpay: mpeg4-generic (AAC-hbr), 48 kHz stereo.
    return ('audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=48000,channels=2 '
            f'! audioconvert ! avenc_aac ! rtpmp4gpay name={pay} pt=97')


# name -> launch line. Add mounts here (or at run time with --extra NAME=LAUNCH).
MOUNTS = {
    'h264': VIDEO,
    'h264aac': f'{VIDEO} {audio("pay1")}',
    'aac': audio('pay0'),
}

PROTOCOLS = {
    'tcp': GstRtsp.RTSPLowerTrans.TCP,
    'udp': GstRtsp.RTSPLowerTrans.UDP,
    'all': GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.UDP_MCAST,
}

ROLE = 'user'


def parse_args():
    p = argparse.ArgumentParser(description='GStreamer RTSP test server (127.0.0.1, free port)')
    p.add_argument('--user')
    p.add_argument('--password')
    p.add_argument('--protocols', choices=sorted(PROTOCOLS), default='all')
    p.add_argument('--session-timeout', type=int, default=0,
                   help='session timeout in seconds (0: server default, 60 s)')
    p.add_argument('--extra', action='append', default=[], metavar='NAME=LAUNCH',
                   help='extra mount: path name and launch line (payloaders pay0, pay1, ...)')
    p.add_argument('--seekable', action='append', default=[], metavar='NAME=LAUNCH',
                   help='extra mount left seekable (a file media: PLAY with Range seeks it)')
    p.add_argument('--record', action='append', default=[], metavar='NAME=LAUNCH',
                   help='RECORD mount (push receiver): launch line with depayloaders depay0, depay1, ...')
    p.add_argument('--port', type=int, default=0,
                   help='port to listen on (0: a free one); fixed for restart tests')
    p.add_argument('--multicast', metavar='FIRST-LAST:PORTMIN-PORTMAX',
                   help='serve every mount by multicast only (UDP_MCAST) from this address pool, '
                        'ttl 1, e.g. 239.255.12.1-239.255.12.16:45000-45999')
    p.add_argument('--multicast-iface', default='lo',
                   help='interface the groups are sent on (default lo)')
    p.add_argument('--address', default='127.0.0.1',
                   help='address to listen on (default 127.0.0.1)')
    p.add_argument('--unshared', action='store_true',
                   help='one pipeline per client instead of one shared pipeline per mount')
    a = p.parse_args()
    if (a.user is None) != (a.password is None):
        p.error('--user and --password go together')
    return a


def not_seekable_probe(_pad, info):
    """Fail SEEKING queries, so the media reports itself as not seekable.

    Out of the box a PLAY with `Range: npt=0.000-` (ffmpeg, VLC, rtspsrc) seeks a
    shared live mount back to 0 for every client: timestamps jump and a key frame is
    forced. A media whose seeking query fails is 'not seekable' and skips that seek.
    (Answering the query instead would need a writable query, which PyGObject's extra
    reference prevents.)
    """
    query = info.get_query()
    if query is not None and query.type == Gst.QueryType.SEEKING:
        return Gst.PadProbeReturn.DROP
    return Gst.PadProbeReturn.OK


def on_media_configure(_factory, media):
    for i in range(media.n_streams()):
        pad = media.get_stream(i).get_srcpad()
        if pad is None:  # RECORD mounts have no payloader to probe
            continue
        pad.add_probe(Gst.PadProbeType.QUERY_UPSTREAM, not_seekable_probe)


def address_pool(spec):
    """An RTSPAddressPool from FIRST-LAST:PORTMIN-PORTMAX (a SETUP with multicast takes a group from it)."""
    addresses, _, ports = spec.partition(':')
    first, _, last = addresses.partition('-')
    port_min, _, port_max = ports.partition('-')
    pool = GstRtspServer.RTSPAddressPool()
    if not pool.add_range(first, last or first, int(port_min), int(port_max), 1):
        raise SystemExit(f'bad --multicast {spec!r}')
    return pool


def make_factory(launch, args, permissions, seekable=False):
    f = GstRtspServer.RTSPMediaFactory()
    launch = launch.strip()
    if not launch.startswith('('):
        launch = f'( {launch} )'
    f.set_launch(launch)
    f.set_shared(not args.unshared)
    f.set_protocols(PROTOCOLS[args.protocols])
    if args.multicast is not None:
        f.set_address_pool(address_pool(args.multicast))
        f.set_protocols(GstRtsp.RTSPLowerTrans.UDP_MCAST)
        # GStreamer binds the group's ports without SO_REUSEADDR: a reader on the same
        # host cannot bind them, so multicast tests run this server in a network namespace.
        f.set_multicast_iface(args.multicast_iface)
    # UDP at high bitrates drops packets with default socket buffers (INTEROP.md).
    f.set_buffer_size(4 * 1024 * 1024)
    if not seekable:
        f.connect('media-configure', on_media_configure)
    if permissions is not None:
        f.set_permissions(permissions)
    return f


def main():
    args = parse_args()
    Gst.init(None)

    mounts = dict(MOUNTS)
    for item in args.extra:
        name, sep, launch = item.partition('=')
        if not sep or not name or not launch:
            print(f'bad --extra {item!r}: want NAME=LAUNCH', file=sys.stderr)
            return 2
        mounts[name.strip('/')] = launch

    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))

    permissions = None
    if args.user is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
        # Digest, MD5, no qop; challenges DESCRIBE (not OPTIONS).
        auth.add_digest(args.user, args.password, token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)

    mount_points = server.get_mount_points()
    for name, launch in mounts.items():
        mount_points.add_factory('/' + name, make_factory(launch, args, permissions))
    for item in args.seekable:
        name, _, launch = item.partition('=')
        mount_points.add_factory('/' + name.strip('/'), make_factory(launch, args, permissions, seekable=True))
    for item in args.record:
        name, _, launch = item.partition('=')
        f = make_factory(launch, args, permissions)
        f.set_transport_mode(GstRtspServer.RTSPTransportMode.RECORD)
        mount_points.add_factory('/' + name.strip('/'), f)

    if args.session_timeout > 0:
        def on_new_session(_client, session):
            session.set_timeout(args.session_timeout)

        def on_client_connected(_server, client):
            client.connect('new-session', on_new_session)

        server.connect('client-connected', on_client_connected)

    return serve(server)


if __name__ == '__main__':
    sys.exit(main())
