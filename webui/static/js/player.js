// Rendition choice and bandwidth estimation for the feed player (pure, no DOM access).

/** Median of the last few download-rate samples, in bits per second. */
export class BandwidthMeter {
  constructor(window = 5) {
    this.window = window;
    this.samples = [];
  }

  /** Record that `bytes` arrived in `seconds`; tiny samples say nothing and are skipped. */
  record(bytes, seconds) {
    if (!(bytes > 64 * 1024) || !(seconds > 0.05)) return;
    this.samples.push((bytes * 8) / seconds);
    if (this.samples.length > this.window) this.samples.shift();
  }

  /** Estimated bits per second, or null before any sample. */
  estimate() {
    if (!this.samples.length) return null;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }
}

/**
 * The rendition to play: the smallest whose height covers the viewport's device pixels, among
 * those whose bitrate fits 80 % of the measured bandwidth (all of them before any measurement);
 * when none fits, the lowest bitrate. `canPlay(mime, codecs)` filters what the browser can decode.
 */
export function chooseRendition(
  renditions,
  { viewportHeight, dpr = 1, bandwidth = null, canPlay = () => true },
) {
  const playable = (renditions ?? []).filter((r) => canPlay(r.mime, r.codecs));
  if (!playable.length) return null;
  const byHeight = [...playable].sort((a, b) => a.height - b.height || a.bitrate - b.bitrate);
  const affordable = bandwidth ? byHeight.filter((r) => r.bitrate <= bandwidth * 0.8) : byHeight;
  if (!affordable.length) {
    return [...playable].sort((a, b) => a.bitrate - b.bitrate)[0];
  }
  const target = viewportHeight * dpr;
  return affordable.find((r) => r.height >= target) ?? affordable[affordable.length - 1];
}

/** Whether a <video> element can play a rendition ("maybe" counts; "" does not). */
export function browserCanPlay(video) {
  return (mime, codecs) => {
    const type = codecs ? `${mime}; codecs="${codecs}"` : mime;
    return video.canPlayType(type) !== "" || video.canPlayType(mime) !== "";
  };
}
