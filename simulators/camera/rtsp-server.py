"""RTSP test camera for citygrid's simulated ONVIF cameras (gst-rtsp-server through python3-gi).

usage: /usr/bin/python3 rtsp-server.py <port> <mount> [<mount> ...]
Serves a live H.264 test pattern on rtsp://127.0.0.1:<port>/<mount> (TCP only), one pattern per
mount, prints "READY <port>" once listening and runs until SIGTERM/SIGINT. Port 0 picks a free one.
npm RTSP servers fail TCP pulls and bind 0.0.0.0 (STACK.md); gst-rtsp-server does not.
"""
import signal
import sys

import gi

for name in ("Gst", "GstRtspServer", "GstRtsp"):
    gi.require_version(name, "1.0")
from gi.repository import GLib, Gst, GstRtsp  # noqa: E402
from gi.repository import GstRtspServer as R  # noqa: E402

PATTERNS = ["smpte", "ball", "snow", "bar", "pinwheel", "spokes", "gamut", "circular"]


def main() -> None:
    port, mounts = sys.argv[1], sys.argv[2:]
    Gst.init(None)
    server = R.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    for i, mount in enumerate(mounts):
        factory = R.RTSPMediaFactory()
        factory.set_shared(True)
        factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
        factory.set_launch(
            f"( videotestsrc is-live=true pattern={PATTERNS[i % len(PATTERNS)]} ! "
            "video/x-raw,width=640,height=480,framerate=10/1 ! "
            "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! "
            "rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        server.get_mount_points().add_factory("/" + mount, factory)
    if server.attach(None) == 0:
        print("FAILED to listen", flush=True)
        sys.exit(1)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
