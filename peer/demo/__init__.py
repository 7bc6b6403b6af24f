"""The demo on ``scripts/run``: a separate creator peer with a token and sample clips.

:mod:`peer.demo.clips` makes the sample clips (cached, at set-up); :mod:`peer.demo.state` records
what the demo creator published and on which chain; :mod:`peer.demo.creator` sets the creator up
through its peer's API; :mod:`peer.demo.launcher` runs the user's peer and the demo peer side by
side and stops both on Ctrl-C.
"""
