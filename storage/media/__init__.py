"""The media pipeline: turn an input video into a pinned clip manifest.

Modules, in pipeline order:

* :mod:`~storage.media.sniff` recognises the container from the file's bytes;
* :mod:`~storage.media.tools` runs ffmpeg / ffprobe hardened (argument lists, explicit demuxer,
  ``-protocol_whitelist file``, bounded probing, timeouts, kill on cancel);
* :mod:`~storage.media.probe` validates an input (specific error for every rejection);
* :mod:`~storage.media.ladder` plans the vertical renditions (pure);
* :mod:`~storage.media.transcode` produces renditions and the poster in one ffmpeg run;
* :mod:`~storage.media.mp4info` verifies fast start and reads the codecs strings (pure);
* :mod:`~storage.media.manifest` encodes and strictly decodes clip manifests (pure);
* :mod:`~storage.media.pipeline` ties it together with the ``ContentStore`` port, premium
  encryption (:mod:`storage.crypto`) and the clip-key store (:mod:`storage.clipkeys`);
* :mod:`~storage.media.samples` makes synthetic clips for tests, benchmarks and the demo.

Errors: :mod:`storage.media.errors`.
"""
