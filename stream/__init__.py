"""The live service: camera sources, the per-camera runner, the detection/embedding
pipeline, tracking, storing, metrics and the HTTP app (``platewatch serve``, ``demo``).

Frames flow camera source -> CameraRunner (sampling, motion gate, drop-oldest queue) ->
FrameScheduler -> Pipeline (detect threads, batched embedding) -> Tracker -> store writer
-> ``on_sighting`` hooks. stream.api holds the HTTP API's routes, stream.alerts and
stream.watchlist the alerting.
"""
