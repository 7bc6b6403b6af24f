"""The feed: signed records, their validation, the local index and the gossip service."""
