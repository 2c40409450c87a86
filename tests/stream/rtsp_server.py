"""A real RTSP server for the tests: GStreamer's, run by Debian's /usr/bin/python3.

    /usr/bin/python3 rtsp_server.py RAW_FILE WIDTH HEIGHT FPS PORT [PATH]

RAW_FILE holds BGR frames back to back; each client that connects gets them from the
start, H.264-encoded, at FPS, looping. Prints "ready" once it listens.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    raw, width, height, fps, port = sys.argv[1:6]
    path = sys.argv[6] if len(sys.argv) > 6 else "/cam"
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( multifilesrc location={raw} loop=true "
        f"blocksize={int(width) * int(height) * 3} ! "
        f"rawvideoparse width={width} height={height} format=bgr framerate={fps}/1 ! "
        "identity sync=true ! "
        "videoconvert ! video/x-raw,format=I420 ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=5 ! "
        "rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(False)
    server.get_mount_points().add_factory(path, factory)
    if server.attach(None) == 0:
        print("cannot listen", flush=True)
        sys.exit(1)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
