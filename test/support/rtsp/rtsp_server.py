#!/usr/bin/python3
"""A camera-like RTSP server for tests and benches (GStreamer, 127.0.0.1 only).

The media re-payloads H.264 RTP arriving on a UDP port (fed by `ffmpeg -re -stream_loop -1
... -f rtp`), shared between clients, so it behaves like a live camera: freezing the feeder
freezes the picture while the RTSP session stays up. Prints `READY <rtsp-port>` on stdout
once listening. Run with /usr/bin/python3 (the python first on PATH may lack `gi`).
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0, help="RTSP TCP port; 0 picks a free one")
    ap.add_argument("--udp-port", type=int, required=True, help="UDP port the RTP feed arrives on")
    ap.add_argument("--mount", default="/cam")
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        # A 4 MB socket buffer: I-frames of noisy 1080p arrive as hundreds of datagrams at
        # once and overflowed the 208 kB default (RcvbufErrors, frames lost, fps halved).
        "( udpsrc address=127.0.0.1 port=%d buffer-size=4194304 "
        'caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96" '
        "! rtph264depay ! h264parse config-interval=-1 "
        "! rtph264pay name=pay0 pt=96 config-interval=-1 )" % args.udp_port
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print("ERROR attach failed", flush=True)
        return 2
    loop = GLib.MainLoop()

    def quit_(*_a):
        loop.quit()
        return False

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, quit_)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, quit_)
    # The parent holds our stdin open: when it dies (even by SIGKILL), we go too.
    GLib.io_add_watch(0, GLib.PRIORITY_DEFAULT, GLib.IO_HUP | GLib.IO_ERR | GLib.IO_IN, lambda *_a: quit_())
    print("READY %d" % server.get_bound_port(), flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
