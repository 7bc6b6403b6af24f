"""The social layer around the feed: notifications, trending, share links and discovery.

Pure rules (grouping, ranking, link format, the hint filter) plus the notification store
(``<data>/social/notifications.sqlite``); ``peer/daemon/social.py`` wires them to the bus and
the chain, ``peer/api/social.py`` serves them.
"""
